"""A real forward HTTP proxy on 127.0.0.1 for tests: absolute-URI requests, counted.

It relays a request to the origin server named in the request line and streams the
answer back byte for byte, so a trickling origin trickles through it. It refuses to
forward anywhere outside 127.0.0.0/8 (tests send nothing beyond the loopback network),
and records then refuses CONNECT tunnels (https:// URLs).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class _ProxyHandler(BaseHTTPRequestHandler):
    server: ForwardProxy

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        with self.server.lock:
            self.server.requests.append(self.path)
            self.server.seen_headers.append(dict(self.headers.items()))
        host = target.hostname or ""
        if target.scheme != "http" or not _loopback(host):
            self.send_error(502, "this test proxy forwards to 127.0.0.0/8 only")
            return
        origin_form = target.path or "/"
        if target.query:
            origin_form += "?" + target.query
        headers = "".join(
            f"{name}: {value}\r\n"
            for name, value in self.headers.items()
            if name.lower() not in ("connection", "proxy-connection", "proxy-authorization")
        )
        try:
            upstream = socket.create_connection((host, target.port or 80), timeout=10)
        except OSError:
            self.send_error(502, "origin unreachable")
            return
        with upstream:
            upstream.sendall(
                f"GET {origin_form} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n".encode()
            )
            while chunk := upstream.recv(65536):
                try:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                except OSError:
                    break
        self.close_connection = True

    def do_CONNECT(self) -> None:
        # Tunnels are recorded and refused: the tests have no TLS origin to reach.
        with self.server.lock:
            self.server.requests.append(f"CONNECT {self.path}")
            self.server.seen_headers.append(dict(self.headers.items()))
        self.send_error(403, "no tunnels here")

    def log_message(self, format: str, *args: object) -> None:
        pass


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class ForwardProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.seen_headers: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def forward_proxy() -> Iterator[ForwardProxy]:
    proxy = ForwardProxy()
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
