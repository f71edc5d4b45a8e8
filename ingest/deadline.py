"""Sockets that honour a whole-fetch deadline and a stop request.

httpx's timeouts are per socket operation: a server that trickles its response headers
one byte a second never trips a 20 s read timeout, and a fetch in progress does not
notice that the service was asked to stop. This network backend reads in short slices
and gives up as soon as the calling thread's deadline has passed or a stop is requested,
whatever phase the request is in (connecting, headers, body).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore

# How often a blocked read wakes up to look at the deadline and the stop request.
POLL_SECONDS = 0.25


class Stopped(httpcore.ReadTimeout):
    """The fetch was abandoned because a stop was requested."""


class DeadlineBackend(httpcore.NetworkBackend):
    """An httpcore backend whose streams give up at the calling thread's deadline."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()
        self._sync = httpcore.SyncBackend()
        self._local = threading.local()

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
        stream = self._sync.connect_tcp(
            host, port, self._bounded(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self)

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
