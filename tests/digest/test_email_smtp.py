"""Sending a message through a real SMTP server on 127.0.0.1: plain, STARTTLS, implicit
TLS, AUTH, and every failure as one line naming the server and its reply."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest

from digest.email import compose_message
from digest.smtp import SendError, SmtpServer, send
from tests.digest.test_render import make_digest
from tests.smtpserver import PASSWORD, USERNAME, Tls, free_port, smtp_server

SENDER = "feedbrief@example.org"
READER = "reader@example.org"
SENT_AT = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)


def message(recipients: tuple[str, ...] = (READER,)) -> EmailMessage:
    return compose_message(
        make_digest(),
        sender=SENDER,
        recipients=recipients,
        unsubscribe_url="https://brief.example/",
        sent_at=SENT_AT,
    )


def test_a_plain_server_receives_the_message_as_composed() -> None:
    with smtp_server() as server:
        sent = send(SmtpServer(server.host, server.port), message(), [READER])
    assert sent.refused == {}
    [received] = server.received
    assert (received.sender, received.recipients) == (SENDER, [READER])
    assert received.message["Subject"] == "feedbrief digest 2026-11-25"
    assert received.message.get_content_type() == "multipart/alternative"


def test_starttls_with_login() -> None:
    tls = Tls()
    with smtp_server(security="starttls", tls=tls, auth=True) as server:
        send(
            SmtpServer(server.host, server.port, "starttls", USERNAME, PASSWORD),
            message(),
            [READER],
            tls_context=tls.client_context(),
        )
    assert len(server.received) == 1
    assert server.handler.logins == [USERNAME]


def test_implicit_tls() -> None:
    tls = Tls()
    with smtp_server(security="tls", tls=tls) as server:
        send(
            SmtpServer(server.host, server.port, "tls"),
            message(),
            [READER],
            tls_context=tls.client_context(),
        )
    assert len(server.received) == 1


def test_a_certificate_from_an_unknown_ca_is_refused() -> None:
    with smtp_server(security="starttls", tls=Tls()) as server:  # noqa: SIM117
        with pytest.raises(
            SendError,
            match=rf"^TLS with 127\.0\.0\.1:{server.port} failed: CERTIFICATE_VERIFY_FAILED: ",
        ):
            send(
                SmtpServer(server.host, server.port, "starttls"),
                message(),
                [READER],
                tls_context=Tls().client_context(),
            )
    assert server.received == []


def test_starttls_asked_of_a_server_without_it() -> None:
    with smtp_server() as server:  # noqa: SIM117
        with pytest.raises(SendError, match=rf"127\.0\.0\.1:{server.port}: .*STARTTLS"):
            send(SmtpServer(server.host, server.port, "starttls"), message(), [READER])


def test_a_wrong_password_names_the_server_and_its_reply_but_not_the_password() -> None:
    wrong = "not-the-" + PASSWORD
    tls = Tls()
    with smtp_server(security="starttls", tls=tls, auth=True) as server:  # noqa: SIM117
        with pytest.raises(SendError) as caught:
            send(
                SmtpServer(server.host, server.port, "starttls", USERNAME, wrong),
                message(),
                [READER],
                tls_context=tls.client_context(),
            )
    text = str(caught.value)
    assert text.startswith(f"127.0.0.1:{server.port} refused the login of '{USERNAME}': 535")
    assert wrong not in text and "\n" not in text
    assert server.received == []


def test_a_server_that_is_down() -> None:
    port = free_port()
    with pytest.raises(SendError, match=rf"^cannot reach 127\.0\.0\.1:{port}: Connection refused$"):
        send(SmtpServer("127.0.0.1", port), message(), [READER])


def test_a_refused_recipient() -> None:
    with smtp_server(refuse={READER}) as server, pytest.raises(SendError) as caught:
        send(SmtpServer(server.host, server.port), message(), [READER])
    assert str(caught.value) == (
        f"127.0.0.1:{server.port} refused every recipient: {READER}: "
        f"550 5.1.1 <{READER}>: Recipient address rejected: User unknown"
    )
    assert server.received == []


def test_one_refused_recipient_among_several_is_reported_and_the_rest_get_it() -> None:
    other = "other@example.org"
    with smtp_server(refuse={other}) as server:
        sent = send(SmtpServer(server.host, server.port), message((READER, other)), [READER, other])
    assert list(sent.refused) == [other]
    assert sent.refused[other].startswith("550 5.1.1")
    assert server.received[0].recipients == [READER]
