"""``import omnicx`` has no side effects: it opens no data file and scans no plugin.

pydantic itself reads its own plugin entry points when the first model class is
built; that read is pydantic's, not omnicx's, and is told apart by the caller frame.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_import_opens_no_file_but_modules() -> None:
    script = textwrap.dedent(
        """
        import sys
        opened = []
        def hook(event, args):
            if event == "open" and isinstance(args[0], str):
                # who asked? the innermost frame outside the standard library
                frame = sys._getframe(1)
                while frame and "/lib/python3" in frame.f_code.co_filename and "site-packages" not in frame.f_code.co_filename:
                    frame = frame.f_back
                if frame is None or "<frozen" in frame.f_code.co_filename or "/omnicx/" in frame.f_code.co_filename:
                    opened.append(args[0])
        sys.addaudithook(hook)
        import omnicx
        bad = [p for p in opened if not p.endswith((".py", ".pyc", ".so", ".pth", ".zip"))
               and "__pycache__" not in p and not p.endswith(("/", "site-packages"))]
        import os
        bad = [p for p in bad if not os.path.isdir(p)]
        print("\\n".join(bad))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", result.stdout


def test_version_is_a_string() -> None:
    import omnicx

    assert isinstance(omnicx.__version__, str)
    assert omnicx.__version__[0].isdigit()
