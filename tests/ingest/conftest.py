"""Fixtures shared by the fetch tests: one threaded HTTP server on 127.0.0.1 per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    # Threaded, so that concurrent requests really are concurrent on the server side.
    httpserver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    httpserver.start()
    yield httpserver
    httpserver.stop()


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    """The module's server, with the previous test's handlers cleared."""
    yield server
    server.clear()
