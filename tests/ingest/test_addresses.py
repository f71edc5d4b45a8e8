"""The address check: a table over addresses, and fetches refused at connection time.

End-to-end tests use loopback targets only; a refused address is never connected to,
so naming 169.254.169.254 in a redirect sends nothing beyond 127.0.0.0/8.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from pytest_httpserver import HTTPServer

from feedbrief import USER_AGENT
from ingest.addresses import AddressPolicy, address_refusal
from ingest.fetch import Fetcher, FetchLimits

LIMITS = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=10)
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

LINK_LOCAL = "a link-local address"
UNSPECIFIED = "an unspecified address"
MULTICAST = "a multicast or broadcast address"
LOOPBACK = "a loopback address (feeds.allow_private_networks is false)"
PRIVATE = "a private or reserved address (feeds.allow_private_networks is false)"

# address, refusal when private networks are allowed, refusal when they are not.
CASES = [
    # Always refused.
    ("169.254.169.254", LINK_LOCAL, LINK_LOCAL),
    ("169.254.0.0", LINK_LOCAL, LINK_LOCAL),
    ("169.254.255.255", LINK_LOCAL, LINK_LOCAL),
    ("fe80::1", LINK_LOCAL, LINK_LOCAL),
    ("fe80::1%2", LINK_LOCAL, LINK_LOCAL),
    ("febf:ffff::1", LINK_LOCAL, LINK_LOCAL),
    ("::ffff:169.254.169.254", LINK_LOCAL, LINK_LOCAL),
    ("64:ff9b::a9fe:a9fe", LINK_LOCAL, LINK_LOCAL),
    ("0.0.0.0", UNSPECIFIED, UNSPECIFIED),
    ("0.1.2.3", UNSPECIFIED, UNSPECIFIED),
    ("::", UNSPECIFIED, UNSPECIFIED),
    ("::ffff:0.0.0.0", UNSPECIFIED, UNSPECIFIED),
    ("224.0.0.1", MULTICAST, MULTICAST),
    ("255.255.255.255", MULTICAST, MULTICAST),
    ("ff02::1", MULTICAST, MULTICAST),
    # Refused only when private networks are not allowed.
    ("127.0.0.1", None, LOOPBACK),
    ("127.255.255.254", None, LOOPBACK),
    ("::1", None, LOOPBACK),
    ("::ffff:127.0.0.1", None, LOOPBACK),
    ("10.0.0.1", None, PRIVATE),
    ("172.16.0.1", None, PRIVATE),
    ("172.31.255.255", None, PRIVATE),
    ("192.168.1.1", None, PRIVATE),
    ("100.64.0.1", None, PRIVATE),
    ("192.0.2.1", None, PRIVATE),
    ("198.18.0.1", None, PRIVATE),
    ("240.0.0.1", None, PRIVATE),
    ("fc00::1", None, PRIVATE),
    ("fd12:3456::1", None, PRIVATE),
    ("2001:db8::1", None, PRIVATE),
    ("::ffff:10.0.0.1", None, PRIVATE),
    ("64:ff9b::a00:1", None, PRIVATE),
    # Public: always allowed.
    ("93.184.216.34", None, None),
    ("172.32.0.1", None, None),
    ("172.15.255.255", None, None),
    ("169.253.255.255", None, None),
    ("169.255.0.1", None, None),
    ("100.128.0.1", None, None),
    ("1.1.1.1", None, None),
    ("2606:4700:4700::1111", None, None),
    ("::ffff:93.184.216.34", None, None),
    ("fec0::1", None, PRIVATE),
]


@pytest.mark.parametrize(("address", "allowed_private", "refused_private"), CASES)
def test_address_refusals(
    address: str, allowed_private: str | None, refused_private: str | None
) -> None:
    assert address_refusal(address, allow_private_networks=True) == allowed_private
    assert address_refusal(address, allow_private_networks=False) == refused_private
    assert AddressPolicy(allow_private_networks=False).refusal(address) == refused_private


@pytest.mark.parametrize("allow", [True, False])
def test_every_address_of_the_link_local_and_unspecified_ranges_is_refused(allow: bool) -> None:
    # Every /24 of 169.254/16 and 0/8 (first and last address), and a spread of fe80::/10.
    for network in ("169.254.0.0/16", "0.0.0.0/8"):
        for subnet in ipaddress.ip_network(network).subnets(new_prefix=24):
            for ip in (subnet[0], subnet[-1]):
                assert address_refusal(ip, allow_private_networks=allow) is not None, ip
    for high in range(0xFE80, 0xFEC0, 7):
        ip = ipaddress.IPv6Address(high << 112 | 0x1234)
        assert address_refusal(ip, allow_private_networks=allow) == LINK_LOCAL, ip


def test_every_private_block_is_refused_only_when_private_networks_are_not_allowed() -> None:
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"):
        for subnet in ipaddress.ip_network(network).subnets(new_prefix=16):
            for ip in (subnet[0] + 1, subnet[-1] - 1):
                assert address_refusal(ip, allow_private_networks=True) is None, ip
                assert address_refusal(ip, allow_private_networks=False) is not None, ip


@pytest.mark.parametrize("value", ["localhost", "example.com", "", "1.2.3.4.5"])
def test_a_name_is_no_address(value: str) -> None:
    assert address_refusal(value, allow_private_networks=True) == "not an IP address"


# --- at connection time -----------------------------------------------------------------


def _fetcher(policy: AddressPolicy) -> Fetcher:
    return Fetcher(LIMITS, user_agent=USER_AGENT, addresses=policy)


def test_loopback_feeds_are_fetched_by_default(http: HTTPServer) -> None:
    http.expect_request("/feed").respond_with_data(FEED)
    with _fetcher(AddressPolicy()) as fetcher:
        assert fetcher.fetch_feed(http.url_for("/feed")).content == FEED


def test_a_loopback_feed_is_refused_when_private_networks_are_not_allowed(
    http: HTTPServer,
) -> None:
    http.expect_request("/feed").respond_with_data(FEED)
    with _fetcher(AddressPolicy(allow_private_networks=False)) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.error == f"refused to connect to 127.0.0.1: {LOOPBACK}"
    assert result.status is None
    assert http.log == []


def test_a_name_is_judged_by_the_addresses_it_resolves_to(http: HTTPServer) -> None:
    http.expect_request("/feed").respond_with_data(FEED)
    url = http.url_for("/feed").replace("127.0.0.1", "localhost")
    with _fetcher(AddressPolicy(allow_private_networks=False)) as fetcher:
        result = fetcher.fetch_feed(url)

    assert result.error is not None
    assert result.error.startswith("refused to connect to localhost: it resolves to ")
    assert result.error.endswith(LOOPBACK)
    assert http.log == []


@pytest.mark.parametrize(
    ("location", "error"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            f"refused to connect to 169.254.169.254: {LINK_LOCAL}",
        ),
        ("http://0.0.0.0:{port}/feed", f"refused to connect to 0.0.0.0: {UNSPECIFIED}"),
        ("http://[::]:{port}/feed", f"refused to connect to ::: {UNSPECIFIED}"),
    ],
)
def test_redirects_to_always_refused_addresses_are_refused_by_default(
    http: HTTPServer, location: str, error: str
) -> None:
    http.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": location.format(port=http.port)}
    )
    with _fetcher(AddressPolicy()) as fetcher:
        result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.error == error
    assert len(http.log) == 1


class _SecondLoopbackIsPublic(AddressPolicy):
    """Stands 127.0.0.2 in for a public server, so that a redirect from it to 127.0.0.1
    shows the check after a redirect without any address beyond the loopback network."""

    def refusal(self, address: object) -> str | None:
        if str(address) == "127.0.0.2":
            return None
        return super().refusal(address)  # type: ignore[arg-type]


def _loopback_alias_available() -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.2", 0))
        except OSError:
            return False
    return True


@pytest.mark.skipif(not _loopback_alias_available(), reason="127.0.0.2 is not a local address")
def test_a_redirect_to_a_loopback_address_is_refused_when_private_networks_are_not_allowed(
    http: HTTPServer,
) -> None:
    http.expect_request("/secret").respond_with_data("internal")
    public = HTTPServer(host="127.0.0.2", port=0)
    public.expect_request("/feed").respond_with_data(
        "", status=301, headers={"Location": http.url_for("/secret")}
    )
    public.start()
    try:
        with _fetcher(_SecondLoopbackIsPublic(allow_private_networks=False)) as fetcher:
            result = fetcher.fetch_feed(public.url_for("/feed"))
    finally:
        public.stop()

    assert result.error == f"refused to connect to 127.0.0.1: {LOOPBACK}"
    assert result.url == http.url_for("/secret")
    assert result.permanent_url is None
    assert http.log == []
