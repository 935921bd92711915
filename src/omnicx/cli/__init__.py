"""The ``omnicx`` command line.

``omnicx resolve INPUT.jsonl --output OUT.csv``: batch identity resolution.
Each subcommand lives in its own private module exposing ``configure(parser)``
and ``run(args) -> int``; add one by naming it in ``omnicx.cli._main.COMMANDS``.
"""

from omnicx.cli._main import main

__all__ = ["main"]
