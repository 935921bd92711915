"""Hypothesis strategies that build every omnicx model from valid parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from omnicx import models as m

names = st.from_regex(r"\A[a-z][a-z0-9_]{0,12}\Z")
short = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
platform_ids = st.from_regex(r"\A[A-Za-z0-9._-]{1,24}\Z")
offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
aware = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets).map(
    lambda d: d.astimezone(UTC)
)

identifiers = st.one_of(
    st.builds(
        m.Identifier, kind=st.just("email"), value=st.from_regex(r"\A[a-z0-9.]{1,10}@[a-z]{1,8}\.com\Z")
    ),
    st.builds(m.Identifier, kind=st.just("phone"), value=st.from_regex(r"\A\+[1-9][0-9]{7,13}\Z")),
    st.builds(
        m.Identifier,
        kind=st.sampled_from(["messenger_psid", "instagram_igsid"]),
        value=st.from_regex(r"\A[0-9]{1,20}\Z"),
        scope=st.from_regex(r"\A[0-9]{1,16}\Z"),
    ),
    st.builds(m.Identifier, kind=names, value=platform_ids, scope=st.none() | platform_ids),
)

observed = st.builds(
    m.ObservedIdentifier,
    identifier=identifiers,
    assurance=st.sampled_from(m.Assurance),
    display_name=st.none() | short,
)

metadata = st.dictionaries(
    st.text(max_size=8),
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | short | st.lists(st.integers(), max_size=3),
    max_size=4,
)

parts = st.one_of(
    st.builds(m.TextPart, text=short, format=st.sampled_from(["plain", "html", "markdown"])),
    st.builds(
        m.MediaPart,
        media_kind=st.sampled_from(["image", "audio", "voice", "video", "document", "sticker", "file"]),
        platform_media_id=platform_ids,
        url=st.none() | st.just("https://example.com/m.jpg"),
        mime_type=st.none() | st.just("image/jpeg"),
        size=st.none() | st.integers(0, 10**9),
        sha256=st.none() | st.from_regex(r"\A[0-9a-f]{64}\Z"),
        caption=st.none() | short,
        filename=st.none() | short,
    ),
    st.builds(
        m.LocationPart,
        latitude=st.floats(-90, 90),
        longitude=st.floats(-180, 180),
        name=st.none() | short,
    ),
    st.builds(m.ContactPart, name=st.none() | short, phones=st.lists(short, max_size=2).map(tuple)),
    st.builds(
        m.InteractiveReplyPart,
        reply_kind=st.sampled_from(["button", "list", "quick_reply", "postback", "callback"]),
        reply_id=st.none() | short,
        title=st.none() | short,
    ),
    st.builds(
        m.ReactionPart,
        action=st.sampled_from(["add", "remove"]),
        emoji=st.none() | short,
        target_message_id=platform_ids,
    ),
    st.builds(m.UnsupportedPart, raw_type=short),
)

thread = st.builds(
    m.ThreadHints,
    message_id=st.none() | short,
    in_reply_to=st.none() | short,
    references=st.lists(short, max_size=3).map(tuple),
    thread_id=st.none() | short,
    reply_to=st.none() | short,
)


def _common() -> dict[str, st.SearchStrategy[object]]:
    return {
        "channel": st.sampled_from(list(m.Channel)) | names,
        "adapter": names,
        "dedupe_key": platform_ids,
        "occurred_at": aware,
        "received_at": aware,
        "direction": st.sampled_from(m.Direction),
        "author": st.builds(
            m.Author, role=st.sampled_from(m.AuthorRole), id=st.none() | short, name=st.none() | short
        ),
        "endpoint": identifiers,
        "thread": thread,
        "metadata": metadata,
    }


def _rating(scale: m.RatingScale, low: int, high: int) -> st.SearchStrategy[m.Rating]:
    return st.builds(
        m.Rating, scale=st.just(scale), score=st.integers(low, high), comment=st.none() | short, **_common()
    )


interactions = st.one_of(
    st.builds(
        m.Message,
        parts=st.lists(parts, max_size=3).map(tuple),
        subject=st.none() | short,
        new_text=st.none() | short,
        platform_message_id=st.none() | platform_ids,
        automated=st.booleans(),
        **_common(),
    ),
    st.builds(
        m.CallRecord,
        call_id=platform_ids,
        status=st.sampled_from(m.CallStatus),
        duration_seconds=st.none() | st.floats(0, 10**5),
        recordings=st.lists(
            st.builds(m.RecordingRef, url=st.just("https://r.example/1.wav")), max_size=2
        ).map(tuple),
        transcript=st.none() | short,
        **_common(),
    ),
    st.builds(
        m.StatusUpdate,
        target_message_id=platform_ids,
        status=st.sampled_from(m.DeliveryStatus),
        error=st.none() | st.builds(m.DeliveryError, code=st.none() | short, title=st.none() | short),
        **_common(),
    ),
    st.builds(m.Note, text=short.filter(bool), **_common()),
    _rating(m.RatingScale.CSAT, 1, 5),
    _rating(m.RatingScale.NPS, 0, 10),
    _rating(m.RatingScale.CES, 1, 7),
    st.builds(
        m.Edit, target_message_id=platform_ids, parts=st.lists(parts, max_size=2).map(tuple), **_common()
    ),
    st.builds(m.Deletion, target_message_id=platform_ids, **_common()),
)

requests = st.builds(
    m.InboundRequest,
    method=st.sampled_from(["GET", "POST"]),
    url=st.just("https://hooks.example.com/wa?x=1"),
    headers=st.dictionaries(st.from_regex(r"\A[A-Za-z-]{1,12}\Z"), short, max_size=4),
    body=st.binary(max_size=200),
    received_at=aware,
)

customers = st.builds(
    m.Customer,
    id=platform_ids,
    created_at=aware,
    identifiers=st.lists(
        st.builds(
            m.CustomerIdentifier,
            identifier=identifiers,
            assurance=st.sampled_from(m.Assurance),
            first_seen=aware,
            last_seen=aware,
        ),
        max_size=3,
    ).map(tuple),
    aliases=st.lists(platform_ids, max_size=2).map(tuple),
    display_name=st.none() | short,
    traits=metadata,
)


@st.composite
def conversations(draw: st.DrawFn) -> m.Conversation:
    opened = draw(aware)
    last = opened + draw(st.timedeltas(timedelta(0), timedelta(days=30)))
    status = draw(st.sampled_from(m.ConversationStatus))
    resolved = last if status is m.ConversationStatus.RESOLVED else draw(st.none() | st.just(last))
    return m.Conversation(
        id=draw(platform_ids),
        customer_id=draw(platform_ids),
        status=status,
        channels=tuple(draw(st.lists(names, max_size=3, unique=True))),
        opened_at=opened,
        last_activity_at=last,
        resolved_at=resolved,
        subject=draw(st.none() | short),
        assignee=draw(st.none() | short),
    )


inbound_events = st.builds(
    m.InboundEvent,
    interaction=interactions,
    identifiers=st.lists(observed, max_size=3).map(tuple),
    raw_type=st.none() | short,
)
