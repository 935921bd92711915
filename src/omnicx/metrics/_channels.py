"""Tables that are not one number per group: channel mix and returning customers."""

from __future__ import annotations

import inspect
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from omnicx.metrics._classify import Role, turns
from omnicx.metrics._compute import checked_records
from omnicx.metrics._options import Attribution, KpiOptions, Period
from omnicx.metrics._records import ConversationRecord
from omnicx.metrics._results import rows_to_csv, rows_to_pandas
from omnicx.metrics._stats import period_of
from omnicx.models._base import OmnicxModel

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "CHANNEL_MIX",
    "RETURNING_CUSTOMERS",
    "ChannelMix",
    "ChannelMixRow",
    "ChannelMixTable",
    "ReturningCustomers",
    "ReturningCustomersRow",
    "ReturningCustomersTable",
    "channel_mix",
    "returning_customers",
]


class ChannelMixRow(OmnicxModel):
    """Customer contacts on one channel in one period (``None`` = not grouped by period)."""

    attribution: Attribution
    period: str | None
    period_start: date | None
    channel: str
    contacts: int
    share: float
    """contacts / all contacts of the period."""


class ReturningCustomersRow(OmnicxModel):
    """Customers who started a conversation in a period, and how many had come before."""

    period: str
    period_start: date
    customers: int
    new_customers: int
    returning_customers: int
    returning_share: float
    """returning_customers / customers."""


class ChannelMixTable(OmnicxModel):
    """Rows of :func:`channel_mix`, with CSV and pandas renderings."""

    rows: tuple[ChannelMixRow, ...]

    def to_csv(self) -> str:
        """The rows as CSV text with a header."""
        return rows_to_csv(self.rows)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a DataFrame; raises :class:`omnicx.ConfigurationError` without pandas."""
        return rows_to_pandas(self.rows, list(ChannelMixRow.model_fields))


class ReturningCustomersTable(OmnicxModel):
    """Rows of :func:`returning_customers`, with CSV and pandas renderings."""

    rows: tuple[ReturningCustomersRow, ...]

    def to_csv(self) -> str:
        """The rows as CSV text with a header."""
        return rows_to_csv(self.rows)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a DataFrame; raises :class:`omnicx.ConfigurationError` without pandas."""
        return rows_to_pandas(self.rows, list(ReturningCustomersRow.model_fields))


class _Table:
    name: ClassVar[str]
    version: ClassVar[int] = 1

    @property
    def formula(self) -> str:
        """The definition's docstring."""
        return inspect.cleandoc(type(self).__doc__ or "")

    def __repr__(self) -> str:
        return f"<KPI table {self.name} v{self.version}>"


class ChannelMix(_Table):
    """Channel mix: the share of customer contacts made on each channel.

    share(channel) = customer contacts on the channel / all customer contacts

    A customer contact is an inbound, non-automated customer message (not a bare
    reaction) or an inbound call (once per call), as in ``first_response_time``.
    With a period, shares are per period; a contact falls in the period of its own
    time (``event_time``) or of its conversation's start (``conversation_start``).
    """

    name = "channel_mix"

    def compute(
        self, records: Iterable[ConversationRecord], options: KpiOptions | None = None
    ) -> ChannelMixTable:
        """The channel mix of ``records`` (rows by period, then channel)."""
        options = options or KpiOptions()
        zone = ZoneInfo(options.timezone)
        counts: dict[tuple[str | None, date | None], Counter[str]] = defaultdict(Counter)
        for record in checked_records(records):
            for turn in turns(record.interactions):
                if turn.role is not Role.CONTACT:
                    continue
                key: tuple[str | None, date | None] = (None, None)
                if options.period is not None:
                    start = record.conversation.opened_at
                    moment = start if options.attribution == "conversation_start" else turn.at
                    key = period_of(moment, options.period, zone)
                counts[key][turn.channel] += 1
        rows = []
        for key in sorted(counts, key=lambda k: k[1] or date.min):
            total = sum(counts[key].values())
            for channel, n in sorted(counts[key].items()):
                rows.append(
                    ChannelMixRow(
                        attribution=options.attribution,
                        period=key[0],
                        period_start=key[1],
                        channel=channel,
                        contacts=n,
                        share=n / total,
                    )
                )
        return ChannelMixTable(rows=tuple(rows))


class ReturningCustomers(_Table):
    """Returning customers per period.

    customers(P) = customers who started a conversation in period P
    returning(P) = those of them who had started a conversation before P began
    returning_share(P) = returning(P) / customers(P)

    A conversation starts at its first customer contact (at ``opened_at`` when it
    has none); periods are days, ISO weeks or months in the options' time zone
    (month when the options name none).
    """

    name = "returning_customers"

    def compute(
        self, records: Iterable[ConversationRecord], options: KpiOptions | None = None
    ) -> ReturningCustomersTable:
        """Returning customers of ``records``, one row per period with a conversation start."""
        options = options or KpiOptions()
        period: Period = options.period or "month"
        zone = ZoneInfo(options.timezone)
        first_start: dict[str, datetime] = {}
        active: dict[tuple[str, date], set[str]] = defaultdict(set)
        for record in checked_records(records):
            contact = next((t.at for t in turns(record.interactions) if t.role is Role.CONTACT), None)
            start = contact or record.conversation.opened_at
            customer = record.customer_id
            if customer not in first_start or start < first_start[customer]:
                first_start[customer] = start
            active[period_of(start, period, zone)].add(customer)
        rows = []
        for (label, first_day), customers in sorted(active.items(), key=lambda kv: kv[0][1]):
            returning = sum(1 for c in customers if first_start[c].astimezone(zone).date() < first_day)
            rows.append(
                ReturningCustomersRow(
                    period=label,
                    period_start=first_day,
                    customers=len(customers),
                    new_customers=len(customers) - returning,
                    returning_customers=returning,
                    returning_share=returning / len(customers),
                )
            )
        return ReturningCustomersTable(rows=tuple(rows))


CHANNEL_MIX = ChannelMix()
RETURNING_CUSTOMERS = ReturningCustomers()


def channel_mix(records: Iterable[ConversationRecord], options: KpiOptions | None = None) -> ChannelMixTable:
    """:data:`CHANNEL_MIX` computed over ``records`` (see :class:`ChannelMix`)."""
    return CHANNEL_MIX.compute(records, options)


def returning_customers(
    records: Iterable[ConversationRecord], options: KpiOptions | None = None
) -> ReturningCustomersTable:
    """:data:`RETURNING_CUSTOMERS` computed over ``records`` (see :class:`ReturningCustomers`)."""
    return RETURNING_CUSTOMERS.compute(records, options)
