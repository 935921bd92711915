"""The merge policy: which links may join two identifiers into one customer.

The policy is data (a frozen pydantic model, loadable from JSON or TOML,
versioned by ``version``). The engine compiles it once into :class:`CompiledPolicy`
(plain Python sets and compiled regular expressions) and consults only that in
the hot path.

Rules, in the order the engine applies them to a link ``a — b``:

1. ``kind == suggested`` or assurance below ``min_assurance``: recorded as a
   *suggestion*, never merges;
2. ``a`` or ``b`` is on the blocklist (exact value or regular expression, matched
   after normalization): refused, ``blocked``;
3. ``a`` or ``b`` is *quarantined* (hot): it co-occurs with more distinct
   identifiers of some kind than one person plausibly has
   (``quarantine[kind]``), so it is a shared attribute, not a person's
   endpoint: refused, ``quarantined``;
4. the merge would put more than ``limits[kind]`` identifiers of a kind in one
   customer (``unique_kinds`` have a limit of 1), or two identifiers under a
   never-link rule: refused, ``limit`` / ``unique`` / ``never_link``.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import attrs
from pydantic import Field, StringConstraints, field_validator

from omnicx.errors import ConfigurationError, NormalizationError
from omnicx.models import Assurance
from omnicx.models._base import OmnicxModel

__all__ = [
    "DEFAULT_BLOCKLIST",
    "DEFAULT_LIMITS",
    "DEFAULT_QUARANTINE",
    "Blocklist",
    "CompiledPolicy",
    "MergePolicy",
]

Kind = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]{0,39})$")]
"""An identifier kind, or ``*`` for every kind."""


class Blocklist(OmnicxModel):
    """Junk identifier values that never link anyone.

    ``exact`` and ``patterns`` map an identifier kind (or ``*`` for every kind)
    to values. Exact values are compared with the *normalized* value
    (``noreply@example.com``, ``+10000000000``); give emails and phones in any
    raw form, they are normalized when the policy is compiled (one that no identifier could
    have is a :class:`~omnicx.errors.ConfigurationError`; a ``*`` value is read as written, as
    an email and as a phone). Patterns are Python regular expressions matched with
    ``re.fullmatch`` against the normalized value, case-insensitively.
    """

    exact: dict[Kind, tuple[str, ...]] = Field(default_factory=dict)
    patterns: dict[Kind, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("patterns")
    @classmethod
    def _compilable(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for kind, items in value.items():
            for pattern in items:
                try:
                    re.compile(pattern)
                except (re.error, OverflowError, RecursionError) as exc:  # a{99999999999}, deep nesting
                    raise ValueError(
                        f"blocklist pattern {pattern!r} for {kind} does not compile: {exc}"
                    ) from exc
        return value

    def merged(self, other: Blocklist) -> Blocklist:
        """A blocklist holding the entries of both."""

        def join(x: dict[str, tuple[str, ...]], y: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
            out = dict(x)
            for kind, items in y.items():
                out[kind] = tuple(dict.fromkeys((*out.get(kind, ()), *items)))
            return out

        return Blocklist(exact=join(self.exact, other.exact), patterns=join(self.patterns, other.patterns))


DEFAULT_BLOCKLIST = Blocklist(
    exact={
        "email": (
            "test@test.com",
            "test@gmail.com",
            "a@a.com",
            "abc@abc.com",
            "none@none.com",
            "na@na.com",
            "no@no.com",
            "no@email.com",
            "noemail@noemail.com",
            "email@email.com",
            "user@domain.com",
            "asdf@asdf.com",
        ),
    },
    patterns={
        "email": (
            # automated senders: noreply, no-reply, donotreply, do-not-reply, mailer-daemon
            r"(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon)([+.\-_].*)?@.*",
            # postmaster and bounce addresses, with a VERP tag (bounces+tag@, bounce-123@); not
            # bounce.house@ or postmaster.general@, which name people and shops
            r"(postmaster|bounces?)([+\-].*)?@.*",
            # RFC 2606 / RFC 6761 reserved names: never a real mailbox
            r".*@(.*\.)?(example\.(com|net|org)|example|test|invalid|localhost)",
            # placeholder local parts on any domain
            r"(test|none|null|nobody|noemail|no\.?email|unknown|anonymous|n/a|xxx+)@.*",
        ),
        "phone": (
            # the same digit seven or more times at the end: +10000000000, +15555555555
            r"\+\d*?(\d)\1{6,}",
            # ascending or descending runs after the first digit (a country code's, which would
            # make every +1 234 567 xxxx a run): +11234567890, +10123456789, +19876543210
            r"\+\d+(0123456|1234567|2345678|3456789|9876543|8765432|7654321|6543210)\d*",
            # North American fictional range 555-0100 … 555-0199
            r"\+1\d{3}55501\d{2}",
        ),
        "*": (r"(null|none|undefined|nil|nan|anonymous|unknown|guest|test|n/?a|-+|0+|x+)",),
    },
)
"""The documented default blocklist (see docs/guides/identity.md)."""

DEFAULT_PATTERNS_RE2: dict[str, str] = {
    r"\+\d*?(\d)\1{6,}": r"\+[0-9]*(?:0{7,}|1{7,}|2{7,}|3{7,}|4{7,}|5{7,}|6{7,}|7{7,}|8{7,}|9{7,})",
}
"""The default patterns RE2 (DuckDB's regex engine) cannot read as they are, rewritten without
the back-reference: on ASCII text each form fully matches exactly what its pattern does
(``omnicx resolve``'s DuckDB engine checks the default blocklist in SQL; the other default
patterns are RE2 as written)."""

DEFAULT_QUARANTINE: dict[str, int] = {
    "email": 3,
    "phone": 3,
    "messenger_psid": 3,
    "instagram_igsid": 3,
    "chat_visitor": 4,
    "whatsapp_bsuid": 2,
    "telegram_user_id": 2,
    "*": 4,
}
"""Default quarantine thresholds: an identifier seen with *more* than this many
distinct identifiers of the kind is a shared attribute. Chosen from data: in the
benchmark generator a real person's identifier co-occurs with at most 3 emails,
3 phones (two own + one family), 1 PSID and 2 chat visitors; junk and
household identifiers exceed these (docs/guides/identity.md shows the numbers)."""


DEFAULT_LIMITS: dict[str, int] = {"email": 5, "phone": 2}
"""Default per-customer limits. ``phone: 2``: a merge that would give one customer a
third phone is refused; in the benchmark data that third number is almost always a
household line joining two people (raising it to 3 costs 0.0003 pair precision).
Hosts whose customers are businesses with many numbers should raise it."""


class MergePolicy(OmnicxModel):
    """What may merge two identifiers into one customer (see the module docstring).

    Load one with :meth:`from_json`, :meth:`from_toml` or :meth:`from_file`;
    every field has a documented default, so ``MergePolicy()`` is a sensible policy.
    """

    version: Literal[1] = 1
    blocklist: Blocklist = Blocklist()
    """The host's own junk values, added to the defaults (unless ``use_default_blocklist`` is false)."""
    use_default_blocklist: bool = True
    host_identifiers: tuple[Annotated[str, StringConstraints(min_length=3, max_length=600)], ...] = ()
    """The host's own support addresses and numbers as ``kind:value`` (``email:help@shop.com``,
    ``phone:+14155550100``): they appear beside every customer and must link none."""
    phone_region: str | None = "US"
    """The region (ISO 3166, such as ``"GB"``) in which a national phone number written in this
    policy, in ``blocklist.exact`` or ``host_identifiers``, is read: ``020 7946 0000`` is
    ``+442079460000`` under ``"GB"``. ``None`` reads international forms only."""
    limits: dict[Kind, Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: dict(DEFAULT_LIMITS))
    """At most this many identifiers of a kind in one customer (see :data:`DEFAULT_LIMITS`)."""
    unique_kinds: tuple[Kind, ...] = ("external_id",)
    """Kinds of which one customer holds at most one value (limit 1, quarantine threshold 1)."""
    quarantine: dict[Kind, Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_QUARANTINE)
    )
    """Hot-identifier thresholds per co-occurring kind (``*`` for kinds not listed)."""
    quarantine_enabled: bool = True
    min_assurance: Assurance = Assurance.ASSERTED
    """Links below this assurance are recorded as suggestions and never merge."""

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        import phonenumbers

        if value is None:
            return None
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                f"phone_region {value!r} is not a region phonenumbers knows; use an ISO 3166 code such as 'US'"
            )
        return value.upper()

    @field_validator("limits", "unique_kinds")
    @classmethod
    def _per_kind(cls, value: Any) -> Any:
        if "*" in value:  # a dict's keys or a tuple's items
            raise ValueError(
                "'*' (every kind) is for quarantine and the blocklist; name each kind a limit or "
                "uniqueness applies to"
            )
        return value

    @classmethod
    def from_json(cls, text: str | bytes) -> MergePolicy:
        """Parse a policy from JSON. Raises :class:`~omnicx.errors.ConfigurationError` when invalid."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError, TypeError, RecursionError) as exc:
            raise ConfigurationError(f"the merge policy is not valid JSON: {exc}") from exc
        return cls._validated(data)

    @classmethod
    def from_toml(cls, text: str) -> MergePolicy:
        """Parse a policy from TOML. Raises :class:`~omnicx.errors.ConfigurationError` when invalid."""
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, TypeError, AttributeError, RecursionError) as exc:
            raise ConfigurationError(f"the merge policy is not valid TOML: {exc}") from exc
        return cls._validated(data)

    @classmethod
    def from_file(cls, path: str | Path) -> MergePolicy:
        """Read a policy from a ``.json`` or ``.toml`` file (told apart by the suffix).

        Raises :class:`~omnicx.errors.ConfigurationError` when the file cannot be read or is invalid.
        """
        try:
            path = Path(path)
            if "\0" in str(path):
                raise ConfigurationError(f"merge policy path {str(path)!r} holds a NUL character")
        except TypeError as exc:
            raise ConfigurationError(f"a merge policy file is a path, got {type(path).__name__}") from exc
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read the merge policy {str(path)!r}: {exc}") from exc
        if path.suffix.lower() == ".toml":
            return cls.from_toml(text)
        if path.suffix.lower() == ".json":
            return cls.from_json(text)
        raise ConfigurationError(
            f"merge policy {str(path)!r}: name it *.json or *.toml so its format is known"
        )

    @classmethod
    def _validated(cls, data: Any) -> MergePolicy:
        if isinstance(data, dict) and "version" in data and data["version"] != 1:
            raise ConfigurationError(
                f"merge policy version {data['version']!r} is not supported by this omnicx; it reads version 1"
            )
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise ConfigurationError(f"the merge policy is invalid: {exc}") from exc

    def compile(self) -> CompiledPolicy:
        """The engine's fast form of this policy. Raises ConfigurationError on bad entries.

        The policy is frozen, so the form is kept for the few policies compiled last (an engine
        rebuilt per request, as the hub does, would otherwise compile its regexes each time)."""
        held = _COMPILED.get(id(self))
        if held is not None and held[0] is self:
            return held[1]
        compiled = CompiledPolicy.build(self)
        with _COMPILED_LOCK:
            while len(_COMPILED) >= _COMPILED_KEPT:
                del _COMPILED[next(iter(_COMPILED))]
            _COMPILED[id(self)] = (self, compiled)  # the policy itself is held: its id is not reused
        return compiled


_COMPILED: dict[int, tuple[MergePolicy, CompiledPolicy]] = {}
"""The last policies compiled, by identity (see :meth:`MergePolicy.compile`)."""
_COMPILED_KEPT = 8
_COMPILED_LOCK = threading.Lock()


@attrs.define(slots=True)
class CompiledPolicy:
    """The policy as plain sets, dicts and compiled regexes (engine internal)."""

    exact: dict[str, frozenset[str]]
    patterns: dict[str, tuple[re.Pattern[str], ...]]
    host: frozenset[str]
    limits: dict[str, int]
    unique: frozenset[str]
    thresholds: dict[str, int]
    default_threshold: int | None
    min_assurance_rank: int
    _rules: dict[str, tuple[frozenset[str], tuple[re.Pattern[str], ...]]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )

    @classmethod
    def build(cls, policy: MergePolicy) -> CompiledPolicy:
        blocklist = (
            DEFAULT_BLOCKLIST.merged(policy.blocklist) if policy.use_default_blocklist else policy.blocklist
        )
        exact: dict[str, frozenset[str]] = {}
        for kind, values in blocklist.exact.items():
            exact[kind] = frozenset(f for v in values for f in _exact_forms(kind, v, policy.phone_region))
        patterns = {
            kind: tuple(re.compile(p, re.IGNORECASE) for p in items)
            for kind, items in blocklist.patterns.items()
        }
        host = frozenset(_host_key(text, policy.phone_region) for text in policy.host_identifiers)
        limits = dict(policy.limits)
        thresholds: dict[str, int] = {}
        default: int | None = None
        if policy.quarantine_enabled:
            thresholds = {k: v for k, v in policy.quarantine.items() if k != "*"}
            default = policy.quarantine.get("*")
        for kind in policy.unique_kinds:
            limits[kind] = 1
            if policy.quarantine_enabled:
                thresholds[kind] = 1
        return cls(
            exact=exact,
            patterns=patterns,
            host=host,
            limits=limits,
            unique=frozenset(policy.unique_kinds),
            thresholds=thresholds,
            default_threshold=default,
            min_assurance_rank=policy.min_assurance.rank,
        )

    def blocked(self, kind: str, value: str, key: str) -> str | None:
        """Why ``kind:value`` is junk (``None`` when it is not)."""
        if key in self.host:
            return "host identifier"
        for k in (kind, "*"):
            values = self.exact.get(k)
            if values is not None and value in values:
                return f"blocklisted value ({k})"
            for pattern in self.patterns.get(k, ()):
                if pattern.fullmatch(value):
                    return f"blocklist pattern {pattern.pattern!r}"
        return None

    def is_blocked(self, kind: str, value: str, key: str) -> bool:
        """``blocked(kind, value, key) is not None``, faster: the kind's exact values and
        patterns are gathered once, and its patterns joined into one regex where that is safe."""
        rules = self._rules.get(kind)
        if rules is None:
            rules = self._rules[kind] = _block_rules(self, kind)
        exact, patterns = rules
        if value in exact or key in self.host:
            return True
        for pattern in patterns:  # noqa: SIM110 - a loop costs less than any() over a generator here
            if pattern.fullmatch(value):
                return True
        return False

    def threshold(self, kind: str) -> int | None:
        """The quarantine threshold for co-occurring identifiers of ``kind``."""
        return self.thresholds.get(kind, self.default_threshold)


_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(|\(\?[a-zA-Z]")


def _block_rules(policy: CompiledPolicy, kind: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """The exact values and patterns that block ``kind`` (its own and those for every kind).

    Patterns are joined into one alternation (one ``fullmatch`` instead of one per
    pattern: a value fully matches ``(?:a)|(?:b)`` exactly when it fully matches ``a``
    or ``b``); a pattern with a back-reference, a conditional or inline flags keeps
    its own regex, as joining would renumber its groups or move its flags.
    """
    exact = frozenset().union(*(policy.exact.get(k, ()) for k in (kind, "*")))
    patterns = [p for k in (kind, "*") for p in policy.patterns.get(k, ())]
    alone = [p for p in patterns if _GROUP_REFERENCE.search(p.pattern) or p.flags != patterns[0].flags]
    joinable = [p for p in patterns if p not in alone]
    if len(joinable) > 1:
        try:
            joined = re.compile("|".join(f"(?:{p.pattern})" for p in joinable), joinable[0].flags)
        except re.error:
            return exact, tuple(patterns)
        return exact, (joined, *alone)
    return exact, tuple(patterns)


def _exact_forms(kind: str, value: str, region: str | None) -> set[str]:
    """What an exact blocklist value of ``kind`` is compared with: its normalized value; for
    ``*`` (compared with every kind's) the value stripped and its readings as an email and as a
    phone. Raises ConfigurationError for an email or phone that no identifier could have: it
    would block nothing."""
    if kind == "*":
        forms = {value.strip()}
        for reading in ("email", "phone"):
            with contextlib.suppress(NormalizationError):
                forms.add(_strictly_normalized(reading, value, region))
        return forms
    try:
        return {_strictly_normalized(kind, value, region)}
    except NormalizationError as exc:
        raise ConfigurationError(
            f"blocklist value {value!r} is no {kind} omnicx can read, so it would block nothing"
            + (f" (national phones are read in phone_region {region})" if kind == "phone" else "")
            + f": {exc}"
        ) from exc


def _strictly_normalized(kind: str, value: str, region: str | None) -> str:
    """An email or phone value normalized (a national phone read in ``region``), any other
    kind's value stripped. Raises NormalizationError for an email or phone no identifier could
    have."""
    from omnicx.normalize import normalize_email, normalize_phone

    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value, region=region)
    return value.strip()


def _host_key(text: str, region: str | None) -> str:
    from omnicx.models import Identifier

    kind, sep, value = text.partition(":")
    if not sep:
        raise ConfigurationError(
            f"host identifier {text!r}: write it as kind:value, e.g. email:help@shop.com"
        )
    if kind in ("email", "phone"):
        try:
            return f"{kind}:{_strictly_normalized(kind, value, region)}"
        except NormalizationError as exc:  # it could never match a normalized identifier
            raise ConfigurationError(f"host identifier {text!r} is no {kind} omnicx can read: {exc}") from exc
    try:
        return Identifier.parse(text).key
    except ValueError as exc:
        raise ConfigurationError(f"host identifier {text!r} is invalid: {exc}") from exc
