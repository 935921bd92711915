"""KPIs computed from conversations, the same whichever channel the customer used.

Pure: no storage, no network. Build :class:`ConversationRecord`\\ s (one per
conversation, e.g. with :func:`records_from_threading`), then::

    report = compute_kpis(records, KpiOptions(period="week", group_by=("channel",)))
    print(report.format_table())
    report.to_csv()

Every KPI is a named, versioned definition (:data:`KPIS`) whose docstring is its
formula; ``docs/reference/kpis.md`` holds the same text.
"""

from omnicx.metrics._calendar import WEEKDAYS, BusinessCalendar, Weekday
from omnicx.metrics._channels import (
    CHANNEL_MIX,
    RETURNING_CUSTOMERS,
    ChannelMix,
    ChannelMixRow,
    ChannelMixTable,
    ReturningCustomers,
    ReturningCustomersRow,
    ReturningCustomersTable,
    channel_mix,
    returning_customers,
)
from omnicx.metrics._classify import SURVEY_FLAG, TEMPLATE_FLAG, is_template
from omnicx.metrics._compute import compute_kpis, kpi_samples
from omnicx.metrics._definitions import (
    BOT_CONTAINMENT_RATE,
    BOT_HANDOFF_RATE,
    CES_MEAN,
    CHANNEL_SWITCH_RATE,
    CSAT_MEAN,
    CSAT_RESPONSE_RATE,
    CSAT_TOP2_BOX,
    FIRST_CONTACT_RESOLUTION,
    FIRST_RESPONSE_TIME,
    KPIS,
    NET_PROMOTER_SCORE,
    NEXT_RESPONSE_TIME,
    REOPEN_COUNT,
    REPEAT_CONTACT_RATE,
    SLA_FIRST_RESPONSE,
    SLA_NEXT_RESPONSE,
    SLA_RESOLUTION,
    TIME_TO_FINAL_RESOLUTION,
    TIME_TO_FIRST_RESOLUTION,
    KpiDefinition,
    KpiSample,
)
from omnicx.metrics._options import Attribution, Dimension, KpiOptions, Period, SlaTargets
from omnicx.metrics._records import ConversationRecord, records_from_threading
from omnicx.metrics._report import render_report
from omnicx.metrics._results import KpiReport, KpiRow, format_table

__all__ = [
    "Attribution",
    "BOT_CONTAINMENT_RATE",
    "BOT_HANDOFF_RATE",
    "BusinessCalendar",
    "CES_MEAN",
    "CHANNEL_MIX",
    "CHANNEL_SWITCH_RATE",
    "CSAT_MEAN",
    "CSAT_RESPONSE_RATE",
    "CSAT_TOP2_BOX",
    "ChannelMix",
    "ChannelMixRow",
    "ChannelMixTable",
    "ConversationRecord",
    "Dimension",
    "FIRST_CONTACT_RESOLUTION",
    "FIRST_RESPONSE_TIME",
    "KPIS",
    "KpiDefinition",
    "KpiOptions",
    "KpiReport",
    "KpiRow",
    "KpiSample",
    "NET_PROMOTER_SCORE",
    "NEXT_RESPONSE_TIME",
    "Period",
    "REOPEN_COUNT",
    "REPEAT_CONTACT_RATE",
    "RETURNING_CUSTOMERS",
    "ReturningCustomers",
    "ReturningCustomersRow",
    "ReturningCustomersTable",
    "SLA_FIRST_RESPONSE",
    "SLA_NEXT_RESPONSE",
    "SLA_RESOLUTION",
    "SURVEY_FLAG",
    "SlaTargets",
    "TEMPLATE_FLAG",
    "TIME_TO_FINAL_RESOLUTION",
    "TIME_TO_FIRST_RESOLUTION",
    "WEEKDAYS",
    "Weekday",
    "channel_mix",
    "compute_kpis",
    "format_table",
    "is_template",
    "kpi_samples",
    "records_from_threading",
    "render_report",
    "returning_customers",
]
