"""normalize_timestamp refuses absurd numeric fields with NormalizationError, not a decimal error.

Found by the Twilio Voice adapter's mutation tests: dateutil raised decimal.InvalidOperation
for a minute field thousands of digits long.
"""

from __future__ import annotations

import pytest

from omnicx.errors import NormalizationError
from omnicx.normalize import normalize_timestamp


@pytest.mark.parametrize(
    "text",
    [
        "Tue, 24 Nov 2026 10:1" + "0" * 5000 + "5:42 +0000",
        "2026-11-24 10:" + "9" * 400 + " +00:00",
    ],
)
def test_huge_numeric_fields_are_a_normalization_error(text: str) -> None:
    with pytest.raises(NormalizationError):
        normalize_timestamp(text)
