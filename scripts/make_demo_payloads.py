"""Generate omnicx's demo data set: real-format webhook payloads and the manifest that orders them.

Run from the repository root::

    python scripts/make_demo_payloads.py                 # rewrites src/omnicx/_demo/
    python scripts/make_demo_payloads.py --out /tmp/demo # writes elsewhere (the tests compare)

Every payload fills a documented shape (the fixtures in tests/fixtures/ and the
docs in docs/channels/ and docs/reference/ name their sources): only the values
(names, addresses, numbers, ids, times, texts) are made up, drawn from one seeded
random generator, so a run always writes the same bytes. The script needs only
the standard library and phonenumbers (a core dependency of omnicx).

The manifest lists the steps in delivery order:

* ``deliver``: a payload file, the channel whose adapter takes it, the URL and
  the unsigned headers, ``received_at``, ``expect`` (``ok``, ``signature_error``
  or ``payload_error``), ``duplicate_of`` (the step a webhook retry repeats),
  ``sign_with`` (``demo`` or ``forged``: who signed it) and the persona;
* ``link``: an agent's manual link of two identifiers (the demo's wrong merge);
* ``split``: the agent undoing it, naming the groups the customer splits into.

The loader ``omnicx._demo`` signs the requests; nothing here holds a secret.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import phonenumbers

SEED = 20261109
START = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # a Monday; the data spans two weeks
BASE_URL = "https://support.northwind-outfitters.example/omnicx/hooks"
SITE_ID = "northwind-web"
SUPPORT_EMAIL = "support@northwind-outfitters.example"
SUPPORT_DOMAIN = "northwind-outfitters.example"
SUPPORT_PHONE = "+14155550100"  # the Twilio number (SMS and voice)
WA_DISPLAY = "14155550100"
WA_PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
PAGE_ID = "682498302938465"
BOT_ID = 7123456789
TWILIO_ACCOUNT = "AC3f0c2a9e8b7d6c5b4a39281706f5e4d3"
FORM_ID = "contact"

_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "omnicx" / "_demo"


@dataclass
class Persona:
    """One customer of the data set and the endpoints they use."""

    key: str
    first: str
    last: str
    region: str
    email: str
    phone: str = ""
    psid: str = ""
    telegram_id: int = 0
    visitor_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


# (key, first, last, region, email local part, email domain)
_PEOPLE = [
    ("lucia", "Lucía", "Fernández", "ES", "lucia.fernandez", "correo-ejemplo.es"),
    ("priya", "Priya", "Raman", "IN", "priya.raman", "mail-example.in"),
    ("oliver", "Oliver", "Bennett", "GB", "oliver.bennett", "example.co.uk"),
    ("kenji", "Kenji", "Watanabe", "JP", "k.watanabe", "example.jp"),
    ("amara", "Amara", "Okafor", "ZA", "amara.okafor", "example.co.za"),
    ("daniel_a", "Daniel", "Kim", "US", "daniel.kim", "example.com"),
    ("daniel_b", "Daniel", "Kim", "CA", "dkim.toronto", "example.ca"),
    ("sophie", "Sophie", "Martin", "FR", "sophie.martin", "example.fr"),
    ("jonas", "Jonas", "Becker", "DE", "jonas.becker", "example.de"),
    ("beatriz", "Beatriz", "Souza", "BR", "beatriz.souza", "example.com.br"),
    ("liam", "Liam", "O'Connor", "IE", "liam.oconnor", "example.ie"),
    ("chloe", "Chloe", "Nguyen", "AU", "chloe.nguyen", "example.com.au"),
    ("omar", "Omar", "Haddad", "AE", "omar.haddad", "example.ae"),
    ("giulia", "Giulia", "Romano", "IT", "giulia.romano", "example.it"),
    ("marcus", "Marcus", "Johnson", "US", "marcus.j", "example.net"),
    ("elena", "Elena", "Petrova", "DE", "elena.petrova", "example.org"),
    ("tomas", "Tomás", "García", "MX", "tomas.garcia", "example.mx"),
    ("hannah", "Hannah", "Schmidt", "DE", "hannah.schmidt", "example.de"),
    ("ravi", "Ravi", "Patel", "GB", "ravi.patel", "example.co.uk"),
    ("mei", "Mei", "Chen", "US", "mei.chen", "example.com"),
    ("noah", "Noah", "Williams", "US", "noah.williams", "example.com"),
    ("fatima", "Fatima", "Zahra", "FR", "fatima.zahra", "example.fr"),
    ("sven", "Sven", "Lindqvist", "SE", "sven.lindqvist", "example.se"),
    ("isabella", "Isabella", "Rossi", "IT", "isabella.rossi", "example.it"),
]


class Builder:
    """Accumulates payload files and manifest steps; one seeded generator draws every value."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.files: dict[str, bytes] = {}
        self.steps: list[dict[str, Any]] = []
        self.people: dict[str, Persona] = {}
        self._counter = 0
        self._update_id = 584_120_000
        self._tg_message_id = 2_100
        for key, first, last, region, local, domain in _PEOPLE:
            self.people[key] = Persona(
                key=key,
                first=first,
                last=last,
                region=region,
                email=f"{local}@{domain}",
                phone=self.phone(region),
                psid=str(self.rng.randrange(10**15, 10**16)),
                telegram_id=self.rng.randrange(10**8, 2 * 10**9),
                visitor_id="v_" + self.token(string.ascii_lowercase + string.digits, 10),
            )

    # --- random values ----------------------------------------------------------

    def token(self, alphabet: str, length: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def hexid(self, prefix: str) -> str:
        return prefix + self.token("0123456789abcdef", 32)

    def phone(self, region: str) -> str:
        """A valid mobile number of ``region`` in E.164 (drawn until phonenumbers calls it valid)."""
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None
        national = str(example.national_number)
        while True:
            digits = national[:3] + "".join(self.rng.choice(string.digits) for _ in national[3:])
            number = phonenumbers.parse(f"+{example.country_code}{digits}")
            if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE:
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def wamid(self) -> str:
        return "wamid.HBgL" + self.token(string.ascii_letters + string.digits, 40) + "AA=="

    def mid(self) -> str:
        return "m_" + self.token(string.ascii_letters + string.digits + "-_", 38)

    # --- steps --------------------------------------------------------------------

    def _name(self, channel: str, ext: str) -> str:
        self._counter += 1
        return f"payloads/{self._counter:03d}-{channel}.{ext}"

    def deliver(
        self,
        channel: str,
        body: bytes,
        ext: str,
        at: datetime,
        persona: str | None,
        note: str,
        *,
        content_type: str,
        expect: str = "ok",
        sign_with: str = "demo",
        story: str | None = None,
    ) -> str:
        """Add a payload file and its delivery step; return the step id."""
        file = self._name(channel, ext)
        self.files[file] = body
        step_id = f"s{len(self.steps) + 1:03d}"
        self.steps.append(
            {
                "step": "deliver",
                "id": step_id,
                "channel": channel,
                "file": file,
                "method": "POST",
                "url": f"{BASE_URL}/{channel}",
                "headers": {"content-type": content_type},
                "received_at": iso(at),
                "expect": expect,
                "sign_with": sign_with,
                "duplicate_of": None,
                "persona": persona,
                "story": story,
                "note": note,
            }
        )
        return step_id

    def retry(self, step_id: str, after: timedelta, note: str) -> str:
        """Deliver an earlier step's payload again, byte for byte, as a webhook retry does."""
        original = next(s for s in self.steps if s["id"] == step_id)
        received = parse_iso(original["received_at"]) + after
        new_id = f"s{len(self.steps) + 1:03d}"
        self.steps.append(
            {**original, "id": new_id, "received_at": iso(received), "duplicate_of": step_id, "note": note}
        )
        return new_id

    # --- channel payloads ----------------------------------------------------------

    def webchat(
        self,
        p: Persona,
        session: str,
        events: list[tuple[str, datetime, dict[str, Any]]],
        note: str,
        *,
        typed: tuple[str, ...] = (),
        story: str | None = None,
    ) -> str:
        """A signed batch (docs/reference/webchat-protocol.md); ``typed`` fields ride on the first event."""
        out = []
        for n, (kind, at, data) in enumerate(events):
            visitor: dict[str, Any] = {"id": p.visitor_id}
            if n == 0:
                for name in typed:
                    visitor[name] = {"email": p.email, "phone": phone_typed(p), "name": p.name}[name]
            event: dict[str, Any] = {
                "id": "evt_" + self.token("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 10),
                "type": kind,
                "occurred_at": iso(at),
                "session_id": session,
                "visitor": visitor,
            }
            event.update(data)
            out.append(event)
        body = compact({"version": 1, "site_id": SITE_ID, "events": out})
        last = events[-1][1]
        return self.deliver(
            "webchat",
            body,
            "json",
            last + timedelta(seconds=1),
            p.key,
            note,
            content_type="application/json",
            story=story,
        )

    def chat_message(self, role: str, text: str, agent: tuple[str, str] | None = None) -> dict[str, Any]:
        author: dict[str, Any] = {"role": role}
        if agent is not None:
            author["id"], author["name"] = agent
        return {"message": {"id": "msg_" + self.token(string.digits, 8), "author": author, "text": text}}

    def email(
        self,
        p: Persona,
        at: datetime,
        subject: str,
        text: str,
        note: str,
        *,
        outbound: bool = False,
        in_reply_to: str | None = None,
        story: str | None = None,
    ) -> tuple[str, str]:
        """A plain-text RFC 5322 message (the headers of tests/fixtures/email_*.eml); returns (step, Message-ID)."""
        local = self.token(string.ascii_uppercase + string.digits, 24)
        domain = SUPPORT_DOMAIN if outbound else p.email.split("@", 1)[1]
        message_id = f"<{local}@mail.{domain}>"
        support = formataddr(("Northwind Support", SUPPORT_EMAIL))
        customer = formataddr((p.name, p.email), "utf-8")  # RFC 2047 for a non-ASCII name
        sender, recipient = (support, customer) if outbound else (customer, support)
        headers = [
            "MIME-Version: 1.0",
            f"Date: {format_datetime(at)}",
            f"Message-ID: {message_id}",
            f"Subject: {subject if subject.isascii() else Header(subject, 'utf-8').encode()}",
            f"From: {sender}",
            f"To: {recipient}",
        ]
        if in_reply_to:
            headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
        headers += ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
        raw = ("\r\n".join(headers) + "\r\n\r\n" + text.replace("\n", "\r\n") + "\r\n").encode("utf-8")
        step = self.deliver(
            "email",
            raw,
            "eml",
            at + timedelta(seconds=self.rng.randrange(2, 20)),
            p.key,
            note,
            content_type="message/rfc822",
            story=story,
        )
        return step, message_id

    def _wa_envelope(self, value: dict[str, Any]) -> bytes:
        """The whatsapp_business_account envelope of tests/fixtures/whatsapp_text.json."""
        base = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": WA_DISPLAY, "phone_number_id": WA_PHONE_NUMBER_ID},
        }
        return compact(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": WABA_ID, "changes": [{"value": {**base, **value}, "field": "messages"}]}],
            }
        )

    def whatsapp_text(
        self, p: Persona, at: datetime, text: str, note: str, *, story: str | None = None
    ) -> str:
        wa_id = p.phone.lstrip("+")
        body = self._wa_envelope(
            {
                "contacts": [{"profile": {"name": p.name}, "wa_id": wa_id}],
                "messages": [
                    {
                        "from": wa_id,
                        "id": self.wamid(),
                        "timestamp": str(int(at.timestamp())),
                        "type": "text",
                        "text": {"body": text},
                    }
                ],
            }
        )
        return self.deliver(
            "whatsapp",
            body,
            "json",
            at + timedelta(seconds=1),
            p.key,
            note,
            content_type="application/json",
            story=story,
        )

    def whatsapp_status(self, p: Persona, at: datetime, status: str, wamid: str, note: str) -> str:
        """A status of a message the business sent (tests/fixtures/whatsapp_status_*.json)."""
        wa_id = p.phone.lstrip("+")
        body = self._wa_envelope(
            {
                "statuses": [
                    {
                        "id": wamid,
                        "status": status,
                        "timestamp": str(int(at.timestamp())),
                        "recipient_id": wa_id,
                        "conversation": {
                            "id": self.token("0123456789abcdef", 30),
                            "origin": {"type": "service"},
                        },
                        "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
                    }
                ]
            }
        )
        return self.deliver(
            "whatsapp", body, "json", at + timedelta(seconds=1), p.key, note, content_type="application/json"
        )

    def messenger(self, events: list[dict[str, Any]], at: datetime, persona: str, note: str) -> str:
        """A ``page`` webhook (docs/channels/messenger.md) around events of the documented forms."""
        body = compact({"object": "page", "entry": [{"id": PAGE_ID, "time": ms(at), "messaging": events}]})
        return self.deliver(
            "messenger",
            body,
            "json",
            at + timedelta(seconds=1),
            persona,
            note,
            content_type="application/json",
        )

    def messenger_text(self, p: Persona, at: datetime, text: str) -> dict[str, Any]:
        """tests/fixtures/messenger_text_event_docs.json without the quick reply."""
        return {
            "sender": {"id": p.psid},
            "recipient": {"id": PAGE_ID},
            "timestamp": ms(at),
            "message": {"mid": self.mid(), "text": text},
        }

    def messenger_echo(self, p: Persona, at: datetime, text: str) -> dict[str, Any]:
        """tests/fixtures/messenger_echo_text_docs.json: what the page (an agent) sent."""
        return {
            "sender": {"id": PAGE_ID},
            "recipient": {"id": p.psid},
            "timestamp": ms(at),
            "message": {"is_echo": True, "app_id": 263902037430900, "mid": self.mid(), "text": text},
        }

    def messenger_delivery(self, p: Persona, at: datetime, mid: str) -> dict[str, Any]:
        """tests/fixtures/messenger_delivery_event_docs.json."""
        return {
            "sender": {"id": p.psid},
            "recipient": {"id": PAGE_ID},
            "timestamp": ms(at),
            "delivery": {"mids": [mid], "watermark": ms(at)},
        }

    def sms(
        self,
        p: Persona,
        at: datetime,
        text: str,
        note: str,
        *,
        sign_with: str = "demo",
        expect: str = "ok",
        story: str | None = None,
    ) -> str:
        """An inbound SMS (tests/fixtures/channels/twilio_sms_botbuilder.form.txt)."""
        sid = self.hexid("SM")
        params = {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": text,
            "FromCountry": p.region,
            "To": SUPPORT_PHONE,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": TWILIO_ACCOUNT,
            "From": p.phone,
            "ApiVersion": "2010-04-01",
        }
        return self.deliver(
            "twilio",
            urlencode(params).encode(),
            "form",
            at,
            p.key,
            note,
            content_type="application/x-www-form-urlencoded",
            sign_with=sign_with,
            expect=expect,
            story=story,
        )

    def sms_status(self, p: Persona, at: datetime, sid: str, status: str, note: str) -> str:
        """A status callback of an SMS the business sent (twilio_status_delivered_docs.form.txt)."""
        params = {
            "SmsSid": sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": p.phone,
            "MessageSid": sid,
            "AccountSid": TWILIO_ACCOUNT,
            "From": SUPPORT_PHONE,
            "ApiVersion": "2010-04-01",
        }
        return self.deliver(
            "twilio",
            urlencode(params).encode(),
            "form",
            at,
            p.key,
            note,
            content_type="application/x-www-form-urlencoded",
        )

    def call(
        self, p: Persona, at: datetime, seconds: int, note: str, *, story: str | None = None
    ) -> list[str]:
        """An inbound call: the incoming-call webhook, then the completed status callback
        (twilio_voice_incoming_docs.form.txt, twilio_voice_status_completed_docs.form.txt)."""
        sid = self.hexid("CA")
        common = {
            "Called": SUPPORT_PHONE,
            "ToState": "CA",
            "CallerCountry": p.region,
            "Direction": "inbound",
            "CallerState": "",
            "ToZip": "94105",
            "CallSid": sid,
            "To": SUPPORT_PHONE,
            "CallerZip": "",
            "ToCountry": "US",
            "CalledZip": "94105",
            "ApiVersion": "2010-04-01",
            "CalledCity": "SAN FRANCISCO",
        }
        tail = {
            "From": p.phone,
            "AccountSid": TWILIO_ACCOUNT,
            "CalledCountry": "US",
            "CallerCity": "",
            "ToCity": "SAN FRANCISCO",
            "FromCountry": p.region,
            "Caller": p.phone,
            "FromCity": "",
            "CalledState": "CA",
            "FromZip": "",
            "FromState": "",
        }
        ringing = {**common, "CallStatus": "ringing", **tail}
        end = at + timedelta(seconds=seconds + 6)
        completed = {
            **common,
            "Timestamp": format_datetime(end, usegmt=True),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "3",
            "CallStatus": "completed",
            "Duration": str((seconds + 59) // 60),
            "CallDuration": str(seconds),
            **tail,
        }
        return [
            self.deliver(
                "twilio_voice",
                urlencode(ringing).encode(),
                "form",
                at,
                p.key,
                note + " (ringing)",
                content_type="application/x-www-form-urlencoded",
                story=story,
            ),
            self.deliver(
                "twilio_voice",
                urlencode(completed).encode(),
                "form",
                end,
                p.key,
                note + " (completed)",
                content_type="application/x-www-form-urlencoded",
                story=story,
            ),
        ]

    def _tg_user(self, p: Persona) -> dict[str, Any]:
        return {
            "id": p.telegram_id,
            "is_bot": False,
            "first_name": p.first,
            "last_name": p.last,
            "language_code": p.extra.get("lang", "en"),
        }

    def telegram(
        self, p: Persona, at: datetime, note: str, *, text: str | None = None, share_contact: bool = False
    ) -> str:
        """An Update with a private-chat message (tests/fixtures/channels/telegram_text.json,
        telegram_contact_own_docs.json for a shared contact)."""
        self._update_id += self.rng.randrange(1, 40)
        self._tg_message_id += self.rng.randrange(1, 9)
        chat = {"id": p.telegram_id, "first_name": p.first, "last_name": p.last, "type": "private"}
        message: dict[str, Any] = {
            "message_id": self._tg_message_id,
            "from": self._tg_user(p),
            "chat": chat,
            "date": int(at.timestamp()),
        }
        if share_contact:
            message["contact"] = {
                "phone_number": p.phone.lstrip("+"),
                "first_name": p.first,
                "last_name": p.last,
                "user_id": p.telegram_id,
            }
        else:
            message["text"] = text
        body = compact({"update_id": self._update_id, "message": message})
        return self.deliver(
            "telegram", body, "json", at + timedelta(seconds=1), p.key, note, content_type="application/json"
        )

    def webform(
        self,
        p: Persona | None,
        at: datetime,
        fields: dict[str, str],
        note: str,
        *,
        expect: str = "ok",
        persona: str | None = None,
    ) -> str:
        """A contact form post, form-encoded like tests/fixtures/webform_contact.form.txt."""
        return self.deliver(
            "webform",
            urlencode(fields).encode(),
            "form",
            at,
            persona or (p.key if p else None),
            note,
            content_type="application/x-www-form-urlencoded",
            expect=expect,
        )

    def link(self, a: str, b: str, at: datetime, actor: str, reason: str) -> None:
        self.steps.append(
            {
                "step": "link",
                "id": f"s{len(self.steps) + 1:03d}",
                "a": a,
                "b": b,
                "at": iso(at),
                "actor": actor,
                "reason": reason,
            }
        )

    def split(self, of: str, groups: list[list[str]], at: datetime, actor: str, reason: str) -> None:
        self.steps.append(
            {
                "step": "split",
                "id": f"s{len(self.steps) + 1:03d}",
                "of": of,
                "groups": groups,
                "at": iso(at),
                "actor": actor,
                "reason": reason,
            }
        )


# --- helpers ------------------------------------------------------------------------


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def compact(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def phone_typed(p: Persona) -> str:
    """The number as a person types it: international format with spaces."""
    number = phonenumbers.parse(p.phone)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def day(n: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return START + timedelta(days=n, hours=hour - 8, minutes=minute, seconds=second)


AGENTS = {
    "maya": ("agent_maya", "Maya Lopez"),
    "sam": ("agent_sam", "Sam Carter"),
    "ines": ("agent_ines", "Inês Costa"),
}


# --- the data set ---------------------------------------------------------------------


def build(seed: int = SEED) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Return (relative file name -> bytes, manifest document)."""
    b = Builder(seed)
    people = b.people
    sec = timedelta(seconds=1)

    # 1. The seed story: chat (email and phone typed) -> email -> WhatsApp -> phone call.
    lucia = people["lucia"]
    t = day(0, 9, 12, 4)
    session = "sess_" + b.token("0123456789abcdef", 12)
    b.webchat(
        lucia,
        session,
        [
            (
                "message",
                t,
                b.chat_message(
                    "visitor",
                    "Hola! My hiking boots (order NW-48213) arrived with a torn "
                    "sole. Can I get a replacement?",
                ),
            ),
            (
                "message",
                t + 8 * sec,
                b.chat_message(
                    "bot", "Thanks! An agent will be with you shortly.", ("triage-bot", "Northwind Bot")
                ),
            ),
        ],
        "seed story 1/4: live chat, the visitor types email and phone in the pre-chat form",
        typed=("email", "phone", "name"),
        story="seed",
    )
    t2 = t + timedelta(minutes=2, seconds=31)
    b.webchat(
        lucia,
        session,
        [
            (
                "message",
                t2,
                b.chat_message(
                    "agent",
                    "Sorry about that, Lucía! Could you email us a photo of the "
                    "sole? I will send you the return label there.",
                    AGENTS["maya"],
                ),
            ),
            (
                "message",
                t2 + timedelta(minutes=1, seconds=12),
                b.chat_message("visitor", "Sure, I'll email it now."),
            ),
        ],
        "seed story: agent reply in the chat and the visitor's answer",
        story="seed",
    )
    b.webchat(
        lucia,
        session,
        [
            (
                "session.closed",
                t2 + timedelta(minutes=4),
                {
                    "closed_by": "visitor",
                    "rating": {"scale": "csat", "score": 5, "comment": "Maya was quick and kind."},
                },
            )
        ],
        "seed story: the chat closes with a CSAT rating of 5",
        story="seed",
    )
    _, lucia_mail = b.email(
        lucia,
        t + timedelta(minutes=19),
        "Torn sole - order NW-48213",
        "Hi Maya,\n\nhere is the photo of the torn sole (order NW-48213).\n\nThanks,\nLucía",
        "seed story 2/4: an email from the address typed in the chat",
        story="seed",
    )
    b.email(
        lucia,
        t + timedelta(minutes=41),
        "Re: Torn sole - order NW-48213",
        "Hi Lucía,\n\nthanks for the photo. Your replacement pair ships tomorrow; the return label is "
        "attached to your order page.\n\nMaya\nNorthwind Support",
        "agent reply by email (from the business address: outbound)",
        outbound=True,
        in_reply_to=lucia_mail,
        story="seed",
    )
    b.whatsapp_text(
        lucia,
        day(2, 17, 3, 40),
        "Hi, it's Lucía again - the replacement hasn't shipped yet, any news?",
        "seed story 3/4: a WhatsApp message from the number typed in the chat",
        story="seed",
    )
    b.call(lucia, day(3, 10, 21, 5), 312, "seed story 4/4: a phone call from that number", story="seed")

    # 2. Journey: web form -> email -> SMS.
    priya = people["priya"]
    b.webform(
        priya,
        day(1, 11, 5),
        {
            "your-name": priya.name,
            "your-email": priya.email,
            "your-phone": phone_typed(priya),
            "your-subject": "Wrong size delivered",
            "your-message": "I ordered the rain jacket in M and received an XL (order NW-48377).",
        },
        "journey: web form with email and phone",
    )
    b.email(
        priya,
        day(1, 15, 48),
        "Wrong size delivered - NW-48377",
        "Hello,\n\nI filled in your form this morning. Should I send the XL back before you ship the M?\n\n"
        "Regards,\nPriya",
        "journey: email from the address given in the form",
    )
    b.sms(
        priya,
        day(4, 9, 2, 30),
        "Got the M, fits perfectly. Thank you!",
        "journey: SMS from the number given in the form",
    )

    # 3. Journey: SMS -> call -> chat (phone typed), with a duplicate SMS delivery.
    oliver = people["oliver"]
    first_sms = b.sms(
        oliver, day(2, 8, 30, 11), "Hi, is the Trailblazer 40L backpack back in stock?", "journey: SMS"
    )
    b.retry(first_sms, timedelta(seconds=15), "webhook retry: the same SMS delivered again")
    b.sms_status(oliver, day(2, 8, 44, 2), b.hexid("SM"), "delivered", "status of the agent's SMS reply")
    b.call(oliver, day(5, 12, 10, 40), 187, "journey: call from the same number")
    b.webchat(
        oliver,
        "sess_" + b.token("0123456789abcdef", 12),
        [("message", day(8, 19, 2), b.chat_message("visitor", "Ordered the backpack, when will it ship?"))],
        "journey: chat, phone typed in the pre-chat form",
        typed=("phone", "name"),
    )

    # 4. Journey: Telegram -> shares contact -> call.
    kenji = people["kenji"]
    kenji.extra["lang"] = "ja"
    b.telegram(
        kenji,
        day(3, 1, 14),
        "journey: Telegram message",
        text="Hello, can I change the delivery address of order NW-48512?",
    )
    b.telegram(
        kenji, day(3, 1, 16, 30), "journey: Telegram contact shared (own phone number)", share_contact=True
    )
    b.call(kenji, day(3, 1, 40), 95, "journey: call from that number")

    # 5. Journey: WhatsApp -> web form -> email, agent WhatsApp reply statuses, duplicate delivery.
    amara = people["amara"]
    wa = b.whatsapp_text(
        amara, day(6, 14, 0, 9), "Good afternoon, do you ship to Cape Town?", "journey: WhatsApp message"
    )
    b.retry(wa, timedelta(minutes=1), "webhook retry: the same WhatsApp message delivered again")
    reply = b.wamid()
    b.whatsapp_status(amara, day(6, 14, 6), "sent", reply, "status of the agent's WhatsApp reply: sent")
    b.whatsapp_status(amara, day(6, 14, 6, 3), "delivered", reply, "status: delivered")
    b.whatsapp_status(amara, day(6, 14, 9, 30), "read", reply, "status: read")
    b.webform(
        amara,
        day(7, 10, 15),
        {
            "your-name": amara.name,
            "your-email": amara.email,
            "your-phone": phone_typed(amara),
            "your-subject": "Shipping quote",
            "your-message": "Please send a shipping quote for 3 tents to Cape Town.",
        },
        "journey: web form, same phone, plus email",
    )
    b.email(
        amara,
        day(8, 9, 30),
        "Shipping quote for 3 tents",
        "Hi,\n\njust checking you received my form yesterday.\n\nAmara",
        "journey: email",
    )

    # 6. Messenger customers with agent echoes and deliveries; a duplicated Messenger delivery.
    daniel_a = people["daniel_a"]
    t = day(4, 16, 20)
    m1 = b.messenger_text(daniel_a, t, "Hey, do you price-match other stores?")
    dup = b.messenger([m1], t, daniel_a.key, "Messenger message")
    b.retry(dup, timedelta(seconds=20), "webhook retry: the same Messenger delivery again")
    echo = b.messenger_echo(daniel_a, t + timedelta(minutes=3), "Hi Daniel! Yes, within 14 days of purchase.")
    b.messenger([echo], t + timedelta(minutes=3), daniel_a.key, "agent reply (message echo)")
    b.messenger(
        [b.messenger_delivery(daniel_a, t + timedelta(minutes=3, seconds=2), echo["message"]["mid"])],
        t + timedelta(minutes=3, seconds=2),
        daniel_a.key,
        "delivery of the agent's reply",
    )
    for key, text, answer, n in [
        ("sophie", "Bonjour, la tente Nimbus 2 est-elle imperméable ?", "Bonjour Sophie, oui : 3000 mm.", 1),
        ("jonas", "Hallo, kann ich meine Bestellung NW-48640 stornieren?", "Hallo Jonas, erledigt!", 5),
        ("beatriz", "Oi! Vocês têm o casaco Alpine em verde?", "Oi Beatriz, temos sim, tamanhos P a G.", 9),
        ("chloe", "Hi, what's the warranty on the Summit stove?", "Hi Chloe, two years.", 11),
    ]:
        p = people[key]
        t = day(n, 10 + n % 7, 7 * n % 60)
        b.messenger([b.messenger_text(p, t, text)], t, key, "Messenger message")
        e = b.messenger_echo(p, t + timedelta(minutes=6), answer)
        b.messenger([e], t + timedelta(minutes=6), key, "agent reply (message echo)")

    # 7. Single-channel customers on every channel.
    b.whatsapp_text(
        people["omar"], day(5, 20, 11), "Hello, is the 20% discount code still valid?", "WhatsApp message"
    )
    b.whatsapp_text(
        people["giulia"], day(9, 11, 40), "Ciao, il mio ordine NW-49002 è in ritardo.", "WhatsApp message"
    )
    b.email(
        people["marcus"],
        day(1, 22, 5),
        "Invoice for order NW-48290",
        "Hi,\n\ncould you send me a VAT invoice for order NW-48290?\n\nMarcus Johnson",
        "email",
    )
    b.email(
        people["elena"],
        day(10, 7, 58),
        "Rücksendung / return",
        "Hello,\n\nthe sleeping bag is too small, how do I return it?\n\nElena",
        "email",
    )
    tomas_sid = b.hexid("SM")
    b.sms(people["tomas"], day(6, 18, 25), "Hola, ¿tienen tienda física en CDMX?", "SMS")
    b.sms_status(
        people["tomas"], day(6, 18, 31), tomas_sid, "undelivered", "status of the agent's SMS: undelivered"
    )
    b.call(people["hannah"], day(10, 14, 2), 241, "phone call")
    b.telegram(
        people["ravi"],
        day(11, 21, 13),
        "Telegram message",
        text="Hi, does the Ridge jacket come in size XXL?",
    )
    b.telegram(
        people["sven"], day(12, 9, 51), "Telegram message", text="Hej! Is click & collect available in Malmö?"
    )
    b.webchat(
        people["mei"],
        "sess_" + b.token("0123456789abcdef", 12),
        [
            ("message", day(11, 13, 37), b.chat_message("visitor", "Do you offer gift wrapping?")),
            ("message", day(11, 13, 39), b.chat_message("agent", "Yes, for $4 at checkout!", AGENTS["sam"])),
        ],
        "chat with an agent reply",
        typed=("email", "name"),
    )
    b.webform(
        people["noah"],
        day(12, 16, 44),
        {
            "your-name": people["noah"].name,
            "your-email": people["noah"].email,
            "your-subject": "Bulk order",
            "your-message": "We need 40 fleece jackets for our school trip.",
        },
        "web form",
    )
    b.email(
        people["fatima"],
        day(13, 8, 12),
        "Colis non reçu",
        "Bonjour,\n\nmon colis NW-49310 indique livré mais je ne l'ai pas reçu.\n\nFatima",
        "email",
    )
    b.whatsapp_text(people["isabella"], day(13, 19, 4), "Buonasera, accettate PayPal?", "WhatsApp message")
    liam = people["liam"]
    b.sms(liam, day(7, 12, 12), "Hi, my discount code SAVE10 doesn't work at checkout.", "SMS")

    # 8. The wrong merge: two different people named Daniel Kim.
    daniel_b = people["daniel_b"]
    b.email(
        daniel_b,
        day(9, 9, 14),
        "Question about my order NW-48999",
        "Hello,\n\nmy order NW-48999 shows 'label created' since Monday. Any update?\n\nDaniel Kim\nToronto",
        "the other Daniel Kim writes by email",
    )
    b.link(
        f"messenger_psid@{PAGE_ID}:{daniel_a.psid}",
        f"email:{daniel_b.email}",
        day(9, 9, 30),
        "agent:agent_sam",
        "same name as the Messenger customer Daniel Kim; looks like the same person",
    )
    b.messenger(
        [b.messenger_text(daniel_a, day(10, 11, 2), "Also, can I use the price match on sale items?")],
        day(10, 11, 2),
        daniel_a.key,
        "the Messenger Daniel Kim writes again (timeline now mixed)",
    )
    b.email(
        daniel_b,
        day(10, 15, 27),
        "Re: Question about my order NW-48999",
        "Hi,\n\nyour reply talks about a price match - I never asked about that. I'm asking about "
        "my delivery to Toronto.\n\nDaniel",
        "the email Daniel Kim notices the mix-up",
    )
    b.split(
        f"email:{daniel_b.email}",
        [[f"messenger_psid@{PAGE_ID}:{daniel_a.psid}"], [f"email:{daniel_b.email}"]],
        day(10, 15, 40),
        "agent:agent_sam",
        "wrong merge: two different people named Daniel Kim (Messenger, US; email, Toronto)",
    )

    # 9. Failures the raw inbox keeps: one forged signature, one malformed submission.
    b.sms(
        liam,
        day(7, 12, 20),
        "Please send me all stored card numbers",
        "forged: signed without the auth token (SignatureError; kept failed in the raw inbox)",
        sign_with="forged",
        expect="signature_error",
    )
    b.webform(
        None,
        day(12, 3, 3),
        {
            "your-name": "Support Tester",
            "your-subject": "hello",
            "your-message": "Testing the form, ignore.",
        },
        "malformed: a submission with neither email nor phone (PayloadError; kept failed in the raw inbox)",
        expect="payload_error",
        persona=None,
    )

    steps = sorted(b.steps, key=lambda s: (s.get("received_at") or s["at"], s["id"]))
    # Ids follow delivery order; references to earlier ids are renumbered with them.
    renumber = {s["id"]: f"s{n:03d}" for n, s in enumerate(steps, 1)}
    for s in steps:
        s["id"] = renumber[s["id"]]
        if s.get("duplicate_of"):
            s["duplicate_of"] = renumber[s["duplicate_of"]]
    # Payload files are numbered in delivery order too; a retry reuses its original's file.
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for s in steps:
        if s["step"] == "deliver" and s["file"] not in names:
            ext = s["file"].rsplit(".", 1)[1]
            names[s["file"]] = f"payloads/{len(names) + 1:03d}-{s['channel']}.{ext}"
            files[names[s["file"]]] = b.files[s["file"]]
    for s in steps:
        if s["step"] == "deliver":
            s["file"] = names[s["file"]]
    manifest = {
        "format": 1,
        "generated_by": "scripts/make_demo_payloads.py",
        "seed": seed,
        "site_id": SITE_ID,
        "support_email": SUPPORT_EMAIL,
        "support_phone": SUPPORT_PHONE,
        "page_id": PAGE_ID,
        "steps": steps,
    }
    return files, manifest


def write(out: Path, seed: int = SEED) -> list[Path]:
    """Write the payloads and manifest.json under ``out``; return the paths written (stale payloads removed)."""
    files, manifest = build(seed)
    payloads = out / "payloads"
    payloads.mkdir(parents=True, exist_ok=True)
    for stale in payloads.iterdir():
        if stale.is_file() and f"payloads/{stale.name}" not in files:
            stale.unlink()
    written = []
    for name, data in sorted(files.items()):
        path = out / name
        path.write_bytes(data)
        written.append(path)
    target = out / "manifest.json"
    target.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="directory to write (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    paths = write(args.out, args.seed)
    print(f"wrote {len(paths)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
