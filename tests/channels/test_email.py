"""Email adapter behaviour beyond the contract: identity assurance, direction, automation,
attachments, outbound MIME, mbox import, and CPython's email test corpus."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from omnicx.channels import OutboundMessage
from omnicx.channels.email import EmailAdapter, EmailConfig, iter_mbox, message_ids
from omnicx.errors import ConfigurationError, PayloadError, UnsupportedEvent
from omnicx.models import Direction, Identifier, MediaPart, Message
from omnicx.testing import inbound_request

FIXTURES = Path(__file__).parent.parent / "fixtures"
GMAIL_AR = (
    "Authentication-Results: mx.acme.example; dkim=pass header.d=gmail.com; "
    "spf=pass smtp.mailfrom=xxx@gmail.com; dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com\n"
)


def fixture(name: str, *, prepend: str = "") -> bytes:
    return prepend.encode() + (FIXTURES / name).read_bytes()


def parse_one(raw: bytes, **config: object) -> Message:
    events = EmailAdapter(EmailConfig.model_validate(config)).parse(inbound_request(raw))
    assert len(events) == 1
    message = events[0].interaction
    assert isinstance(message, Message)
    return message


def observed(raw: bytes, **config: object) -> list[str]:
    events = EmailAdapter(EmailConfig.model_validate(config)).parse(inbound_request(raw))
    return [f"{o.identifier} ({o.assurance.value})" for o in events[0].identifiers]


# --- identity ------------------------------------------------------------------------


def test_from_is_asserted_without_a_trusted_authentication_result() -> None:
    assert observed(fixture("email_gmail.eml", prepend=GMAIL_AR)) == ["email:xxx@gmail.com (asserted)"]


def test_from_is_verified_by_dmarc_pass_from_the_trusted_mta() -> None:
    raw = fixture("email_gmail.eml", prepend=GMAIL_AR)
    assert observed(raw, trusted_authserv_id="mx.acme.example") == ["email:xxx@gmail.com (verified)"]
    assert parse_one(raw, trusted_authserv_id="mx.acme.example").metadata["authentication"] == "dmarc=pass"


@pytest.mark.parametrize(
    "header",
    [
        # another MTA wrote it (an attacker can add any header before our border)
        GMAIL_AR.replace("mx.acme.example", "mx.evil.example"),
        GMAIL_AR.replace("dmarc=pass", "dmarc=fail"),
        GMAIL_AR.replace("header.from=gmail.com", "header.from=evil.example"),
        GMAIL_AR.replace("dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com", "dmarc=none"),
    ],
    ids=["other-authserv", "dmarc-fail", "other-domain", "no-dmarc"],
)
def test_from_stays_asserted_unless_dmarc_passes_for_its_domain(header: str) -> None:
    raw = fixture("email_gmail.eml", prepend=header)
    assert observed(raw, trusted_authserv_id="mx.acme.example") == ["email:xxx@gmail.com (asserted)"]


def test_reply_to_is_only_inferred_while_from_is_unverified() -> None:
    raw = fixture("email_gmail.eml", prepend="Reply-To: Megan at work <Megan.One@Work.example>\n")
    assert observed(raw) == ["email:xxx@gmail.com (asserted)", "email:megan.one@work.example (inferred)"]


def test_reply_to_is_asserted_when_from_is_verified() -> None:
    raw = fixture("email_gmail.eml", prepend=GMAIL_AR + "Reply-To: Megan at work <Megan.One@Work.example>\n")
    assert observed(raw, trusted_authserv_id="mx.acme.example") == [
        "email:xxx@gmail.com (verified)",
        "email:megan.one@work.example (asserted)",
    ]


def relayed(sender: str, reply_to: str | None) -> bytes:
    """The Gmail fixture as a contact form or marketplace relays it: From the relay, and the
    person who wrote it in Reply-To (RFC 5322 section 3.6.2: where replies should go)."""
    raw = fixture("email_gmail.eml").replace(b"From: Megan One <xxx@gmail.com>", f"From: {sender}".encode())
    return (f"Reply-To: {reply_to}\n".encode() if reply_to else b"") + raw


@pytest.mark.parametrize(
    ("sender", "config", "relay"),
    [
        ("Shopify <mailer@shopify.com>", {"relay_senders": ("mailer@shopify.com",)}, "mailer@shopify.com"),
        (
            "Shop Forms <forms@Mail.Shop-Forms.example>",
            {"relay_senders": ("@mail.shop-forms.example",)},
            "forms@mail.shop-forms.example",
        ),
        (
            "Formspree <noreply@formspree.io>",
            {},
            "noreply@formspree.io",
        ),  # a no-reply sender needs no listing
        ("Site <do-not-reply+forms@acme.example>", {}, "do-not-reply+forms@acme.example"),
    ],
    ids=["listed-address", "listed-domain", "noreply", "do-not-reply-tagged"],
)
def test_a_relayed_message_is_the_reply_to_persons(
    sender: str, config: dict[str, object], relay: str
) -> None:
    raw = relayed(sender, "Megan One <Megan.One@Work.example>")
    assert observed(raw, **config) == ["email:megan.one@work.example (asserted)"]  # the relay links to nobody
    message = parse_one(raw, **config)
    assert message.endpoint == Identifier(kind="email", value="megan.one@work.example")  # replies go there
    assert message.author.name == "Megan One"
    assert message.metadata["relay"] == relay


def test_a_relay_without_reply_to_or_naming_the_business_stays_the_sender() -> None:
    config: dict[str, object] = {
        "relay_senders": ("mailer@shopify.com",),
        "business_addresses": ("help@acme.example",),
    }
    assert observed(relayed("mailer@shopify.com", None), **config) == ["email:mailer@shopify.com (asserted)"]
    assert observed(relayed("mailer@shopify.com", "help@acme.example"), **config) == [
        "email:mailer@shopify.com (asserted)"
    ]
    # an unlisted sender keeps Reply-To as a mere inference beside itself
    assert observed(relayed("Ops <ops@shop-forms.example>", "megan.one@work.example")) == [
        "email:ops@shop-forms.example (asserted)",
        "email:megan.one@work.example (inferred)",
    ]


def test_relay_senders_must_be_addresses_or_domains() -> None:
    with pytest.raises(ConfigurationError, match="relay_senders"):
        EmailAdapter(EmailConfig(relay_senders=("not an address",)))


def test_to_and_cc_are_metadata_not_identifiers() -> None:
    raw = fixture("email_gmail.eml", prepend="Cc: Other Person <other@example.org>\n")
    message = parse_one(raw)
    assert message.metadata["to"] == ["bob@example.com"]
    assert message.metadata["cc"] == ["other@example.org"]
    assert observed(raw) == ["email:xxx@gmail.com (asserted)"]


def test_mail_from_a_business_address_is_an_agent_reply_to_the_customer() -> None:
    message = parse_one(fixture("email_thunderbird.eml"), business_addresses=["Bob@xxx.mailgun.org"])
    assert message.direction is Direction.OUTBOUND
    assert message.author.role.value == "agent"
    assert str(message.endpoint) == "email:xxx@gmail.com"


def test_mail_between_business_addresses_only_is_unsupported() -> None:
    adapter = EmailAdapter(EmailConfig(business_addresses=("bob@xxx.mailgun.org", "xxx@gmail.com")))
    with pytest.raises(UnsupportedEvent):
        adapter.parse(inbound_request(fixture("email_thunderbird.eml")))


def test_a_bad_business_address_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="business_addresses"):
        EmailAdapter(EmailConfig(business_addresses=("not an address",)))


# --- automation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "automation"),
    [
        ("Auto-Submitted: auto-replied\n", "auto_reply"),
        ("Auto-Submitted: auto-generated\n", "auto_reply"),
        ("X-Autoreply: yes\n", "auto_reply"),
        ("X-Autorespond: Out of office\n", "auto_reply"),
        ("Precedence: auto_reply\n", "auto_reply"),
        ("Precedence: bulk\n", "bulk"),
        ("Precedence: junk\n", "bulk"),
    ],
)
def test_automated_mail_is_flagged(header: str, automation: str) -> None:
    message = parse_one(fixture("email_gmail.eml", prepend=header))
    assert message.automated is True
    assert message.metadata["automation"] == automation
    assert message.author.role.value == "system"


def test_auto_submitted_no_is_a_person() -> None:
    message = parse_one(fixture("email_gmail.eml", prepend="Auto-Submitted: no\n"))
    assert message.automated is False
    assert message.author.role.value == "customer"


def test_delivery_status_notification_details() -> None:
    message = parse_one(fixture("email_cpython_msg_43_dsn.eml"))
    bounce = message.metadata["bounce"]
    assert isinstance(bounce, dict)
    assert bounce["action"] == "failed"
    assert bounce["status"] == "5.7.1"
    recipients = bounce["recipients"]
    assert isinstance(recipients, list)
    assert recipients[:3] == ["xxxxxxx@dot.ca.gov", "xxxxxxxxxxxxx@dot.ca.gov", "xxxxxxxxxx@dot.ca.gov"]


# --- content ---------------------------------------------------------------------------


def test_attachments_are_described_never_opened() -> None:
    message = parse_one(fixture("email_cpython_msg_22_attachments.eml"))
    media = [p for p in message.parts if isinstance(p, MediaPart)]
    # sizes and digests computed with base64 + hashlib on the fixture's base64 blocks
    assert [(m.filename, m.mime_type, m.size, m.sha256, m.platform_media_id) for m in media] == [
        (
            "wibble.JPG",
            "image/jpeg",
            272,
            "baecbdd4d0c74b5fe8fa6109c994897636b073116883d0d352b6a1708e21503f",
            "mime-part:2",
        ),
        (
            "wibble2.JPG",
            "image/jpeg",
            317,
            "59f34e3ef1cefd3f63d160986695501ac2b68b5792f96d4bd2640a4e63ab5fad",
            "mime-part:3",
        ),
    ]
    assert all(m.url is None for m in media)


def test_html_and_plain_bodies_are_both_kept() -> None:
    message = parse_one(fixture("email_gmail.eml"))
    formats = [p.format for p in message.parts if p.type == "text"]
    assert formats == ["plain", "html"]
    assert (
        message.text == "Hello\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <xxx@gmail.com> wrote:\n\n> Hi\n"
    )


def test_a_date_without_zone_falls_back_to_receipt() -> None:
    raw = fixture("email_outlook.eml", prepend="Date: Mon, 2 Apr 2012 09:57:58 -0000\n")
    assert parse_one(raw).occurred_at == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("date", "received", "occurred"),
    [
        # a sender's clock years ahead (or a spammer's): the mail arrived, it was not written later
        (
            "Fri, 1 Jan 2099 09:00:00 +0000",
            datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        ),
        # a minute ahead of our clock: the same
        (
            "Mon, 2 Nov 2026 09:01:00 +0000",
            datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        ),
        # sent before it arrived (queued, or an import of old mail): the header's time
        (
            "Mon, 2 Nov 2026 08:00:00 +0000",
            datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_date_after_receipt_is_the_time_of_receipt(
    date: str, received: datetime, occurred: datetime
) -> None:
    raw = re.sub(rb"(?im)^date:[^\n]*\n", b"", fixture("email_outlook.eml"))
    raw = f"Date: {date}\n".encode() + raw
    events = EmailAdapter(EmailConfig()).parse(inbound_request(raw, received_at=received))
    message = events[0].interaction
    assert message.occurred_at == occurred
    if occurred < received:
        assert "date_header" not in message.metadata
    else:
        assert (
            message.metadata["date_header"] == datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %z").isoformat()
        )


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n", b"just some words without headers", b"From: \nSubject: x\n\nbody"],
    ids=["empty", "blank", "no-headers", "empty-from"],
)
def test_not_an_email_is_a_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        EmailAdapter().parse(inbound_request(raw))


def test_message_ids() -> None:
    assert message_ids("<a@b> <c@d>\r\n <e@f>") == ["a@b", "c@d", "e@f"]
    assert message_ids("bare@id.example") == ["bare@id.example"]
    assert message_ids("two words") == []
    assert message_ids(None) == []


# --- outbound --------------------------------------------------------------------------

CUSTOMER = Identifier(kind="email", value="xxx@yahoo.com")


def build(message: OutboundMessage, **config: object) -> EmailMessage:
    adapter = EmailAdapter(EmailConfig.model_validate({"from_address": "support@acme.example", **config}))
    request = adapter.build_outbound(message, CUSTOMER)
    assert request.method == "POST"
    assert request.url == "mailto:xxx@yahoo.com"
    assert request.headers == {"content-type": "message/rfc822"}
    parsed = email.message_from_bytes(request.body, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_reply_threads_with_in_reply_to_and_references() -> None:
    out = build(
        OutboundMessage(
            text="We have re-sent your order.",
            subject="Test",
            reply_to="1333374330.68772.YahooMailNeo@web114411.mail.gq1.yahoo.com",
            references=("<1333374262.7063.15.camel@mg5>",),
        )
    )
    assert out["From"] == "support@acme.example"
    assert out["To"] == "xxx@yahoo.com"
    assert out["Subject"] == "Re: Test"
    assert out["In-Reply-To"] == "<1333374330.68772.YahooMailNeo@web114411.mail.gq1.yahoo.com>"
    assert out["References"] == (
        "<1333374262.7063.15.camel@mg5> <1333374330.68772.YahooMailNeo@web114411.mail.gq1.yahoo.com>"
    )
    assert out["Message-ID"].startswith("<omnicx.")
    assert out["Message-ID"].endswith("@acme.example>")
    assert out["Date"] is None  # no clock: the host or MTA adds it
    assert out.get_content() == "We have re-sent your order.\r\n"  # SMTP line ends, kept by the parser


def test_reply_bytes_use_crlf_and_parse_back_as_an_agent_reply() -> None:
    adapter = EmailAdapter(
        EmailConfig(from_address="support@acme.example", business_addresses=("support@acme.example",))
    )
    request = adapter.build_outbound(
        OutboundMessage(text="Done.", subject="Re: Test", reply_to="<4F79B73C.9030506@xxx.mailgun.org>"),
        CUSTOMER,
    )
    assert b"\r\n" in request.body
    assert b"\n" not in request.body.replace(b"\r\n", b"")
    message = adapter.parse(inbound_request(request.body))[0].interaction
    assert isinstance(message, Message)
    assert message.direction is Direction.OUTBOUND
    assert str(message.endpoint) == "email:xxx@yahoo.com"
    assert message.thread.in_reply_to == "4F79B73C.9030506@xxx.mailgun.org"
    assert message.subject == "Re: Test"
    assert message.text == "Done.\n"  # CRLF on the wire, LF in omnicx


def test_message_id_is_stable_for_a_retried_send() -> None:
    message = OutboundMessage(text="Hi", subject="Hello")
    assert build(message)["Message-ID"] == build(message)["Message-ID"]
    assert build(message)["Message-ID"] != build(message.model_copy(update={"text": "Hi!"}))["Message-ID"]


def test_line_breaks_in_the_subject_cannot_add_headers() -> None:
    out = build(OutboundMessage(text="x", subject="Hello\r\nBcc: victim@example.org\nX-Evil: 1"))
    assert out["Bcc"] is None
    assert out["X-Evil"] is None
    assert out["Subject"] == "Hello Bcc: victim@example.org X-Evil: 1"


@pytest.mark.parametrize("reply_to", ["<a@b>\r\nBcc: x@y.z", "a@b c@d", "<>", "no-at-sign"])
def test_a_malformed_parent_id_is_refused(reply_to: str) -> None:
    with pytest.raises(ConfigurationError, match="message id"):
        build(OutboundMessage(text="x", reply_to=reply_to))


def test_outbound_needs_an_email_endpoint_a_sender_and_text() -> None:
    adapter = EmailAdapter()
    with pytest.raises(ConfigurationError, match="sender"):
        adapter.build_outbound(OutboundMessage(text="x"), CUSTOMER)
    with pytest.raises(ConfigurationError, match="email identifiers"):
        EmailAdapter(EmailConfig(from_address="s@acme.example")).build_outbound(
            OutboundMessage(text="x"), Identifier(kind="phone", value="+14155550123")
        )
    with pytest.raises(ConfigurationError, match="text"):
        EmailAdapter(EmailConfig(from_address="s@acme.example")).build_outbound(OutboundMessage(), CUSTOMER)


def test_sender_identifier_overrides_the_configured_address() -> None:
    out = build(OutboundMessage(text="x", sender=Identifier(kind="email", value="billing@acme.example")))
    assert out["From"] == "billing@acme.example"


# --- mbox ------------------------------------------------------------------------------


def test_mbox_import_yields_each_message_in_order(tmp_path: Path) -> None:
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(path)
    for name in ("email_gmail.eml", "email_yahoo.eml", "email_outlook.eml"):
        box.add((FIXTURES / name).read_bytes())
    box.flush()
    box.close()
    stamp = datetime(2024, 6, 1, tzinfo=UTC)
    requests = list(iter_mbox(path, received_at=stamp))
    assert [r.url for r in requests] == [f"mbox:{path}#0", f"mbox:{path}#1", f"mbox:{path}#2"]
    adapter = EmailAdapter()
    keys = [adapter.parse(r)[0].interaction.dedupe_key for r in requests]
    assert keys[:2] == [
        "mid:CAKsfaBW4hj0Gek6TwbR3erng4P1y0CZzJ0d=pXtCNnYnbe7PLg@mail.gmail.com xxx@gmail.com",
        "mid:1333374330.68772.YahooMailNeo@web114411.mail.gq1.yahoo.com xxx@yahoo.com",
    ]
    assert keys[2].startswith("sha256:")
    assert all(r.received_at == stamp for r in requests)


def test_mbox_import_of_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not an mbox file"):
        list(iter_mbox(tmp_path / "nope.mbox", received_at=datetime(2024, 6, 1, tzinfo=UTC)))


# --- CPython's email test corpus -------------------------------------------------------


def _corpus() -> list[Path]:
    try:
        import test  # the CPython regression-test package; some distributions leave it out
    except ImportError:
        return []
    data = Path(os.path.dirname(test.__file__)) / "test_email" / "data"
    return sorted(data.glob("msg_*.txt"))


CORPUS = _corpus()


@pytest.mark.skipif(not CORPUS, reason="CPython's test package (test.test_email) is not installed")
@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_cpython_email_corpus_parses_or_is_a_payload_error(path: Path) -> None:
    adapter = EmailAdapter()
    request = inbound_request(path.read_bytes())
    try:
        events = adapter.parse(request)
    except PayloadError:
        return
    assert len(events) == 1
    message = events[0].interaction
    assert isinstance(message, Message)
    assert message.endpoint.kind == "email"
    assert adapter.parse(request) == events  # deterministic


# --- properties ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@example(text="a\n\n", subject="re: x")
@example(text="line1\r\nline2\rline3", subject="Hello\r\nBcc: victim@example.org")
@given(text=st.text(min_size=1, max_size=300), subject=st.text(max_size=200))
def test_any_text_and_subject_round_trip_without_extra_headers(text: str, subject: str) -> None:
    adapter = EmailAdapter(
        EmailConfig(from_address="support@acme.example", business_addresses=("support@acme.example",))
    )
    request = adapter.build_outbound(
        OutboundMessage(text=text, subject=subject, reply_to="parent-1@mail.example"), CUSTOMER
    )
    sent = email.message_from_bytes(request.body, policy=email.policy.default)
    assert sorted(k.lower() for k in sent) == sorted(
        [
            "from",
            "to",
            "subject",
            "message-id",
            "in-reply-to",
            "references",
            "content-type",
            "content-transfer-encoding",
            "mime-version",
        ]
    )
    message = adapter.parse(inbound_request(request.body))[0].interaction
    assert isinstance(message, Message)
    assert message.thread.in_reply_to == "parent-1@mail.example"
    assert str(message.endpoint) == "email:xxx@yahoo.com"
    cleaned = " ".join(subject.split())
    replied = re.match(r"(?i)^(re|aw|sv|antw)\s*:", cleaned)
    assert message.subject == (cleaned if replied else f"Re: {cleaned}".strip())
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    assert message.text == (lf if lf.endswith("\n") else lf + "\n")  # MIME text ends with a line break


# --- dedupe key ----------------------------------------------------------------------


def test_the_dedupe_key_is_the_message_id_scoped_by_the_from_address() -> None:
    raw = fixture("email_gmail.eml")
    key = "mid:CAKsfaBW4hj0Gek6TwbR3erng4P1y0CZzJ0d=pXtCNnYnbe7PLg@mail.gmail.com xxx@gmail.com"
    assert parse_one(raw).dedupe_key == key
    # a redelivery: another transport header, the address in other case, another display name
    again = b"Received: from relay2.example by mx.acme.example\n" + raw.replace(
        b"From: Megan One <xxx@gmail.com>", b"From: Megan <XXX@Gmail.com>"
    )
    assert parse_one(again).dedupe_key == key
    # someone else reusing the Message-ID
    other = raw.replace(b"From: Megan One <xxx@gmail.com>", b"From: Mallory <mallory@evil.example>")
    assert parse_one(other).dedupe_key == (
        "mid:CAKsfaBW4hj0Gek6TwbR3erng4P1y0CZzJ0d=pXtCNnYnbe7PLg@mail.gmail.com mallory@evil.example"
    )


def test_a_long_message_id_and_sender_are_hashed_together() -> None:
    long_id = "a" * 390 + "@mail.example"
    base = fixture("email_thunderbird.eml")
    raw = re.sub(rb"Message-ID: <[^>]+>", f"Message-ID: <{long_id}>".encode(), base, flags=re.IGNORECASE)
    assert raw != base
    first = parse_one(raw).dedupe_key
    assert first.startswith("mid-sha256:")
    assert len(first) == len("mid-sha256:") + 64
    other = raw.replace(b"bob@xxx.mailgun.org", b"eve@xxx.mailgun.org")
    assert parse_one(other).dedupe_key.startswith("mid-sha256:")
    assert parse_one(other).dedupe_key != first


def test_the_outbound_request_names_the_message_id_it_gave_the_reply() -> None:
    adapter = EmailAdapter(EmailConfig(from_address="help@acme.example"))
    message = OutboundMessage(text="Refunded today.", subject="Refund", reply_to="q1@gmail.com")
    built = adapter.build_outbound(message, Identifier(kind="email", value="ana@mailbox.org"))
    assert built.message_id is not None
    assert built.message_id.endswith("@acme.example")
    assert f"Message-ID: <{built.message_id}>".encode() in built.body
    again = adapter.build_outbound(message, Identifier(kind="email", value="ana@mailbox.org"))
    assert again == built  # a retried send keeps its id


def test_a_message_id_cut_inside_a_domain_literal_is_no_crash() -> None:
    """Found by the kit's mutations: the standard library's header parser fails on this with
    UnboundLocalError (not one of its own errors); the message parses without a Message-ID."""
    raw = b"From: ana@mailbox.org\nMime-Version: 1.0\nMessage-Id: <a05001902b7f1c33773e9@[\n\nhello\n"
    message = parse_one(raw)
    assert message.thread.message_id is None
    assert (message.text or "").strip() == "hello"
