"""feeds.proxy, the proxy variables and feeds.allow_private_networks, through the app:
a real feed server, a real forward proxy and a real SQLite file, all on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from feedbrief.app import App
from feedbrief.settings import ConfigError, Settings, load_settings
from ingest.outcome import Outcome
from tests.forward_proxy import ForwardProxy, forward_proxy

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
    "<item><title>One</title><link>http://example.com/1</link><guid>1</guid>"
    "<description>The council met on Tuesday and voted to extend the tram line.</description>"
    "</item></channel></rss>"
)


@pytest.fixture
def httpserver() -> Iterator[HTTPServer]:
    # On 127.0.0.1 rather than the plugin's "localhost": the refusal names the address.
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with forward_proxy() as server:
        yield server


def _app(tmp_path: Path, **feeds: object) -> App:
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'feedbrief.db'}"},
            "digest": {"dir": str(tmp_path / "digests"), "timezone": "UTC"},
            "seeds": {"dir": str(tmp_path / "seeds")},
            "feeds": {"connect_timeout": 2, "read_timeout": 2, "total_timeout": 5, **feeds},
        }
    )
    return App(settings)


def _refresh(application: App, url: str) -> tuple[Outcome, str | None]:
    application.storage.add_feed(url, application.now())
    state = application.storage.source(url)
    assert state is not None
    [result] = application.refresh_feeds([state])
    return result.status, result.error


def test_the_proxy_variables_are_honoured(
    tmp_path: Path, httpserver: HTTPServer, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    application = _app(tmp_path)
    try:
        status, error = _refresh(application, httpserver.url_for("/feed"))
    finally:
        application.close()

    assert (status, error) == (Outcome.OK, None)
    assert proxy.requests == [httpserver.url_for("/feed")]


def test_feeds_proxy_wins_over_the_variables_and_no_proxy_still_applies(
    tmp_path: Path, httpserver: HTTPServer, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    application = _app(tmp_path, proxy=proxy.url)
    try:
        assert _refresh(application, httpserver.url_for("/feed"))[1] is None
    finally:
        application.close()
    assert len(proxy.requests) == 1

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    application = _app(tmp_path / "bypass", proxy=proxy.url)
    try:
        assert _refresh(application, httpserver.url_for("/feed"))[1] is None
    finally:
        application.close()
    assert len(proxy.requests) == 1


def test_a_loopback_feed_fails_alone_with_a_clear_error_when_private_networks_are_refused(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)
    application = _app(tmp_path, allow_private_networks=False)
    try:
        status, error = _refresh(application, httpserver.url_for("/feed"))
        state = application.storage.source(httpserver.url_for("/feed"))
    finally:
        application.close()

    assert status == Outcome.ERROR
    assert error == (
        "refused to connect to 127.0.0.1: a loopback address "
        "(feeds.allow_private_networks is false)"
    )
    assert state is not None and state.last_error == error
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[feeds]\nproxy = "socks5://127.0.0.1:1080"\n', "feeds.proxy: unsupported proxy"),
        ("[feeds]\nallow_private_networks = 'maybe'\n", "feeds.allow_private_networks"),
    ],
)
def test_bad_network_settings_stop_the_start_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "feedbrief.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})


def test_network_settings_are_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "feedbrief.toml"
    path.write_text(
        '[feeds]\nproxy = "http://u:p@proxy.lan:3128"\nallow_private_networks = false\n'
    )
    feeds = load_settings(path, environ={}).feeds
    assert feeds.proxy == "http://u:p@proxy.lan:3128"
    assert feeds.allow_private_networks is False
