"""Every ``python`` code block of the identity guide runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "identity.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def test_the_guide_has_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS)
def test_guide_example_runs(code: str) -> None:
    exec(compile(code, str(GUIDE), "exec"), {})


def test_the_toml_policy_of_the_guide_loads() -> None:
    from omnicx.identity import MergePolicy

    toml = re.findall(r"```toml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)[0]
    policy = MergePolicy.from_toml(toml)
    assert policy.limits == {"email": 5, "phone": 2}
    compiled = policy.compile()
    assert compiled.blocked("phone", "+14155238801", "phone:+14155238801") is not None
    assert compiled.blocked("email", "help@myshop.com", "email:help@myshop.com") == "host identifier"
