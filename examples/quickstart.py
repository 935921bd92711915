"""Quickstart: real payload shapes from three channels turned into omnicx models.

Run with ``make demo``. Each payload is a real delivery shape (see data/SOURCES.md):
a WhatsApp Cloud API webhook, a Telegram update and a Gmail reply. The sender of
each becomes a normalized :class:`omnicx.Identifier`, the content an
:class:`omnicx.Message`, and both an :class:`omnicx.InboundEvent`: the form every
channel adapter returns and the identity engine consumes.
"""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from omnicx import (
    Assurance,
    Author,
    InboundEvent,
    InboundRequest,
    Message,
    ObservedIdentifier,
    TextPart,
    ThreadHints,
    normalize_identifier,
    normalize_timestamp,
)

DATA = Path(__file__).parent / "data"
RECEIVED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def request(name: str, url: str, content_type: str) -> InboundRequest:
    """The request as a web framework would hand it over: raw bytes, headers, URL."""
    return InboundRequest(
        url=url, headers={"Content-Type": content_type}, body=(DATA / name).read_bytes(), received_at=RECEIVED
    )


def whatsapp(req: InboundRequest) -> InboundEvent:
    value = json.loads(req.body)["entry"][0]["changes"][0]["value"]
    msg, contact = value["messages"][0], value["contacts"][0]
    phone = normalize_identifier("phone", "+" + msg["from"])  # wa_id: digits without "+"
    message = Message(
        channel="whatsapp",
        adapter="whatsapp",
        dedupe_key=msg["id"],
        occurred_at=normalize_timestamp(msg["timestamp"]),
        received_at=req.received_at,
        direction="inbound",
        author=Author(role="customer", name=contact["profile"]["name"]),
        endpoint=phone,
        parts=(TextPart(text=msg["text"]["body"]),),
        platform_message_id=msg["id"],
    )
    who = ObservedIdentifier(
        identifier=phone, assurance=Assurance.VERIFIED, display_name=contact["profile"]["name"]
    )
    return InboundEvent(interaction=message, identifiers=(who,), raw_type="messages")


def telegram(req: InboundRequest) -> InboundEvent:
    update = json.loads(req.body)
    msg = update["message"]
    user = normalize_identifier("telegram_user_id", msg["from"]["id"])
    name = f"{msg['from']['first_name']} {msg['from'].get('last_name', '')}".strip()
    message = Message(
        channel="telegram",
        adapter="telegram",
        dedupe_key=str(update["update_id"]),
        occurred_at=normalize_timestamp(msg["date"]),
        received_at=req.received_at,
        direction="inbound",
        author=Author(role="customer", name=name),
        endpoint=user,
        parts=(TextPart(text=msg["text"]),),
        thread=ThreadHints(thread_id=str(msg["chat"]["id"])),
        platform_message_id=str(msg["message_id"]),
    )
    return InboundEvent(
        interaction=message,
        identifiers=(ObservedIdentifier(identifier=user, assurance=Assurance.VERIFIED, display_name=name),),
        raw_type="message",
    )


def gmail(req: InboundRequest) -> InboundEvent:
    mail = email.message_from_bytes(req.body, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    sender = mail["From"].addresses[0]
    address = normalize_identifier("email", sender.addr_spec)
    body = mail.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    message_id = str(mail["Message-Id"]).strip("<>")
    message = Message(
        channel="email",
        adapter="email",
        dedupe_key=message_id,
        occurred_at=normalize_timestamp(str(mail["Date"])),
        received_at=req.received_at,
        direction="inbound",
        author=Author(role="customer", name=sender.display_name or None),
        endpoint=address,
        subject=str(mail["Subject"]),
        parts=(TextPart(text=text),),
        new_text=text.split("\nOn ", 1)[0].strip(),
        thread=ThreadHints(message_id=message_id),
    )
    who = ObservedIdentifier(
        identifier=address, assurance=Assurance.ASSERTED, display_name=sender.display_name
    )
    return InboundEvent(interaction=message, identifiers=(who,), raw_type="rfc5322")


def show(event: InboundEvent) -> None:
    message = event.interaction
    assert isinstance(message, Message)
    print(f"── {message.channel} ── {message.occurred_at:%Y-%m-%d %H:%M} UTC ── id {message.id}")
    print(f"   from    {message.author.name} <{message.endpoint}>")
    for observed in event.identifiers:
        print(f"   identity {observed.identifier}  ({observed.assurance})")
    if message.subject:
        print(f"   subject {message.subject}")
    print(f"   text    {(message.new_text or message.text)!r}")
    print(f"   dedupe  {message.dedupe_key[:48]}")
    print()


def main() -> None:
    events = [
        whatsapp(request("whatsapp_text.json", "https://shop.example/hooks/whatsapp", "application/json")),
        telegram(request("telegram_text.json", "https://shop.example/hooks/telegram", "application/json")),
        gmail(request("email_gmail.eml", "smtp://support@shop.example", "message/rfc822")),
    ]
    print(f"omnicx quickstart: {len(events)} real payloads, three channels\n")
    for event in sorted(events, key=lambda e: e.interaction.occurred_at):
        show(event)
    first = events[0]
    print("Every model is JSON; the WhatsApp event as stored:")
    print(first.model_dump_json(indent=2, exclude_defaults=True)[:600], "…")


if __name__ == "__main__":
    main()
