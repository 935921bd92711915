"""The email adapter passes the channel adapter contract on real messages.

Golden messages: mailgun/talon's reply fixtures (Apache-2.0) and three messages of
CPython's email test corpus (PSF-2.0); see tests/fixtures/SOURCES.md.
"""

from __future__ import annotations

from pathlib import Path

from omnicx.channels.email import EmailAdapter, EmailConfig
from omnicx.models import Identifier
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent.parent / "fixtures"
EML = {"content-type": "message/rfc822"}


def case(name: str, expected: dict[str, object]) -> GoldenCase:
    return GoldenCase.from_file(name, FIXTURES / f"email_{name}.eml", [expected], headers=EML)


class TestEmailContract(ChannelAdapterContract):
    adapter_class = EmailAdapter
    config = EmailConfig(from_address="support@acme.example")
    outbound_endpoint = Identifier(kind="email", value="ana@example.com")
    mutation_examples = 30
    golden_cases = (
        case(
            "gmail",
            {
                "type": "message",
                "dedupe_key": "mid:CAKsfaBW4hj0Gek6TwbR3erng4P1y0CZzJ0d=pXtCNnYnbe7PLg@mail.gmail.com xxx@gmail.com",
                "occurred_at": "2012-04-02T16:21:52+00:00",  # Mon, 2 Apr 2012 20:21:52 +0400
                "direction": "inbound",
                "author": "customer",
                "author_name": "Megan One",
                "endpoint": "email:xxx@gmail.com",
                "identifiers": ["email:xxx@gmail.com (asserted)"],
                "subject": "Re: Test",
                "new_text": "Hello",
                "parts": ["text", "text"],
                "automated": False,
                "metadata": {"to": ["bob@example.com"]},
            },
        ),
        case(
            "outlook",
            {
                # no Message-ID: `sha256sum tests/fixtures/email_outlook.eml`
                "dedupe_key": "sha256:9b7f84f16dc2b1fe3580b3adc14030c5afc570c2066c20ce15884bf1c2b5a194",
                "occurred_at": "2024-01-01T00:00:00+00:00",  # no Date: the time of receipt
                "endpoint": "email:me@example.com",
                "author_name": None,
                "subject": "Test",
                "new_text": "Hello",
                "message_id": None,
            },
        ),
        case(
            "thunderbird",
            {
                "dedupe_key": "mid:4F79B73C.9030506@xxx.mailgun.org bob@xxx.mailgun.org",
                "occurred_at": "2012-04-02T14:27:08+00:00",
                "endpoint": "email:bob@xxx.mailgun.org",
                "author_name": "bob",
                "new_text": "Hello",
                "parts": ["text"],
            },
        ),
        case(
            "yahoo",
            {
                "dedupe_key": "mid:1333374330.68772.YahooMailNeo@web114411.mail.gq1.yahoo.com xxx@yahoo.com",
                "occurred_at": "2012-04-02T13:45:30+00:00",
                "endpoint": "email:xxx@yahoo.com",
                "in_reply_to": "1333374262.7063.15.camel@mg5",
                "references": [],
                "new_text": "Hello",
                "metadata": {"to": ["bob@xxx.mailgun.org"]},
            },
        ),
        case(
            "hotmail",
            {
                "dedupe_key": "mid:DUB102-W192C6E94759954C4885B92B14C0@phx.gbl xxx@hotmail.com",
                "occurred_at": "2012-04-02T13:47:37+00:00",
                "endpoint": "email:xxx@hotmail.com",
                "subject": "RE: Test",
                "new_text": "Hello",
            },
        ),
        case(
            "aol",
            {
                "dedupe_key": "mid:8CEDEEFBEF4733B-1E5C-73DF@webmail-d070.sysops.aol.com xxx@aol.com",
                "occurred_at": "2012-04-02T13:57:58+00:00",
                "endpoint": "email:xxx@aol.com",
                "author_name": "Megan Odin",
                "new_text": "Hello",
            },
        ),
        case(
            "apple_mail_reply_headers",
            {
                "dedupe_key": "mid:68001B29-8EA4-444C-A894-0537D2CA5208@tictail.com adam@tictail.com",
                "message_id": "68001B29-8EA4-444C-A894-0537D2CA5208@tictail.com",
                "occurred_at": "2015-08-22T17:22:20+00:00",
                "endpoint": "email:adam@tictail.com",
                "in_reply_to": "CABzQGhkMXDxUt_tSVQcg=43aniUhtsVfCZVzu-PG0kwS_uzqMw@mail.gmail.com",
                "references": ["CABzQGhkMXDxUt_tSVQcg=43aniUhtsVfCZVzu-PG0kwS_uzqMw@mail.gmail.com"],
                "subject": "Re: Hello there",
                "text": "Hello\n> On 22 Aug 2015, at 19:21, Adam Renberg <tgwizard@gmail.com> wrote:\n>\n> Hi there!\n\n",
                "new_text": "Hello",
            },
        ),
        case(
            "cpython_msg_43_dsn",
            {
                "dedupe_key": "mid:edab.7804f5cb8070@python.org",
                "occurred_at": "2004-11-27T03:41:44+00:00",  # Fri, 26 Nov 2004 19:41:44 -0800
                "author": "system",
                "automated": True,
                "raw_type": "bounce",
                "endpoint": "email:xxxxxxx@dot.ca.gov",  # the first Final-Recipient
                "identifiers": ["email:xxxxxxx@dot.ca.gov (inferred)"],
                "parts": ["text", "media:file"],
            },
        ),
        case(
            "cpython_msg_25_auto_submitted",
            {
                "dedupe_key": "mid:200104061723.JAB03225@zinfandel.lacita.com mailer-daemon@zinfandel.lacita.com",
                "occurred_at": "2001-04-06T17:23:06+00:00",  # Fri, 6 Apr 2001 09:23:06 -0800
                "author": "system",
                "automated": True,
                "raw_type": "bounce",
                "endpoint": "email:mailer-daemon@zinfandel.lacita.com",
                "metadata": {
                    "to": ["linuxuser-admin@www.linux.org.uk", "postmaster@zinfandel.lacita.com"],
                    "automation": "bounce",
                    "bounce": {"recipients": []},
                },
            },
        ),
        case(
            "cpython_msg_22_attachments",
            {
                "dedupe_key": "mid:a05001902b7f1c33773e9@[134.84.183.138] b@example.com",
                "occurred_at": "2001-10-16T10:59:25+00:00",
                "endpoint": "email:b@example.com",
                "text": "Text text text.",  # the line break before a boundary belongs to it
                "parts": ["text", "media:image", "media:image"],
            },
        ),
    )
