"""Which proxy, if any, a fetch goes through: the environment's variables and a setting.

httpx reads the proxy variables only when it builds its own transport; feedbrief's
fetcher brings its own (:mod:`ingest.deadline`), so it reads them here, with the rules
curl, requests and httpx share:

- ``http_proxy`` for http:// URLs, ``https_proxy`` for https:// URLs, ``all_proxy`` for
  either when the scheme's own variable is unset; each also in upper case, the lower
  case one winning when both are set (as curl and urllib do). An empty value is unset.
- An explicit proxy (``feeds.proxy``) wins over all of them for both schemes, as curl's
  ``--proxy`` wins over its environment.
- ``no_proxy`` (or ``NO_PROXY``) still applies to an explicit proxy: a comma-separated
  list of host names (matching the host and its subdomains; a leading dot is ignored),
  IP addresses, CIDR ranges (``10.0.0.0/8``), any of them with ``:port``; ``*`` alone
  means no proxy at all.
- A proxy given without a scheme is an http:// one. Only http:// and https:// proxies
  are supported (SOCKS needs a library we do not ship); any other is a per-fetch error
  naming where it came from, never a silent direct connection.

Everything here is a pure function of the variables and the URL.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

_SUPPORTED_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class Proxy:
    """A usable proxy: its URL without credentials, and the credentials apart."""

    url: str
    auth: tuple[str, str] | None = None

    def __str__(self) -> str:
        # Shown in errors and logs: never the password.
        return self.url


class ProxyConfigError(ValueError):
    """A proxy variable or setting that cannot be used; the message names its source."""


@dataclass(frozen=True, slots=True)
class ProxyRules:
    """The proxy for each URL scheme (or the problem with it), and the bypass list."""

    http: Proxy | ProxyConfigError | None = None
    https: Proxy | ProxyConfigError | None = None
    no_proxy: tuple[str, ...] = ()

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], explicit: str | None = None
    ) -> ProxyRules:
        """The rules given by *environ* and an explicit proxy (None: from the environment)."""
        no_proxy = _variable(environ, "no_proxy")
        entries = tuple(
            entry.strip().lower() for entry in (no_proxy or "").split(",") if entry.strip()
        )
        if explicit:
            proxy = _parse(explicit, "feeds.proxy")
            return cls(http=proxy, https=proxy, no_proxy=entries)
        every = _variable(environ, "all_proxy")
        chosen = {}
        for scheme in ("http", "https"):
            own = _variable(environ, f"{scheme}_proxy")
            if own:
                chosen[scheme] = _parse(own, f"{scheme}_proxy")
            elif every:
                chosen[scheme] = _parse(every, "all_proxy")
            else:
                chosen[scheme] = None
        return cls(http=chosen["http"], https=chosen["https"], no_proxy=entries)

    def proxy_for(self, url: httpx.URL) -> Proxy | None:
        """The proxy for *url*, or None for a direct connection.

        Raises ProxyConfigError when the proxy that applies cannot be used."""
        chosen = self.https if url.scheme == "https" else self.http
        if chosen is None or bypassed(url.host, url.port or _default_port(url), self.no_proxy):
            return None
        if isinstance(chosen, ProxyConfigError):
            # A fresh exception per fetch: the stored one is shared between threads.
            raise ProxyConfigError(str(chosen))
        return chosen


def check_proxy_url(value: str) -> str:
    """*value* if it is a usable proxy URL (for the setting's validation), else ValueError."""
    result = _parse(value, "feeds.proxy")
    if isinstance(result, ProxyConfigError):
        raise ValueError(str(result).removeprefix("feeds.proxy: "))
    return value


def bypassed(host: str, port: int, no_proxy: tuple[str, ...]) -> bool:
    """Whether ``no_proxy`` entries send a request to *host*:*port* directly."""
    host = host.lower().rstrip(".")
    try:
        host_ip = ipaddress.ip_address(host)
    except ValueError:
        host_ip = None
    for entry in no_proxy:
        if entry == "*":
            return True
        name, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if host_ip is not None:
            try:
                if host_ip in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = name.lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port``, ``[v6]``, ``v6`` or ``host`` into name and port."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return name, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, int(port) if port.isdigit() else None
    return entry, None


def _variable(environ: Mapping[str, str], name: str) -> str | None:
    for key in (name, name.upper()):
        value = environ.get(key, "").strip()
        if value:
            return value
    return None


def _parse(value: str, source: str) -> Proxy | ProxyConfigError:
    text = value if "://" in value else f"http://{value}"
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        return ProxyConfigError(f"{source}: not a proxy URL ({exc})")
    if url.scheme not in _SUPPORTED_SCHEMES:
        return ProxyConfigError(
            f"{source}: unsupported proxy scheme {url.scheme!r} (http:// and https:// only)"
        )
    if not url.host:
        return ProxyConfigError(f"{source}: a proxy URL needs a host")
    auth = (url.username, url.password) if url.username else None
    bare = url.copy_with(username=None, password=None, path="/", query=None, fragment=None)
    return Proxy(str(bare), auth)


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80
