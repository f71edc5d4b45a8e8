"""Proxies: the rules as a table, and fetches through a real forward proxy on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from feedbrief import USER_AGENT
from ingest.addresses import AddressPolicy
from ingest.fetch import Fetcher, FetchLimits
from ingest.proxy import Proxy, ProxyConfigError, ProxyRules, bypassed, check_proxy_url
from tests.forward_proxy import ForwardProxy, forward_proxy

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
LIMITS = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=10)


# --- the rules --------------------------------------------------------------------------


def _proxy(rules: ProxyRules, url: str) -> str | None:
    chosen = rules.proxy_for(httpx.URL(url))
    return None if chosen is None else chosen.url


@pytest.mark.parametrize(
    ("environ", "url", "expected"),
    [
        ({}, "http://a.example/", None),
        ({"HTTP_PROXY": "http://p:1"}, "http://a.example/", "http://p:1/"),
        ({"HTTP_PROXY": "http://p:1"}, "https://a.example/", None),
        ({"HTTPS_PROXY": "http://p:2"}, "https://a.example/", "http://p:2/"),
        ({"HTTPS_PROXY": "http://p:2"}, "http://a.example/", None),
        ({"ALL_PROXY": "http://p:3"}, "http://a.example/", "http://p:3/"),
        ({"ALL_PROXY": "http://p:3"}, "https://a.example/", "http://p:3/"),
        (
            {"ALL_PROXY": "http://p:3", "HTTP_PROXY": "http://p:1"},
            "http://a.example/",
            "http://p:1/",
        ),
        (
            {"http_proxy": "http://lower:1", "HTTP_PROXY": "http://upper:1"},
            "http://a/",
            "http://lower:1/",
        ),
        ({"all_proxy": "http://p:3"}, "https://a.example/", "http://p:3/"),
        ({"HTTP_PROXY": ""}, "http://a.example/", None),
        ({"HTTP_PROXY": "p.example:3128"}, "http://a.example/", "http://p.example:3128/"),
        ({"HTTP_PROXY": "https://p.example"}, "http://a.example/", "https://p.example/"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "a.example"}, "http://a.example/", None),
        ({"HTTP_PROXY": "http://p:1", "no_proxy": "a.example"}, "http://a.example/", None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"}, "http://a.example/", None),
    ],
)
def test_environment_rules(environ: dict[str, str], url: str, expected: str | None) -> None:
    assert _proxy(ProxyRules.from_environment(environ), url) == expected


def test_an_explicit_proxy_wins_over_the_environment_but_not_over_no_proxy() -> None:
    environ = {"HTTP_PROXY": "http://env:1", "HTTPS_PROXY": "http://env:2", "NO_PROXY": "local"}
    rules = ProxyRules.from_environment(environ, "http://set:3")
    assert _proxy(rules, "http://a.example/") == "http://set:3/"
    assert _proxy(rules, "https://a.example/") == "http://set:3/"
    assert _proxy(rules, "http://feeds.local/") is None


@pytest.mark.parametrize(
    ("host", "port", "entries", "expected"),
    [
        ("example.com", 80, ("example.com",), True),
        ("news.example.com", 80, ("example.com",), True),
        ("news.example.com", 80, (".example.com",), True),
        ("example.com", 80, (".example.com",), True),
        ("badexample.com", 80, ("example.com",), False),
        ("EXAMPLE.com", 80, ("example.com",), True),
        ("example.com.", 80, ("example.com",), True),
        ("example.com", 8080, ("example.com:8080",), True),
        ("example.com", 80, ("example.com:8080",), False),
        ("10.1.2.3", 80, ("10.0.0.0/8",), True),
        ("11.1.2.3", 80, ("10.0.0.0/8",), False),
        ("127.0.0.1", 80, ("127.0.0.1",), True),
        ("127.0.0.1", 80, ("localhost",), False),
        ("::1", 80, ("::1",), True),
        ("::1", 443, ("[::1]:443",), True),
        ("fd00::5", 80, ("fd00::/8",), True),
        ("anything", 80, ("*",), True),
        ("anything", 80, (), False),
        ("example.com", 80, ("",), False),
    ],
)
def test_no_proxy_matching(host: str, port: int, entries: tuple[str, ...], expected: bool) -> None:
    assert bypassed(host, port, entries) is expected


def test_credentials_are_kept_apart_from_the_proxy_url() -> None:
    rules = ProxyRules.from_environment({"HTTP_PROXY": "http://user:secret@p.example:3128"})
    chosen = rules.proxy_for(httpx.URL("http://a.example/"))
    assert chosen == Proxy("http://p.example:3128/", ("user", "secret"))
    assert "secret" not in str(chosen)


def test_an_unusable_proxy_variable_is_an_error_naming_it_not_a_direct_fetch() -> None:
    rules = ProxyRules.from_environment({"ALL_PROXY": "socks5://p.example:1080"})
    with pytest.raises(ProxyConfigError, match="all_proxy: unsupported proxy scheme 'socks5'"):
        rules.proxy_for(httpx.URL("http://a.example/"))


@pytest.mark.parametrize("value", ["socks5://p:1080", "http://"])
def test_check_proxy_url_refuses_what_cannot_be_used(value: str) -> None:
    with pytest.raises(ValueError):
        check_proxy_url(value)


# --- through a real proxy ---------------------------------------------------------------


# The origin server is tests/ingest/conftest.py's `http` fixture.


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with forward_proxy() as server:
        yield server


def _fetcher(rules: ProxyRules, limits: FetchLimits = LIMITS, **kwargs: object) -> Fetcher:
    return Fetcher(limits, user_agent=USER_AGENT, proxies=rules, **kwargs)  # type: ignore[arg-type]


def test_http_proxy_variable_sends_the_fetch_through_the_proxy(
    http: HTTPServer, proxy: ForwardProxy
) -> None:
    http.expect_request("/feed").respond_with_data(FEED, headers={"ETag": '"v1"'})
    url = http.url_for("/feed")

    with _fetcher(ProxyRules.from_environment({"HTTP_PROXY": proxy.url})) as fetcher:
        result = fetcher.fetch_feed(url)

    assert result.error is None
    assert result.content == FEED
    assert result.etag == '"v1"'
    assert proxy.requests == [url]
    assert proxy.seen_headers[0]["User-Agent"] == USER_AGENT


def test_no_proxy_sends_the_fetch_directly(http: HTTPServer, proxy: ForwardProxy) -> None:
    http.expect_request("/feed").respond_with_data(FEED)
    environ = {"HTTP_PROXY": proxy.url, "NO_PROXY": "example.org, 127.0.0.1"}

    with _fetcher(ProxyRules.from_environment(environ)) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.content == FEED
    assert proxy.requests == []


def test_the_explicit_proxy_wins_over_the_variables(http: HTTPServer, proxy: ForwardProxy) -> None:
    http.expect_request("/feed").respond_with_data(FEED)
    # Nothing listens on port 9 of the loopback address: a fetch through it would fail.
    environ = {"HTTP_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"}

    with _fetcher(ProxyRules.from_environment(environ, proxy.url)) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.content == FEED
    assert len(proxy.requests) == 1


def test_redirects_are_followed_through_the_proxy(http: HTTPServer, proxy: ForwardProxy) -> None:
    http.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": http.url_for("/new")}
    )
    http.expect_request("/new").respond_with_data(FEED)

    with _fetcher(ProxyRules.from_environment({"ALL_PROXY": proxy.url})) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/old"))

    assert result.content == FEED
    assert result.permanent_url == http.url_for("/new")
    assert proxy.requests == [http.url_for("/old"), http.url_for("/new")]


def test_a_slow_feed_through_the_proxy_still_hits_the_deadline(
    http: HTTPServer, proxy: ForwardProxy
) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(100):  # bounded: at most 10 s if the client never hung up
            yield b"<" * 10
            time.sleep(0.1)

    http.expect_request("/slow").respond_with_handler(lambda request: Response(trickle()))
    limits = FetchLimits(read_timeout=1, total_timeout=0.5)

    with _fetcher(ProxyRules.from_environment({"HTTP_PROXY": proxy.url}), limits) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch_feed(http.url_for("/slow"))

    assert result.error == "timeout after 0.5s in total"
    assert time.monotonic() - started < 2
    assert len(proxy.requests) == 1


def test_the_body_cap_applies_through_the_proxy(http: HTTPServer, proxy: ForwardProxy) -> None:
    http.expect_request("/big").respond_with_handler(
        lambda request: Response(iter([b"x" * 65536] * 4))
    )
    limits = FetchLimits(connect_timeout=2, read_timeout=2, max_body_bytes=100_000)

    with _fetcher(ProxyRules.from_environment({"HTTP_PROXY": proxy.url}), limits) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/big"))

    assert result.error is not None and "cap" in result.error
    assert len(proxy.requests) == 1


def test_https_urls_go_through_a_connect_tunnel_and_its_refusal_is_an_error(
    proxy: ForwardProxy,
) -> None:
    # Port 9 of the loopback address: the proxy refuses the tunnel before any connection.
    with _fetcher(ProxyRules.from_environment({"HTTPS_PROXY": proxy.url})) as fetcher:
        result = fetcher.fetch_feed("https://127.0.0.1:9/feed")

    assert proxy.requests == ["CONNECT 127.0.0.1:9"]
    assert result.error is not None and result.error.startswith("proxy failed: 403")
    assert proxy.seen_headers[0].get("Proxy-Authorization") is None


def test_proxy_credentials_are_sent_to_the_proxy(http: HTTPServer, proxy: ForwardProxy) -> None:
    http.expect_request("/feed").respond_with_data(FEED)
    with_credentials = proxy.url.replace("http://", "http://reader:s3cret@")

    with _fetcher(ProxyRules.from_environment({"HTTP_PROXY": with_credentials})) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.content == FEED
    # Basic reader:s3cret
    assert proxy.seen_headers[0]["Proxy-Authorization"] == "Basic cmVhZGVyOnMzY3JldA=="


def test_an_unreachable_proxy_is_a_clear_error(http: HTTPServer) -> None:
    with _fetcher(ProxyRules.from_environment({"HTTP_PROXY": "http://127.0.0.1:9"})) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.error is not None and result.error.startswith("connection failed")


def test_an_unsupported_proxy_fails_the_fetch_naming_the_variable() -> None:
    with _fetcher(ProxyRules.from_environment({"HTTP_PROXY": "socks5://127.0.0.1:9"})) as fetcher:
        result = fetcher.fetch_feed("http://127.0.0.1:9/feed")

    assert result.error == (
        "proxy failed: http_proxy: unsupported proxy scheme 'socks5' (http:// and https:// only)"
    )


def test_a_private_target_is_refused_before_it_reaches_the_proxy(
    http: HTTPServer, proxy: ForwardProxy
) -> None:
    # The proxy itself is on loopback: the operator chose it, so it is not judged.
    rules = ProxyRules.from_environment({"HTTP_PROXY": proxy.url})
    policy = AddressPolicy(allow_private_networks=False)

    with _fetcher(rules, addresses=policy) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/feed"))
        metadata = fetcher.fetch_feed("http://169.254.169.254/latest/meta-data/")

    assert result.error == (
        "refused to connect to 127.0.0.1: a loopback address "
        "(feeds.allow_private_networks is false)"
    )
    assert metadata.error == "refused to connect to 169.254.169.254: a link-local address"
    assert proxy.requests == []
