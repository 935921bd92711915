"""Every KPI as a named, versioned definition whose docstring is its formula.

A definition turns the :class:`~omnicx.metrics._facts.Facts` of one conversation
into :class:`KpiSample`\\ s; aggregation (count, mean, median, p90) is the same for
all. A rate is a mean of 0/1 samples, so ``mean`` is the rate, ``sum`` its
numerator and ``count`` its denominator. A change of a formula bumps ``version``.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import ClassVar, Literal

import attrs

from omnicx.metrics._calendar import BusinessCalendar
from omnicx.metrics._facts import Facts, Response
from omnicx.metrics._options import SlaTargets
from omnicx.models import RatingScale

__all__ = [
    "BOT_CONTAINMENT_RATE",
    "BOT_HANDOFF_RATE",
    "CES_MEAN",
    "CHANNEL_SWITCH_RATE",
    "CSAT_MEAN",
    "CSAT_RESPONSE_RATE",
    "CSAT_TOP2_BOX",
    "FIRST_CONTACT_RESOLUTION",
    "FIRST_RESPONSE_TIME",
    "KPIS",
    "NET_PROMOTER_SCORE",
    "NEXT_RESPONSE_TIME",
    "REOPEN_COUNT",
    "REPEAT_CONTACT_RATE",
    "SLA_FIRST_RESPONSE",
    "SLA_NEXT_RESPONSE",
    "SLA_RESOLUTION",
    "TIME_TO_FINAL_RESOLUTION",
    "TIME_TO_FIRST_RESOLUTION",
    "Context",
    "KpiDefinition",
    "KpiSample",
    "Unit",
]

Unit = Literal["seconds", "ratio", "score", "count"]


@attrs.frozen
class KpiSample:
    """One observation of one KPI, with everything needed to group and attribute it.

    ``value`` is seconds, a 0/1 outcome, a score or a count (see the KPI's unit);
    ``started_at`` is the conversation's start, ``event_at`` the time of the event
    that produced the sample (a reply, a resolve, a rating …).
    """

    kpi: str
    value: float
    conversation_id: str
    customer_id: str
    channel: str
    agent: str | None
    team: str | None
    started_at: datetime
    event_at: datetime


@attrs.frozen
class Context:
    """What a definition needs beyond one conversation."""

    as_of: datetime
    calendar: BusinessCalendar
    business_clock: bool
    """Measure durations in business time (else wall time)."""
    sla: SlaTargets | None
    fcr_window: timedelta
    repeat_window: timedelta
    starts: Mapping[str, list[tuple[datetime, str]]]
    """customer id → sorted (first customer contact, conversation id) of their conversations."""

    def duration(self, start: datetime, end: datetime) -> float:
        """Seconds from ``start`` to ``end`` on this context's clock (0 if end is earlier)."""
        if self.business_clock:
            return self.calendar.business_seconds(start, end)
        return max(0.0, (end - start).total_seconds())

    def repeat_after(self, facts: Facts, until: datetime) -> bool:
        """Did the customer start another conversation after ``facts``' start, up to ``until``?"""
        key = (facts.first_contact_at or facts.opened_at, facts.conversation_id)
        others = self.starts.get(facts.customer_id, [])
        i = bisect.bisect_right(others, key)
        return i < len(others) and others[i][0] <= until


class KpiDefinition:
    """A KPI: ``name``, ``version``, ``unit``, whether it reads other conversations, and its formula.

    The class docstring of each definition is its formula; :attr:`formula` returns it.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    unit: ClassVar[Unit]
    cross_conversation: ClassVar[bool] = False
    """True when a conversation's samples depend on the customer's other conversations."""

    @property
    def formula(self) -> str:
        """The definition's docstring: what it measures, exactly."""
        return inspect.cleandoc(type(self).__doc__ or "")

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        """The samples of one conversation."""
        raise NotImplementedError(f"{type(self).__name__} must implement samples(facts, ctx)")

    def __repr__(self) -> str:
        return f"<KPI {self.name} v{self.version}>"

    def _conv(self, facts: Facts, value: float, at: datetime) -> KpiSample:
        return KpiSample(
            self.name,
            value,
            facts.conversation_id,
            facts.customer_id,
            facts.channel,
            facts.agent,
            facts.team,
            facts.opened_at,
            at,
        )

    def _reply(self, facts: Facts, r: Response, value: float) -> KpiSample:
        return KpiSample(
            self.name,
            value,
            facts.conversation_id,
            facts.customer_id,
            r.channel,
            r.agent,
            facts.team,
            facts.opened_at,
            r.at,
        )


class FirstResponseTime(KpiDefinition):
    """First response time, per segment of a conversation, in seconds.

    FRT = t(first human reply of the segment) - t(clock start)

    * A segment runs from the conversation's opening, or from a reopen, to the next
      reopen: **the clock restarts on reopen**, so a reply after a reopen is measured
      from the customer's message after the reopen, never from the conversation's
      creation (the inflation fixed in Chatwoot PR #12058).
    * The clock starts at the segment's first customer contact not yet answered.
    * A human reply is an outbound message by an ``agent`` author that is not
      ``automated`` and not a template (``metadata["template"] is True``), or a
      connected outbound call by an agent. Bot, system, automated and template
      messages never count as a response.
    * **Bot handoff**: every bot message while the customer waits restarts the
      clock; the last one before the human reply is the handoff, the moment the
      bot stopped serving the customer. Time the bot spent is not charged to humans.
    * One sample per answered segment, attributed to the replying agent and to the
      channel of the contact that started the wait; ``event_at`` = the reply.
    * Business time when the options carry a calendar.
    """

    name = "first_response_time"
    unit = "seconds"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        for r in facts.responses:
            if r.first:
                yield self._reply(facts, r, r.business if ctx.business_clock else r.wall)


class NextResponseTime(KpiDefinition):
    """Next response time: each later human reply that answers a waiting customer, in seconds.

    NRT = t(human reply) - t(first unanswered customer contact since the previous reply)

    Replies are human replies as in ``first_response_time``; the first response of a
    segment is not a next response. Consecutive customer messages wait from the
    first of them; consecutive replies count once; a bot reply while the customer
    waits restarts the clock. One sample per such reply, attributed to its agent;
    ``event_at`` = the reply.
    """

    name = "next_response_time"
    unit = "seconds"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        for r in facts.responses:
            if not r.first:
                yield self._reply(facts, r, r.business if ctx.business_clock else r.wall)


class TimeToFirstResolution(KpiDefinition):
    """Time to first resolution, in seconds.

    TTFR = t(first ``resolved`` event) - conversation ``opened_at``

    One sample per conversation resolved at least once (even if reopened later);
    ``event_at`` = the first resolve.
    """

    name = "time_to_first_resolution"
    unit = "seconds"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        if facts.resolves:
            first = facts.resolves[0]
            yield self._conv(facts, ctx.duration(facts.opened_at, first), first)


class TimeToFinalResolution(KpiDefinition):
    """Time to final resolution, in seconds.

    TTR = conversation ``resolved_at`` (its last resolve) - ``opened_at``

    Only for conversations whose status is ``resolved`` at the end of the record (a
    reopened conversation that is open again has no final resolution yet);
    ``event_at`` = the last resolve.
    """

    name = "time_to_final_resolution"
    unit = "seconds"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        if facts.final_resolved_at is not None:
            yield self._conv(
                facts, ctx.duration(facts.opened_at, facts.final_resolved_at), facts.final_resolved_at
            )


class ReopenCount(KpiDefinition):
    """Reopens per conversation.

    value = number of ``reopened`` events of the conversation (0 when never reopened)

    One sample per conversation (``mean`` = reopens per conversation, ``sum`` = all
    reopens); ``event_at`` = the conversation's start.
    """

    name = "reopen_count"
    unit = "count"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        yield self._conv(facts, float(facts.reopens), facts.opened_at)


class FirstContactResolution(KpiDefinition):
    """First contact resolution rate (0/1 per conversation).

    FCR = 1 when all hold, else 0:

    * the conversation is resolved at the end of the record;
    * it had exactly one human reply (as in ``first_response_time``);
    * it was never reopened;
    * the same customer started no other conversation (on any channel) after this
      one's first contact and up to ``resolved_at + N`` (``fcr_window``, default 7
      days): a conversation starts at its first customer contact.

    Denominator: conversations resolved with at least one human reply whose window
    has closed (``resolved_at + N <= as_of``); later ones are not yet known and are
    left out. ``event_at`` = the resolution.
    """

    name = "first_contact_resolution"
    unit = "ratio"
    cross_conversation = True

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        end = facts.final_resolved_at
        if end is None or facts.human_replies < 1 or end + ctx.fcr_window > ctx.as_of:
            return
        ok = (
            facts.human_replies == 1
            and facts.reopens == 0
            and not ctx.repeat_after(facts, end + ctx.fcr_window)
        )
        yield self._conv(facts, 1.0 if ok else 0.0, end)


class CsatTop2Box(KpiDefinition):
    """CSAT top-2-box share (0/1 per rated conversation).

    value = 1 when the conversation's latest CSAT answer (1-5) is 4 or 5, else 0

    Denominator: conversations with a CSAT answer; one answer per conversation (its
    latest, by time then id). ``event_at`` = the answer.
    """

    name = "csat_top2_box"
    unit = "ratio"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        rating = facts.ratings.get(RatingScale.CSAT)
        if rating is not None:
            yield self._conv(facts, 1.0 if rating.score >= 4 else 0.0, rating.occurred_at)


class CsatMean(KpiDefinition):
    """Mean CSAT score (1-5) over rated conversations, one answer (the latest) per conversation.

    ``event_at`` = the answer.
    """

    name = "csat_mean"
    unit = "score"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        rating = facts.ratings.get(RatingScale.CSAT)
        if rating is not None:
            yield self._conv(facts, float(rating.score), rating.occurred_at)


class CsatResponseRate(KpiDefinition):
    """CSAT response rate (0/1 per surveyed conversation).

    rate = conversations with a CSAT answer / conversations surveyed

    A conversation is surveyed when an outbound message in it carries
    ``metadata["survey"] == "csat"`` or when it has a CSAT answer (an answer proves a
    survey). ``event_at`` = the answer, else the survey message.
    """

    name = "csat_response_rate"
    unit = "ratio"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        rating = facts.ratings.get(RatingScale.CSAT)
        if rating is not None:
            yield self._conv(facts, 1.0, rating.occurred_at)
        elif RatingScale.CSAT in facts.surveys:
            yield self._conv(facts, 0.0, facts.surveys[RatingScale.CSAT])


class NetPromoterScore(KpiDefinition):
    """Net Promoter Score, -100 to 100.

    NPS = 100 x (promoters - detractors) / respondents

    promoters answer 9-10, detractors 0-6, passives 7-8. Each conversation's latest
    NPS answer is one respondent, so a sample is +100 (promoter), 0 (passive) or
    -100 (detractor) and the mean is the NPS. ``event_at`` = the answer.
    """

    name = "nps"
    unit = "score"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        rating = facts.ratings.get(RatingScale.NPS)
        if rating is not None:
            value = 100.0 if rating.score >= 9 else (-100.0 if rating.score <= 6 else 0.0)
            yield self._conv(facts, value, rating.occurred_at)


class CesMean(KpiDefinition):
    """Mean Customer Effort Score (1-7, higher = easier) over conversations with a CES answer.

    One answer (the latest) per conversation; ``event_at`` = the answer.
    """

    name = "ces_mean"
    unit = "score"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        rating = facts.ratings.get(RatingScale.CES)
        if rating is not None:
            yield self._conv(facts, float(rating.score), rating.occurred_at)


class BotContainmentRate(KpiDefinition):
    """Bot containment rate (0/1 per bot-served conversation).

    contained = 1 when no human replied and the conversation is resolved, else 0

    Denominator: conversations with at least one bot message (``author.role == "bot"``,
    outbound). A bot conversation still open without a human reply is neither
    contained nor handed off. ``event_at`` = the first bot message.
    """

    name = "bot_containment_rate"
    unit = "ratio"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        if facts.bot_first_at is not None:
            contained = facts.human_replies == 0 and facts.final_resolved_at is not None
            yield self._conv(facts, 1.0 if contained else 0.0, facts.bot_first_at)


class BotHandoffRate(KpiDefinition):
    """Bot handoff rate (0/1 per bot-served conversation).

    handed off = 1 when a human replied after the conversation's first bot message

    Denominator as ``bot_containment_rate``. ``event_at`` = the first bot message.
    """

    name = "bot_handoff_rate"
    unit = "ratio"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        if facts.bot_first_at is not None:
            yield self._conv(facts, 1.0 if facts.human_after_bot else 0.0, facts.bot_first_at)


class _SlaResponse(KpiDefinition):
    first: ClassVar[bool]

    def _target(self, sla: SlaTargets) -> timedelta | None:
        return sla.first_response if self.first else sla.next_response

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        target = self._target(ctx.sla) if ctx.sla else None
        if target is None:
            return
        limit = target.total_seconds()
        for r in facts.responses:
            if r.first is self.first:
                yield self._reply(facts, r, 1.0 if r.business <= limit else 0.0)
        waiting = facts.waiting
        if (
            waiting is not None
            and waiting.first is self.first
            and ctx.calendar.business_seconds(waiting.since, ctx.as_of) > limit
        ):
            yield KpiSample(
                self.name,
                0.0,
                facts.conversation_id,
                facts.customer_id,
                waiting.channel,
                facts.agent,
                facts.team,
                facts.opened_at,
                waiting.since,
            )


class SlaFirstResponse(_SlaResponse):
    """First-response SLA attainment (0/1 per sample).

    met = 1 when business-time FRT <= ``sla.first_response``

    One sample per first response (as ``first_response_time``), plus a 0 for every
    customer still waiting for a first response at ``as_of`` whose business-time wait
    already exceeds the target (a breach is a breach before anyone answers); waits
    not yet past target are left out. Business time in the options' calendar
    (around the clock without one). ``event_at`` = the reply, or the waiting
    contact for a breach without reply.
    """

    name = "sla_first_response"
    unit = "ratio"
    first = True


class SlaNextResponse(_SlaResponse):
    """Next-response SLA attainment (0/1 per sample).

    met = 1 when business-time NRT <= ``sla.next_response``; unanswered waits past
    target at ``as_of`` count 0, as in ``sla_first_response``.
    """

    name = "sla_next_response"
    unit = "ratio"
    first = False


class SlaResolution(KpiDefinition):
    """Resolution SLA attainment (0/1 per conversation).

    met = 1 when business time from ``opened_at`` to the first resolve <= ``sla.resolution``

    A conversation never resolved counts 0 once its business-time age at ``as_of``
    exceeds the target, and is left out before. ``event_at`` = the first resolve,
    else the conversation's start.
    """

    name = "sla_resolution"
    unit = "ratio"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        target = ctx.sla.resolution if ctx.sla else None
        if target is None:
            return
        limit = target.total_seconds()
        if facts.resolves:
            taken = ctx.calendar.business_seconds(facts.opened_at, facts.resolves[0])
            yield self._conv(facts, 1.0 if taken <= limit else 0.0, facts.resolves[0])
        elif ctx.calendar.business_seconds(facts.opened_at, ctx.as_of) > limit:
            yield self._conv(facts, 0.0, facts.opened_at)


class ChannelSwitchRate(KpiDefinition):
    """Channel-switch rate (0/1 per conversation).

    value = 1 when the conversation spans more than one channel (``len(conversation.channels) > 1``)

    ``conversation.channels`` lists every channel its contacts and replies used.
    ``event_at`` = the conversation's start.
    """

    name = "channel_switch_rate"
    unit = "ratio"

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        yield self._conv(facts, 1.0 if len(facts.channels) > 1 else 0.0, facts.opened_at)


class RepeatContactRate(KpiDefinition):
    """Repeat-contact rate within N days (0/1 per conversation).

    value = 1 when the same customer started another conversation, on any channel,
    after this one's first contact and at most N (``repeat_window``, default 7
    days) after it

    Denominator: conversations with a customer contact whose window has closed
    (first contact + N <= ``as_of``). ``event_at`` = the first contact.
    """

    name = "repeat_contact_rate"
    unit = "ratio"
    cross_conversation = True

    def samples(self, facts: Facts, ctx: Context) -> Iterator[KpiSample]:
        start = facts.first_contact_at
        if start is None or start + ctx.repeat_window > ctx.as_of:
            return
        repeated = ctx.repeat_after(facts, start + ctx.repeat_window)
        yield self._conv(facts, 1.0 if repeated else 0.0, start)


FIRST_RESPONSE_TIME = FirstResponseTime()
NEXT_RESPONSE_TIME = NextResponseTime()
TIME_TO_FIRST_RESOLUTION = TimeToFirstResolution()
TIME_TO_FINAL_RESOLUTION = TimeToFinalResolution()
REOPEN_COUNT = ReopenCount()
FIRST_CONTACT_RESOLUTION = FirstContactResolution()
CSAT_TOP2_BOX = CsatTop2Box()
CSAT_MEAN = CsatMean()
CSAT_RESPONSE_RATE = CsatResponseRate()
NET_PROMOTER_SCORE = NetPromoterScore()
CES_MEAN = CesMean()
BOT_CONTAINMENT_RATE = BotContainmentRate()
BOT_HANDOFF_RATE = BotHandoffRate()
SLA_FIRST_RESPONSE = SlaFirstResponse()
SLA_NEXT_RESPONSE = SlaNextResponse()
SLA_RESOLUTION = SlaResolution()
CHANNEL_SWITCH_RATE = ChannelSwitchRate()
REPEAT_CONTACT_RATE = RepeatContactRate()

KPIS: tuple[KpiDefinition, ...] = (
    FIRST_RESPONSE_TIME,
    NEXT_RESPONSE_TIME,
    TIME_TO_FIRST_RESOLUTION,
    TIME_TO_FINAL_RESOLUTION,
    REOPEN_COUNT,
    FIRST_CONTACT_RESOLUTION,
    CSAT_TOP2_BOX,
    CSAT_MEAN,
    CSAT_RESPONSE_RATE,
    NET_PROMOTER_SCORE,
    CES_MEAN,
    BOT_CONTAINMENT_RATE,
    BOT_HANDOFF_RATE,
    SLA_FIRST_RESPONSE,
    SLA_NEXT_RESPONSE,
    SLA_RESOLUTION,
    CHANNEL_SWITCH_RATE,
    REPEAT_CONTACT_RATE,
)
"""Every KPI definition, in report order."""
