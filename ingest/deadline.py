"""Sockets that honour a whole-fetch deadline and a stop request.

httpx's timeouts are per socket operation: a server that trickles its response headers
one byte a second never trips a 20 s read timeout, and a fetch in progress does not
notice that the service was asked to stop. This network backend reads in short slices
and gives up as soon as the calling thread's deadline has passed or a stop is requested,
whatever phase the request is in (connecting, headers, body). :class:`DeadlineTransport`
is the httpx transport that sends requests over these sockets, directly or through a
proxy (:mod:`ingest.proxy`).

The backend is also where the address check of :mod:`ingest.addresses` is enforced: it
resolves the host itself and connects to an address it has judged, so the address
checked is the address connected, whatever the name resolves to next time.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from ingest.addresses import AddressPolicy
from ingest.proxy import Proxy, ProxyConfigError, ProxyRules

# How often a blocked read wakes up to look at the deadline and the stop request.
POLL_SECONDS = 0.25


class Stopped(httpcore.ReadTimeout):
    """The fetch was abandoned because a stop was requested."""


class AddressRefused(httpcore.ConnectError):
    """The host resolved only to addresses the fetch may not connect to."""


class DeadlineBackend(httpcore.NetworkBackend):
    """An httpcore backend whose streams give up at the calling thread's deadline.

    With an *addresses* policy, a TCP connection goes only to a resolved address the
    policy allows; without one (a proxy's connections), to whatever the host resolves to.
    """

    def __init__(
        self, stop: threading.Event | None = None, *, addresses: AddressPolicy | None = None
    ) -> None:
        self.stop = stop or threading.Event()
        self.addresses = addresses
        self._sync = httpcore.SyncBackend()
        self._local = threading.local()

    def unchecked(self) -> DeadlineBackend:
        """The same deadline and stop request, without the address check: for connections
        to a proxy, which the operator chose, whatever its address."""
        twin = DeadlineBackend(self.stop)
        twin._local = self._local
        return twin

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Every socket operation of this thread within the block ends by then."""
        self._local.at = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.at = None

    def remaining(self) -> float | None:
        at = getattr(self._local, "at", None)
        return None if at is None else at - time.monotonic()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if self.addresses is None:
            stream = self._sync.connect_tcp(
                host, port, self._bounded(timeout), local_address, socket_options
            )
            return _DeadlineStream(stream, self)
        # As socket.create_connection does: each address in resolver order until one
        # answers, the error of the last one if none does (there is at least one).
        *others, last = self.allowed_addresses(host, port)
        for address in others:
            try:
                stream = self._sync.connect_tcp(
                    address, port, self._bounded(timeout), local_address, socket_options
                )
            except httpcore.ConnectError:
                continue
            return _DeadlineStream(stream, self)
        stream = self._sync.connect_tcp(
            last, port, self._bounded(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self)

    def allowed_addresses(self, host: str, port: int) -> list[str]:
        """The addresses *host* resolves to that the policy allows, in resolver order;
        AddressRefused if there are none."""
        refused: list[tuple[str, str]] = []
        allowed: list[str] = []
        for address in self._resolve(host, port):
            reason = self.addresses.refusal(address) if self.addresses else None
            if reason is None:
                allowed.append(address)
            else:
                refused.append((address, reason))
        if not allowed:
            raise AddressRefused(_refusal_message(host, refused))
        return allowed

    def check_proxied_target(self, host: str, port: int) -> None:
        """Judge the target of a proxied request as far as we can see it: an IP address,
        or every address its name resolves to here. A name that does not resolve here
        (a proxy is often the only way out, DNS included) is left to the proxy."""
        if self.addresses is None:
            return
        try:
            addresses = self._resolve(host, port)
        except httpcore.ConnectError:
            return
        refused = [(a, r) for a in addresses if (r := self.addresses.refusal(a)) is not None]
        if refused:
            raise AddressRefused(_refusal_message(host, refused))

    def _resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses: list[str] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = str(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
        return addresses

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._sync.connect_unix_socket(path, self._bounded(timeout), socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._sync.sleep(seconds)

    def _bounded(self, timeout: float | None) -> float | None:
        left = self.remaining()
        if left is None:
            return timeout
        left = max(left, 0.001)
        return left if timeout is None else min(timeout, left)


def _refusal_message(host: str, refused: list[tuple[str, str]]) -> str:
    address, reason = refused[0]
    if address == host:
        return f"refused to connect to {host}: {reason}"
    return f"refused to connect to {host}: it resolves to {address}, {reason}"


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, backend: DeadlineBackend) -> None:
        self._stream = stream
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        started = time.monotonic()
        while True:
            self._check(timeout, started)
            slice_ = POLL_SECONDS
            left = self._backend.remaining()
            if left is not None:
                slice_ = min(slice_, max(left, 0.001))
            if timeout is not None:
                slice_ = min(slice_, max(timeout - (time.monotonic() - started), 0.001))
            try:
                return self._stream.read(max_bytes, slice_)
            except httpcore.ReadTimeout:
                continue

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._backend._bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname, self._backend._bounded(timeout)
        )
        return _DeadlineStream(stream, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    def _check(self, timeout: float | None, started: float) -> None:
        if self._backend.stop.is_set():
            raise Stopped("stop requested")
        left = self._backend.remaining()
        if left is not None and left <= 0:
            raise httpcore.ReadTimeout("deadline passed")
        if timeout is not None and time.monotonic() - started >= timeout:
            raise httpcore.ReadTimeout("read timed out")


class DeadlineTransport(httpx.BaseTransport):
    """httpx's plain HTTP/1.1 transport, over a :class:`DeadlineBackend`'s sockets.

    httpx.HTTPTransport builds its httpcore pool itself and takes no network backend
    (https://github.com/encode/httpx/discussions/3180), while httpcore's network backends
    are public (https://www.encode.io/httpcore/network-backends/). So we own the few
    lines of HTTPTransport.handle_request that translate between httpx's and httpcore's
    requests, responses and errors. The pools are httpcore's defaults: HTTP/1.1,
    connections kept and reused, no retries. httpx.Client reads proxies from the
    environment only when it builds its own transport, so *proxies* says which requests
    go through which proxy (an httpcore.HTTPProxy pool over the same backend, so the
    deadline and the stop request hold through a proxy too).
    """

    def __init__(self, backend: DeadlineBackend, proxies: ProxyRules | None = None) -> None:
        self._backend = backend
        self._ssl_context = httpx.create_ssl_context()
        self._connections = httpcore.ConnectionPool(
            ssl_context=self._ssl_context, network_backend=backend
        )
        self._proxies = proxies or ProxyRules()
        self._proxy_pools: dict[Proxy, httpcore.HTTPProxy] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        pool = self._pool_for(url)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            core_response = pool.handle_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response),
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        self._connections.close()
        with self._lock:
            for pool in self._proxy_pools.values():
                pool.close()

    def _pool_for(self, url: httpx.URL) -> httpcore.ConnectionPool:
        try:
            proxy = self._proxies.proxy_for(url)
        except ProxyConfigError as exc:
            raise httpx.ProxyError(str(exc)) from exc
        if proxy is None:
            return self._connections
        with _as_httpx_errors():
            self._backend.check_proxied_target(url.host, url.port or _DEFAULT_PORTS[url.scheme])
        with self._lock:
            pool = self._proxy_pools.get(proxy)
            if pool is None:
                pool = self._proxy_pools[proxy] = httpcore.HTTPProxy(
                    proxy_url=proxy.url,
                    proxy_auth=proxy.auth,
                    ssl_context=self._ssl_context,
                    network_backend=self._backend.unchecked(),
                )
            return pool


_DEFAULT_PORTS = {"http": 80, "https": 443}


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


# httpcore's errors and the httpx ones callers of an httpx.Client catch, most specific
# first, as httpx's own transport maps them.
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _HTTPX_ERRORS:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc)) from exc
        raise
