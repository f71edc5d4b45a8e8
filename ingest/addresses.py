"""Which network addresses a fetch may connect to.

A feed URL, or any redirect it sends us through, is chosen by whoever publishes the
feed. Without a check, a feed could point the service at the cloud metadata service
(169.254.169.254), at a router's admin page or at a database listening on loopback,
and have what they answer stored and published in a digest. The decision is made on
the address a host name resolved to, at the moment we connect to it (see
:mod:`ingest.deadline`), so that a name which resolves to a public address once and to
a private one the next time (DNS rebinding) cannot slip through.

- Link-local (169.254.0.0/16, fe80::/10) and unspecified ("this host": 0.0.0.0/8, ::)
  addresses are always refused: no feed lives there, and on Linux a connection to
  0.0.0.0 reaches the local host. Multicast and broadcast addresses are no TCP peers.
- Loopback, private and other non-public addresses (10/8, 172.16/12, 192.168/16,
  100.64/10, fc00::/7, documentation and reserved ranges) are refused only when the
  operator sets ``feeds.allow_private_networks = false``: a single-user install may
  well read feeds from its own network, so the default allows them.

IPv4 addresses written as IPv6 (``::ffff:169.254.169.254``) are judged as the IPv4
address they carry, since that is where the connection goes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_UNSPECIFIED_V4 = ipaddress.ip_network("0.0.0.0/8")
_BROADCAST_V4 = ipaddress.ip_address("255.255.255.255")
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """What a fetch may connect to; see the module docstring for the rules."""

    allow_private_networks: bool = True

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why a connection to *address* is refused, or None when it is allowed."""
        return address_refusal(address, allow_private_networks=self.allow_private_networks)


def address_refusal(address: str | IPAddress, *, allow_private_networks: bool) -> str | None:
    """Why a connection to *address* (an IP address, not a host name) is refused, or None.

    The reason is a short phrase such as ``"a link-local address"``; the caller names
    the host. A string that is not an IP address is refused: a caller passing one has
    skipped resolution, and only a resolved address can be judged.
    """
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return "not an IP address"
    ip = _embedded_ipv4(ip)
    always = _always_refused(ip)
    if always is not None:
        return always
    if allow_private_networks or _public(ip):
        return None
    kind = "a loopback address" if ip.is_loopback else "a private or reserved address"
    return f"{kind} (feeds.allow_private_networks is false)"


def _embedded_ipv4(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _public(ip: IPAddress) -> bool:
    # is_global alone let deprecated IPv6 site-local addresses (fec0::/10) through, and
    # Python releases have moved ranges in and out of it: private ones are named too.
    if ip.is_private or ip.is_loopback or not ip.is_global:
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)


def _always_refused(ip: IPAddress) -> str | None:
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _UNSPECIFIED_V4):
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast or ip == _BROADCAST_V4:
        return "a multicast or broadcast address"
    return None
