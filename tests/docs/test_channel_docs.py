"""Every Python block of the channel docs runs, in order, as a reader would paste it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["guides/writing-a-channel-adapter.md", "reference/webchat-protocol.md"]


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{page} has no python block"
    namespace: dict[str, object] = {"__name__": f"docs_{page.replace('/', '_')}"}
    for block in blocks:
        exec(compile(block, page, "exec", dont_inherit=True), namespace)


def test_guide_contract_example_passes_the_kit(pytester: pytest.Pytester) -> None:
    """The guide's TestAcmeChat, collected by pytest, passes every check."""
    text = (DOCS / "guides/writing-a-channel-adapter.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    pytester.makepyfile(test_acme="\n".join(blocks))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()[-3000:]
    assert outcomes["passed"] >= 12


pytest_plugins = ["pytester"]
