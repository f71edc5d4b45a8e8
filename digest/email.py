"""The day's front page as one email message (pure: no network, no clock of its own).

The message is ``multipart/alternative``: the Markdown front page as ``text/plain`` and
the HTML front page as ``text/html``, rendered by the same functions that write the
published files, so the email and the page never differ. The HTML page is
self-contained (its stylesheet sits in the page, it links no image, font or script), and
the front page's layout keeps it under ``MAX_PAGE_BYTES`` for the mail clients that clip
larger messages.

Sending it is ``digest/smtp.py``'s job; deciding whether to send is the caller's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from digest.model import Digest
from digest.render_html import page_title, render_html
from digest.render_markdown import render_markdown


def recipients_key(recipients: Sequence[str]) -> str:
    """The identity of a recipient list, whatever its order or letter case: a day is
    sent once per list, and adding a reader makes a new list that gets the day too."""
    normalised = sorted({address.strip().lower() for address in recipients})
    return hashlib.sha256("\n".join(normalised).encode()).hexdigest()


def subject(digest: Digest) -> str:
    """``feedbrief digest 2026-12-05``: the title and the day, as the page's own title."""
    return page_title(digest)


def message_id(digest: Digest, *, sender: str, recipients: Sequence[str], sent_at: datetime) -> str:
    """A Message-ID unique per day, recipient list and sending: a resend is a new
    message (mail clients drop a second message with an ID they have seen)."""
    domain = sender.rpartition("@")[2]
    stamp = int(sent_at.timestamp() * 1000)
    return (
        f"<feedbrief.{digest.date.isoformat()}.{stamp}.{recipients_key(recipients)[:12]}@{domain}>"
    )


def compose_message(
    digest: Digest,
    *,
    sender: str,
    recipients: Sequence[str],
    unsubscribe_url: str,
    sent_at: datetime,
) -> EmailMessage:
    """The digest's front page as a message from *sender* to *recipients*, dated
    *sent_at* (timezone-aware). ``List-Unsubscribe`` points at *unsubscribe_url*, the
    page where the digest is published: feedbrief keeps no subscriber list, so stopping
    the email is a change to the configuration its operator makes."""
    if sent_at.utcoffset() is None:
        raise ValueError(f"sent_at must be timezone-aware, got {sent_at}")
    message = EmailMessage()
    message["Subject"] = subject(digest)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id(
        digest, sender=sender, recipients=recipients, sent_at=sent_at
    )
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    # RFC 3834: vacation responders and the like must not answer a generated message.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_markdown(digest), subtype="plain", cte="quoted-printable")
    message.add_alternative(render_html(digest), subtype="html", cte="quoted-printable")
    return message
