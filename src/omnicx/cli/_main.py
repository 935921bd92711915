"""Argument parsing and dispatch for the ``omnicx`` command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from omnicx._version import __version__
from omnicx.errors import OmnicxError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: dict[str, str] = {
    "demo": "omnicx.cli._demo",
    "kpis": "omnicx.cli._kpis",
    "report": "omnicx.cli._report",
    "resolve": "omnicx.cli._resolve",
}
"""Subcommand name → module with ``HELP``, ``configure(parser)`` and ``run(args) -> int``."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="omnicx", description="omnicx: one customer history across channels."
    )
    parser.add_argument("--version", action="version", version=f"omnicx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        child = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.configure(child)
        child.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``omnicx`` command; returns the exit status (0 ok, 1 refused input, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args._run(args)
    except OmnicxError as exc:
        print(f"omnicx {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"omnicx {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of standard output went away (`omnicx resolve … -o - | head`): stop quietly,
        # and keep Python from complaining again when it flushes standard output at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status
