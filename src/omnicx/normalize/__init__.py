"""Bring raw identifiers and timestamps into one canonical form.

* :func:`normalize_email`: email-validator syntax check, IDNA domain, case folding;
* :func:`normalize_phone`: phonenumbers → E.164, cheap for canonical and repeated values;
* :func:`normalize_platform_id`: PSIDs, IGSIDs, BSUIDs … validated and scoped;
* :func:`normalize_identifier`: any of the above by kind, as an :class:`~omnicx.models.Identifier`;
* :func:`normalize_timestamp`: ISO-8601, RFC 5322, Unix s/ms → aware UTC.

All raise :class:`~omnicx.errors.NormalizationError` (a ``ValueError``) on bad input.
"""

from omnicx.normalize._email import normalize_email
from omnicx.normalize._phone import normalize_phone
from omnicx.normalize._platform import normalize_identifier, normalize_platform_id
from omnicx.normalize._time import normalize_timestamp

__all__ = [
    "normalize_email",
    "normalize_identifier",
    "normalize_phone",
    "normalize_platform_id",
    "normalize_timestamp",
]
