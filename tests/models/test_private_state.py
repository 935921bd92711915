"""Frozen models refuse field assignment but let a model keep private state (a lazy cache)."""

from __future__ import annotations

import pytest
from pydantic import PrivateAttr

from omnicx.errors import ValidationError
from omnicx.models import OmnicxModel


class Cached(OmnicxModel):
    value: int
    _cache: int | None = PrivateAttr(default=None)


def test_private_attributes_can_be_set_fields_cannot() -> None:
    item = Cached(value=1)
    item._cache = 42
    assert item._cache == 42
    with pytest.raises(ValidationError, match="frozen"):
        item.value = 2  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        item.other = 3
