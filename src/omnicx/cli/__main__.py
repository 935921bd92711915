"""``python -m omnicx.cli``: the same as the ``omnicx`` command."""

from omnicx.cli import main

raise SystemExit(main())
