"""The digest as an email message: parts, headers, size, and nothing fetched from outside."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import lxml.html
import pytest

from bench.digest_bench import busy_day
from digest.build import DEFAULT_LAYOUT, DEFAULT_RULES, compose
from digest.email import compose_message, recipients_key
from digest.model import Digest
from digest.render_html import render_html
from digest.render_markdown import render_markdown
from digest.sections import MAX_PAGE_BYTES
from tests.digest.test_render import make_digest

SENT = dt.datetime(2026, 11, 26, 7, 0, 3, tzinfo=dt.UTC)
BASE_URL = "https://brief.example/digests/"


def message_for(digest: Digest, recipients: tuple[str, ...] = ("reader@example.org",)) -> bytes:
    return compose_message(
        digest,
        sender="feedbrief@example.org",
        recipients=recipients,
        unsubscribe_url=BASE_URL,
        sent_at=SENT,
    ).as_bytes()


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


def external_resources(html: str) -> list[str]:
    """Everything a mail client would fetch on opening the message."""
    tree = lxml.html.document_fromstring(html)
    found = [
        f"<{element.tag} {attribute}>"
        for element in tree.iter()
        if isinstance(element.tag, str)
        for attribute in ("src", "srcset", "background", "poster", "data")
        if element.get(attribute)
    ]
    found += [f"<link {link.get('href')}>" for link in tree.iter("link")]
    found += [
        f"<{tag}>" for tag in ("script", "iframe", "object", "embed") if tree.find(f".//{tag}")
    ]
    styles = " ".join(style.text or "" for style in tree.iter("style"))
    styles += " ".join(element.get("style", "") for element in tree.iter() if element.get("style"))
    found += [word for word in ("url(", "@import") if word in styles]
    return found


def test_the_message_carries_both_front_pages_as_alternatives() -> None:
    digest = make_digest(base_url=BASE_URL)
    message = parse(message_for(digest))
    assert message.get_content_type() == "multipart/alternative"
    assert list(parts(message)) == ["text/plain", "text/html"]
    # The very pages written to disk, not a second rendering.
    assert parts(message)["text/plain"] == render_markdown(digest)
    assert parts(message)["text/html"] == render_html(digest)
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"


def test_the_headers_name_the_day_and_point_at_the_published_digest() -> None:
    message = parse(message_for(make_digest(), ("a@example.org", "b@example.org")))
    assert message["Subject"] == "feedbrief digest 2026-11-25"
    assert message["From"] == "feedbrief@example.org"
    assert [address.addr_spec for address in message["To"].addresses] == [
        "a@example.org",
        "b@example.org",
    ]
    assert message["Date"].datetime == SENT
    assert message["Message-ID"].startswith("<feedbrief.2026-11-25.")
    assert message["Message-ID"].endswith("@example.org>")
    assert message["List-Unsubscribe"] == f"<{BASE_URL}>"
    assert message["Auto-Submitted"] == "auto-generated"


def test_a_resend_is_a_new_message() -> None:
    digest = make_digest()
    first = compose_message(
        digest,
        sender="f@example.org",
        recipients=["r@example.org"],
        unsubscribe_url=BASE_URL,
        sent_at=SENT,
    )
    again = compose_message(
        digest,
        sender="f@example.org",
        recipients=["r@example.org"],
        unsubscribe_url=BASE_URL,
        sent_at=SENT + dt.timedelta(minutes=5),
    )
    assert first["Message-ID"] != again["Message-ID"]


def test_a_busy_day_message_stays_under_100_kb_and_fetches_nothing() -> None:
    digest = compose(
        busy_day(stories=3000, items=4000, feeds=60),
        day=dt.date(2026, 12, 6),
        generated_at=dt.datetime(2026, 12, 6, 23, 0, tzinfo=dt.UTC),
        timezone="UTC",
        base_url=BASE_URL,
        rules=DEFAULT_RULES,
        layout=DEFAULT_LAYOUT,
    )
    html = parts(parse(message_for(digest)))["text/html"]
    assert len(html.encode()) < MAX_PAGE_BYTES <= 100_000
    assert html.count("<article") >= 10
    assert external_resources(html) == []
    # The stylesheet travels in the message itself.
    assert "<style>" in html


def test_the_resource_check_sees_what_a_client_would_fetch() -> None:
    page = (
        '<html><head><link rel="stylesheet" href="https://x.example/s.css">'
        "<style>body { background: url(https://x.example/p.png) }</style></head>"
        '<body><img src="https://x.example/pixel.gif"></body></html>'
    )
    assert len(external_resources(page)) == 3


def test_hostile_story_text_cannot_reach_the_headers() -> None:
    digest = make_digest(title="feedbrief\r\nBcc: victim@example.org")
    message = parse(message_for(digest))
    assert message["Bcc"] is None
    assert "victim@example.org" not in str(message["To"])


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (["a@example.org", "b@example.org"], ["b@example.org", "a@example.org"]),
        (["A@Example.org"], [" a@example.org"]),
        (["a@example.org", "a@example.org"], ["a@example.org"]),
    ],
)
def test_a_recipient_list_is_the_same_list_whatever_its_order_or_case(
    one: list[str], other: list[str]
) -> None:
    assert recipients_key(one) == recipients_key(other)


def test_a_new_reader_makes_a_new_list() -> None:
    assert recipients_key(["a@example.org"]) != recipients_key(["a@example.org", "b@example.org"])
