"""A contact form's mail: every submission comes From the form's sender, and each is the person
named in Reply-To. They must stay apart, and each reply must reach its own person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omnicx import Identifier
from omnicx.channels import default_registry
from omnicx.hub import Hub
from tests.hub import _payloads as p

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FORM = "Shopify <mailer@shopify.com>"


def adapters(relays: tuple[str, ...]) -> list[object]:
    email = default_registry().create(
        "email", {"business_addresses": (p.SUPPORT,), "from_address": p.SUPPORT, "relay_senders": relays}
    )
    return [a for a in p.adapters() if getattr(a, "name", None) != "email"] + [email]


def submit(hub: Hub, n: int, person: str) -> None:
    body = f"You received a new message from your online store's contact form.\nBody: question {n}"
    request = p.email(
        T0 + timedelta(minutes=n),
        FORM,
        "New customer message",
        body,
        message_id=f"form-{n}@shopify.com",
        reply_to=person,
    )
    hub.ingest("email", request)


def test_contact_form_submissions_are_their_senders_not_the_forms() -> None:
    people = ["ana.silva@gmail.com", "bo.chen@outlook.com", "ana.silva@gmail.com"]
    with Hub.open(
        "memory://", channels=adapters(("mailer@shopify.com",)), clock=lambda: T0 + timedelta(hours=1)
    ) as hub:
        for n, person in enumerate(people):
            submit(hub, n, person)
        ana = hub.customer_of(Identifier(kind="email", value="ana.silva@gmail.com"))
        bo = hub.customer_of(Identifier(kind="email", value="bo.chen@outlook.com"))
        assert ana is not None
        assert bo is not None
        assert ana != bo
        assert hub.customer_of(Identifier(kind="email", value="mailer@shopify.com")) is None  # nobody's
        timelines = {
            cid: [e.interaction.metadata.get("relay") for e in hub.timeline(cid).entries if e.interaction]
            for cid in (ana, bo)
        }
        assert timelines == {ana: ["mailer@shopify.com"] * 2, bo: ["mailer@shopify.com"]}
        for cid, person in ((ana, "ana.silva@gmail.com"), (bo, "bo.chen@outlook.com")):
            (conversation, *_) = hub.conversations(cid)
            reply = hub.reply(conversation.id, "Thanks, on it.")
            assert reply.endpoint == f"email:{person}"
            assert reply.request is not None
            assert reply.request.url == f"mailto:{person}"


def test_an_unlisted_form_sender_is_one_customer_holding_every_submission() -> None:
    """What the setting prevents: without it, the form's address is the sender of every
    submission, and its customer holds them all (Reply-To stays a mere suggestion)."""
    with Hub.open("memory://", channels=adapters(()), clock=lambda: T0 + timedelta(hours=1)) as hub:
        for n, person in enumerate(["ana.silva@gmail.com", "bo.chen@outlook.com"]):
            submit(hub, n, person)
        form = hub.customer_of(Identifier(kind="email", value="mailer@shopify.com"))
        assert form is not None
        assert len([e for e in hub.timeline(form).entries if e.interaction]) == 2
