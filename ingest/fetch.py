"""HTTP retrieval of feeds and article pages, with the limits a polite, robust client needs.

A :class:`Fetcher` does one GET (following redirects itself) and hands back a
:class:`FetchResult`: everything the caller must act on -- new validators, a permanent
move, a retired feed, a server asking us to slow down -- is data, never an exception,
so one bad feed cannot break a refresh of many. The fetcher decides nothing about
storage or scheduling; it reports what the server said.

Sync code on purpose: one thread-safe :class:`httpx.Client` shared by a thread pool is
enough for hundreds of feeds, keeps the call sites plain, and the per-host semaphores
keep us polite to any one server while different servers are fetched in parallel.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType

import brotli
import httpx
import structlog

from ingest.addresses import AddressPolicy
from ingest.dates import DateOutOfRange, parse_date, read_date
from ingest.deadline import AddressRefused, DeadlineBackend, DeadlineTransport
from ingest.proxy import ProxyRules
from ingest.schedule import MAX_HINT, hint_seconds

logger = structlog.get_logger(__name__)

MiB = 2**20

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 20.0
# A whole fetch (all redirect hops and the body) gets this long: a server trickling one
# byte per read timeout would otherwise hold a worker for ever.
DEFAULT_TOTAL_TIMEOUT = 60.0
# The largest of 143 real-world feeds in our corpus is 1.6 MB; big podcast feeds reach a
# few MB. 15 MiB leaves ample room while bounding what one fetch may hold in memory.
DEFAULT_MAX_BODY = 15 * MiB
# urllib's limit, which feedparser used for years; real chains are 1-3 hops.
DEFAULT_MAX_REDIRECTS = 10
# Two connections per server, as HTTP/1.1 (RFC 2616 §8.1.4) advised: many feeds share a
# host (one blog platform, one newspaper's sections), and we should not hammer it.
DEFAULT_PER_HOST = 2

# Decompressed output is produced in pieces of at most this size, so a decompression
# bomb costs at most the body cap plus one piece, whatever its compression ratio.
_DECODE_PIECE = 64 * 1024

_PERMANENT_REDIRECTS = frozenset({301, 308})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.8"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Timeouts (seconds), body cap (decoded bytes), redirect and per-host limits."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    per_host: int = DEFAULT_PER_HOST


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one GET (after redirects) told us.

    ``url`` is the URL finally answered; ``permanent_url`` is set only when the requested
    URL moved permanently (an unbroken chain of 301/308 from it) *and* the new place
    answered successfully, so a misconfigured redirect never moves a feed to a dead URL.
    ``etag``/``last_modified`` come from the final response, 304 included; a 304 that
    omits them keeps the ones we sent, which are still valid. ``retry_after`` and
    ``cache_lifetime`` are seconds. ``status`` is None when no response arrived.
    """

    url: str
    status: int | None = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    retry_after: float | None = None
    cache_lifetime: float | None = None
    not_modified: bool = False
    gone: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True for a usable answer: content, or 304 Not Modified."""
        return self.error is None


class _FetchFailed(Exception):
    """Internal: carries a short, human-readable reason to the one place that reports it."""


class Fetcher:
    """Fetches feeds and pages; share one instance between threads.

    Cookies are refused so that every fetch is anonymous and independent of the ones
    before it: what a feed returns must not depend on which feeds were fetched first.
    A thread waiting for a busy host's slot is not fetching anything else, so callers
    with many feeds on one host should size their pool accordingly.

    Every connection, the first and each redirect's, goes only to an address *addresses*
    allows (by default: no link-local or unspecified address). *proxies* says which
    requests go through a proxy; by default none do (the caller reads the environment).
    """

    def __init__(
        self,
        limits: FetchLimits | None = None,
        *,
        user_agent: str,
        stop: threading.Event | None = None,
        proxies: ProxyRules | None = None,
        addresses: AddressPolicy | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self._backend = DeadlineBackend(stop, addresses=addresses or AddressPolicy())
        self._client = httpx.Client(
            follow_redirects=False,
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate, br"},
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            transport=DeadlineTransport(self._backend, proxies),
        )
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch_feed(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Conditional GET of a feed with the validators stored from its last fetch."""
        headers = {"Accept": FEED_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._fetch(url, headers, sent_etag=etag, sent_last_modified=last_modified)

    def fetch_page(self, url: str) -> FetchResult:
        """Plain GET of an article page, for feeds that carry only a teaser."""
        return self._fetch(url, {"Accept": PAGE_ACCEPT})

    def _fetch(
        self,
        url: str,
        headers: dict[str, str],
        *,
        sent_etag: str | None = None,
        sent_last_modified: str | None = None,
    ) -> FetchResult:
        log = logger.bind(url=url)
        current = url
        try:
            budget = _Budget(self.limits.total_timeout)
            seen = {url}
            moved_to: str | None = None
            still_permanent = True
            for _ in range(self.limits.max_redirects + 1):
                response, body = self._request_once(current, headers, budget)
                if response.status_code not in _REDIRECTS:
                    break
                target = _redirect_target(response, current)
                still_permanent = still_permanent and response.status_code in _PERMANENT_REDIRECTS
                if still_permanent:
                    moved_to = target
                log.debug("fetch.redirected", status=response.status_code, location=target)
                if target in seen:
                    raise _FetchFailed(f"redirect loop at {target}")
                seen.add(target)
                current = target
            else:
                raise _FetchFailed(f"too many redirects (more than {self.limits.max_redirects})")
        except _FetchFailed as failure:
            log.debug("fetch.failed", final_url=current, error=str(failure))
            return FetchResult(url=current, error=str(failure))
        result = _result_from_response(
            response,
            body,
            url=current,
            sent_etag=sent_etag,
            sent_last_modified=sent_last_modified,
        )
        if result.error is None and moved_to is not None:
            result = replace(result, permanent_url=moved_to)
        log.debug("fetch.completed", status=result.status, final_url=current, error=result.error)
        return result

    def _request_once(
        self, url: str, headers: dict[str, str], budget: _Budget
    ) -> tuple[httpx.Response, bytes | None]:
        """One GET; the body is read only for a 2xx answer (error pages are not wanted)."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise _FetchFailed(f"invalid URL: {exc}") from exc
        if parsed.scheme not in ("http", "https"):
            raise _FetchFailed(f"unsupported URL scheme {parsed.scheme!r}")
        with self._host_slot(parsed.host), self._backend.deadline(budget.remaining()):
            timeouts = self._timeouts(budget)
            request = self._client.build_request("GET", parsed, headers=headers, timeout=timeouts)
            try:
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise _FetchFailed(
                    self._timeout_message(exc, timeouts, budget, "waiting for response")
                ) from exc
            except httpx.ProxyError as exc:
                raise _FetchFailed(f"proxy failed: {exc or type(exc).__name__}") from exc
            except httpx.TransportError as exc:
                if isinstance(exc.__cause__, AddressRefused):
                    raise _FetchFailed(str(exc)) from exc
                raise _FetchFailed(f"connection failed: {exc or type(exc).__name__}") from exc
            try:
                if not response.is_success:
                    return response, None
                return response, self._read_body(response, budget, timeouts)
            finally:
                response.close()

    def _read_body(
        self, response: httpx.Response, budget: _Budget, timeouts: httpx.Timeout
    ) -> bytes:
        """The decoded body, counted as it is decoded so a bomb stops at the cap."""
        cap = self.limits.max_body_bytes
        encoding = response.headers.get("content-encoding", "identity")
        decoder = _decoder_for(encoding)
        declared = response.headers.get("content-length", "")
        # Content-Length counts encoded bytes, so it proves an overflow only when unencoded.
        unencoded = encoding.strip().lower() in ("", "identity")
        if unencoded and declared.isdigit() and int(declared) > cap:
            raise _FetchFailed(f"body exceeds {_format_size(cap)} cap")
        parts: list[bytes] = []
        size = 0
        try:
            for piece in _decoded(response.iter_raw(), decoder):
                size += len(piece)
                if size > cap:
                    raise _FetchFailed(f"body exceeds {_format_size(cap)} cap")
                if budget.remaining() <= 0:
                    raise _FetchFailed(f"timeout after {self.limits.total_timeout:g}s in total")
                parts.append(piece)
        except httpx.TimeoutException as exc:
            raise _FetchFailed(
                self._timeout_message(exc, timeouts, budget, "reading body")
            ) from exc
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise _FetchFailed(f"connection broken reading body: {reason}") from exc
        except (zlib.error, brotli.error) as exc:
            raise _FetchFailed(f"could not decode {encoding} body: {exc}") from exc
        return b"".join(parts)

    def _timeouts(self, budget: _Budget) -> httpx.Timeout:
        """Per-phase timeouts, each shortened to what is left of the total budget."""
        remaining = budget.remaining()
        if remaining <= 0:
            raise _FetchFailed(f"timeout after {self.limits.total_timeout:g}s in total")
        connect = min(self.limits.connect_timeout, remaining)
        read = min(self.limits.read_timeout, remaining)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def _timeout_message(
        self, exc: httpx.TimeoutException, used: httpx.Timeout, budget: _Budget, doing: str
    ) -> str:
        if self._backend.stop.is_set():
            return "fetch abandoned: stop requested"
        if budget.remaining() <= 0:
            return f"timeout after {self.limits.total_timeout:g}s in total"
        if isinstance(exc, httpx.ConnectTimeout):
            configured, actual, doing = self.limits.connect_timeout, used.connect, "connecting"
        elif isinstance(exc, httpx.PoolTimeout):
            configured, actual = self.limits.connect_timeout, used.pool
            doing = "waiting for a connection"
        elif isinstance(exc, httpx.WriteTimeout):
            configured, actual, doing = self.limits.read_timeout, used.write, "sending request"
        else:
            configured, actual = self.limits.read_timeout, used.read
        if actual is not None and actual < configured:
            return f"timeout after {self.limits.total_timeout:g}s in total"
        return f"timeout after {configured:g}s {doing}"

    def _host_slot(self, host: str) -> threading.BoundedSemaphore:
        with self._slots_lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = self._slots[host] = threading.BoundedSemaphore(self.limits.per_host)
            return slot


class _Budget:
    """The total time one fetch may take, all hops included.

    It starts when the first request goes out, not when the fetch is asked for: time
    spent queued behind other fetches of the same host is not the server's fault.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._deadline: float | None = None

    def remaining(self) -> float:
        if self._deadline is None:
            self._deadline = time.monotonic() + self._seconds
        return self._deadline - time.monotonic()


def _redirect_target(response: httpx.Response, current: str) -> str:
    location = response.headers.get("location")
    if not location:
        raise _FetchFailed(f"HTTP {response.status_code} redirect without a Location")
    try:
        return str(httpx.URL(current).join(location).copy_with(fragment=None))
    except httpx.InvalidURL as exc:
        raise _FetchFailed(f"invalid redirect Location {location!r}") from exc


def _result_from_response(
    response: httpx.Response,
    body: bytes | None,
    *,
    url: str,
    sent_etag: str | None,
    sent_last_modified: str | None,
) -> FetchResult:
    status = response.status_code
    headers = {name.lower(): value for name, value in response.headers.items()}
    now = _response_time(headers)
    common = {"url": url, "status": status, "headers": headers}
    if status == 304:
        return FetchResult(
            **common,
            etag=headers.get("etag") or sent_etag,
            last_modified=headers.get("last-modified") or sent_last_modified,
            cache_lifetime=cache_lifetime(headers, now),
            not_modified=True,
        )
    if response.is_success:
        return FetchResult(
            **common,
            content=body,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            cache_lifetime=cache_lifetime(headers, now),
        )
    # The standard phrase, not the server's: error messages stay the same across servers.
    error = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
    retry_after = None
    if status in _RETRY_AFTER_STATUSES and "retry-after" in headers:
        retry_after = parse_retry_after(headers["retry-after"], now)
    return FetchResult(**common, error=error, gone=status == 410, retry_after=retry_after)


def _response_time(headers: Mapping[str, str]) -> datetime:
    """The server's idea of now (its Date header), so relative times survive clock skew."""
    return parse_date(headers.get("date", "")) or datetime.now(UTC)


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110)."""
    value = value.strip()
    if value.isdecimal():
        return hint_seconds(float(value)) or 0.0
    return _seconds_until(value, now)


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the response stays fresh: Cache-Control max-age (less Age), else Expires.

    ``headers`` must have lower-case names. ``no-store``/``no-cache`` mean no lifetime.
    s-maxage is ignored: it is for shared caches and we are a private client.
    """
    directives = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, argument = part.strip().partition("=")
        directives[name.strip().lower()] = argument.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    max_age = directives.get("max-age", "")
    if max_age.isdecimal():
        age = headers.get("age", "").strip()
        fresh = float(max_age) - (float(age) if age.isdecimal() else 0.0)
        return hint_seconds(fresh) or 0.0
    if "expires" in headers:
        # RFC 9111 §5.3: an invalid Expires (often "0" or "-1") means already expired.
        lifetime = _seconds_until(headers["expires"], now)
        return 0.0 if lifetime is None else lifetime
    return None


def _seconds_until(value: str, now: datetime) -> float | None:
    """Seconds from ``now`` to the HTTP-date ``value`` as the scheduler honours them: 0
    for a date past, at most :data:`ingest.schedule.MAX_HINT`; None for no date.

    A date after :data:`ingest.dates.LATEST` ("Fri, 31 Dec 9999 23:59:59 GMT" is how
    servers say "never expires") is as far off as a hint goes, not a date to drop; one
    before :data:`ingest.dates.EARLIEST` is past.
    """
    try:
        when = read_date(value)
    except DateOutOfRange as exc:
        return MAX_HINT.total_seconds() if exc.late else 0.0
    if when is None:
        return None
    return hint_seconds((when - now).total_seconds()) or 0.0


def _format_size(size: int) -> str:
    if size % MiB == 0:
        return f"{size // MiB} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


# --- Content-Encoding -----------------------------------------------------------------
# httpx decodes each network chunk in one call, so a 300-byte brotli body could expand to
# gigabytes before we could count it. These decoders bound every output piece instead.


class _Decoder:
    """No Content-Encoding: bytes pass through."""

    def decode(self, data: bytes) -> Iterator[bytes]:
        yield data

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _ZlibDecoder(_Decoder):
    """gzip, or deflate -- which servers send both zlib-wrapped (correct) and raw."""

    def __init__(self, wbits: int, *, raw_fallback: bool = False) -> None:
        self._inflater = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            if self._raw_fallback and not _has_zlib_header(data):
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while data and not self._inflater.eof:
            piece = self._inflater.decompress(data, _DECODE_PIECE)
            if piece:
                yield piece
            data = self._inflater.unconsumed_tail

    def flush(self) -> Iterator[bytes]:
        rest = self._inflater.flush()
        if rest:
            yield rest


def _decoded(raw_chunks: Iterator[bytes], decoder: _Decoder) -> Iterator[bytes]:
    for raw in raw_chunks:
        yield from decoder.decode(raw)
    yield from decoder.flush()


def _has_zlib_header(data: bytes) -> bool:
    """RFC 1950: method 8 (deflate) in the low nibble, and a header that is a multiple of 31."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


class _BrotliDecoder(_Decoder):
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._decompressor.is_finished():
            return
        piece = self._decompressor.process(data, output_buffer_limit=_DECODE_PIECE)
        # Output held back by the limit comes out of calls with no input; an empty piece
        # means the decoder needs more input.
        while piece:
            yield piece
            if self._decompressor.is_finished():
                return
            piece = self._decompressor.process(b"", output_buffer_limit=_DECODE_PIECE)


def _decoder_for(content_encoding: str) -> _Decoder:
    name = content_encoding.strip().lower()
    if name in ("", "identity"):
        return _Decoder()
    if name in ("gzip", "x-gzip"):
        return _ZlibDecoder(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return _ZlibDecoder(zlib.MAX_WBITS, raw_fallback=True)
    if name == "br":
        return _BrotliDecoder()
    # Stacked encodings ("gzip, br") are legal but unseen in practice; we do not ask for them.
    raise _FetchFailed(f"unsupported Content-Encoding {content_encoding!r}")
