"""Quoted replies and signatures are stripped from email bodies (github/email_reply_parser bodies, MIT)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.channels._email_reply import extract_new_text, html_to_text

FIXTURES = Path(__file__).parent.parent / "fixtures"


def body(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_inline_reply_keeps_text_between_quotes_and_drops_the_list_footer() -> None:
    assert extract_new_text(body("email_body_inline_reply.txt")) == (
        "Hi,\n"
        "\n"
        "You can list the keys for the bucket and call delete for each. Or if you\n"
        "put the keys (and kept track of them in your test) you can delete them\n"
        "one at a time (without incurring the cost of calling list first.)\n"
        "\n"
        "Something like:\n"
        "\n"
        '        String bucket = "my_bucket";\n'
        "        BucketResponse bucketResponse = riakClient.listBucket(bucket);\n"
        "        RiakBucketInfo bucketInfo = bucketResponse.getBucketInfo();\n"
        "\n"
        "        for(String key : bucketInfo.getKeys()) {\n"
        "            riakClient.delete(bucket, key);\n"
        "        }\n"
        "\n"
        "would do it.\n"
        "\n"
        "See also\n"
        "\n"
        "http://wiki.basho.com/REST-API.html#Bucket-operations\n"
        "\n"
        "which says\n"
        "\n"
        '"At the moment there is no straightforward way to delete an entire\n'
        "Bucket. There is, however, an open ticket for the feature. To delete all\n"
        'the keys in a bucket, you\u2019ll need to delete them all individually."'
    )


def test_outlook_underscore_header_cuts_the_rest() -> None:
    assert extract_new_text(body("email_body_outlook_underscore_header.txt")) == (
        "Outlook with a reply directly above line"
    )


def test_a_sentence_starting_with_on_is_not_a_quote_header() -> None:
    assert extract_new_text(body("email_body_greedy_on.txt")) == (
        "On your remote host you can run:\n"
        "\n"
        "     telnet 127.0.0.1 52698\n"
        "\n"
        "This should connect to TextMate (on your Mac, via the tunnel). If that\n"
        "fails, the tunnel is not working."
    )


def test_gmail_quote_header_wrapped_over_two_lines() -> None:
    text = (
        "Thanks, that worked.\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <\nxxx@gmail.com> wrote:\n\n> Hi\n"
    )
    assert extract_new_text(text) == "Thanks, that worked."


def test_signature_and_mobile_footer_are_dropped() -> None:
    assert extract_new_text("Please call me back.\n\n-- \nAna Silva\nAcme Ltd\n") == "Please call me back."
    assert extract_new_text("On my way.\n\nSent from my iPhone\n") == "On my way."


def test_german_and_french_quote_headers() -> None:
    assert (
        extract_new_text("Danke!\n\nAm 02.04.2012 um 18:26 schrieb Megan One <x@y.de>:\n> Hallo\n")
        == "Danke!"
    )
    assert extract_new_text("Merci\n\nLe 2 avr. 2012 à 18:26, Megan <x@y.fr> a écrit :\n> Salut\n") == "Merci"


def test_html_body_of_gmail_reply_keeps_only_the_new_text() -> None:
    raw = (FIXTURES / "email_gmail.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert extract_new_text(html_to_text(html)) == "Hello"


def test_html_to_text_skips_style_and_blockquote() -> None:
    html = "<html><head><style>p{color:red}</style></head><body><p>New</p><blockquote>old</blockquote></body></html>"
    assert extract_new_text(html_to_text(html)) == "New"


LINES = st.sampled_from(
    [
        "Hello",
        "",
        "> quoted",
        ">",
        "On Mon, Apr 2, 2012 at 6:26 PM, Megan <m@x.com> wrote:",
        "-----Original Message-----",
        "From: bob@example.com",
        "Sent: Monday",
        "-- ",
        "Sent from my iPhone",
        "________________________________",
        "  indented code  ",
        "Regards,",
    ]
)


@settings(max_examples=150)
@given(st.lists(LINES, max_size=30))
def test_new_text_is_made_of_input_lines_and_never_of_quotes(lines: list[str]) -> None:
    text = "\n".join(lines)
    out = extract_new_text(text)
    kept = out.split("\n") if out else []
    source = [line.rstrip() for line in lines]
    position = 0
    for line in kept:  # the kept lines are a subsequence of the input lines
        while position < len(source) and source[position] != line:
            position += 1
        assert position < len(source), f"{line!r} was not in the input in this order"
        position += 1
    assert not any(line.lstrip().startswith(">") for line in kept)
    assert out == out.strip("\n")
