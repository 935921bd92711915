"""Every Python block in the README and docs runs, and the quickstart example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(blocks(page), start=1):
        try:
            # dont_inherit: this module's `from __future__ import annotations` must not leak into the
            # page's code, where it would leave pydantic models with unresolvable string annotations
            exec(compile(code, f"{page.name}#block{number}", "exec", dont_inherit=True), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{page.relative_to(ROOT)} block {number} failed: {exc!r}")


def test_some_pages_have_code() -> None:
    assert sum(len(blocks(p)) for p in PAGES) >= 5


def test_quickstart_example_prints_real_output() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")], capture_output=True, text=True, check=True
    )
    out = result.stdout
    assert "phone:+16505551234" in out  # the WhatsApp wa_id 16505551234 became E.164
    assert "email:xxx@gmail.com" in out
    assert "telegram_user_id:1111111" in out
    assert "'Hello'" in out  # the Gmail reply without its quoted part
