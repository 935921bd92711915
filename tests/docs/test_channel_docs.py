"""The guide's example contract test, collected by a real pytest run, passes every check.

(tests/test_docs.py runs every Python block of the docs; this adds the pytest run.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"

pytest_plugins = ["pytester"]


def test_guide_contract_example_passes_the_kit(pytester: pytest.Pytester) -> None:
    text = (DOCS / "guides/writing-a-channel-adapter.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    pytester.makepyfile(test_acme="\n".join(blocks))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()[-3000:]
    assert outcomes["passed"] >= 12
