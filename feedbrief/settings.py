"""Configuration: the TOML file, then environment overrides, validated once at start.

An operator's typo must stop the service before it touches anything, with a message that
names the key; so every section forbids unknown keys and every value is typed.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tomllib
from datetime import tzinfo
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from digest.select import compile_rule
from ingest.schedule import MAX_INTERVAL
from summarise.algorithms import ALGORITHMS

DEFAULT_CONFIG = Path("config/feedbrief.toml")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
# Every duration setting (intervals, timeouts, max_age) is at most what a feed's interval
# may be: longer ones are typos, and would leave the range of Python's dates.
MAX_DURATION = MAX_INTERVAL.total_seconds()
# Items older than this many days are pruned; a century keeps the cut-off after 1900.
MAX_RETENTION_DAYS = 36500


class ConfigError(Exception):
    """The configuration cannot be used; the message names the offending key."""


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"2h"`` or ``"1d"``: positive, finite
    and at most :data:`MAX_DURATION`."""
    return _duration(value, MAX_DURATION)


def parse_age(value: Any) -> float:
    """``digest.max_age``: a duration, as long as retention may be (whoever replays old
    seeds or an archive wants them all in the digest)."""
    return _duration(value, MAX_RETENTION_DAYS * 86400.0)


# One argument only in the validators above: pydantic hands a validator that takes two
# its ValidationInfo as the second.
def _duration(value: Any, longest: float) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as '90s', '30m', '2h' or '1d'")
        seconds = float(match[1]) * _UNIT_SECONDS[match[2]]
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite duration")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    if seconds > longest:
        longest_text = f"{longest / 86400:g}d"
        raise ValueError(f"{value!r} is longer than the longest allowed, {longest_text}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Age = Annotated[float, BeforeValidator(parse_age)]


def check_pattern(value: Any) -> str:
    """A keep/block rule, compiled as the digest matches it, so that a bad one stops the
    service at start, naming its key."""
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty regular expression")
    try:
        compile_rule(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression {value!r}: {exc}") from exc
    return value


Pattern = Annotated[str, BeforeValidator(check_pattern)]


def check_weight(value: Any) -> float:
    """A feed's digest weight: a positive finite number (1 is the default)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a positive number")
    try:
        weight = float(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not 0 < weight < float("inf"):
        raise ValueError("a weight must be a positive finite number")
    return weight


Weight = Annotated[float, BeforeValidator(check_weight)]


def check_base_url(value: Any) -> str:
    """Where the digests are published: an absolute http(s) URL, ending with "/" (the
    pages' names are appended to it)."""
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", value):
        raise ValueError(f"not an absolute http(s) URL: {value!r}")
    return value if value.endswith("/") else value + "/"


class _Section(BaseModel):
    # No NaN or infinity in any number: each would pass a range check and fail later.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DatabaseSettings(_Section):
    url: str = "sqlite:///data/feedbrief.db"

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a valid SQLAlchemy database URL: {value!r}") from exc
        return value


class SeedSettings(_Section):
    dir: Path = Path("seeds")
    scan_interval: Duration = 300.0


class DigestSettings(_Section):
    dir: Path = Path("digests")
    time: dt.time = dt.time(7, 0)
    timezone: str = "local"
    sentences: int = Field(default=3, ge=1, le=50)
    algorithm: str = "default"
    # Where the digest directory is published (by `feedbrief serve` or any static
    # server); feed.xml links to the daily pages under it.
    base_url: str = "http://127.0.0.1:8080/"
    # An item published longer than this before it was first seen (a new feed's
    # backlog, an OPML import, a feed re-publishing old items) is stored but appears in
    # no digest.
    max_age: Age = 2 * 86400.0
    # The front page: the best stories of any category, then per category its best
    # stories with summaries and more as headlines; all within a reading time.
    top_stories: int = Field(default=10, ge=0, le=100)
    # At most this many Top stories from one feed, so one prolific feed cannot fill it.
    top_per_source: int = Field(default=2, ge=1, le=100)
    section_stories: int = Field(default=5, ge=0, le=100)
    section_headlines: int = Field(default=10, ge=0, le=1000)
    reading_minutes: float = Field(default=10.0, gt=0, le=600)
    # Items matching any block pattern appear in no digest; when keep patterns are
    # given, only items matching one of them do (titles and text, any case).
    block: list[Pattern] = []
    keep: list[Pattern] = []

    @field_validator("algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {value!r}; choose from {', '.join(ALGORITHMS)}")
        return value

    @field_validator("base_url", mode="before")
    @classmethod
    def _absolute_url(cls, value: Any) -> str:
        return check_base_url(value)

    @field_validator("time", mode="before")
    @classmethod
    def _hh_mm(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"\d{1,2}:\d{2}", value):
            raise ValueError(f"{value!r} is not a time of day like '07:00'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value != "local":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> tzinfo:
        if self.timezone == "local":
            return tzlocal.get_localzone()
        return ZoneInfo(self.timezone)

    @property
    def tz_name(self) -> str:
        return str(self.tz)


class Subscription(_Section):
    url: str
    interval: Duration | None = None
    full_text: bool = False
    # The digest section the feed's stories go to; none: the last section, "Other".
    category: str | None = Field(default=None, min_length=1)
    # Ranks its stories above equally covered ones from lighter feeds.
    weight: Weight = 1.0
    # Items matching block appear in no digest; with keep, only matching items do.
    block: Pattern | None = None
    keep: Pattern | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value


class FeedSettings(_Section):
    interval: Duration = 1800.0
    min_interval: Duration = 900.0
    max_interval: Duration = 6 * 3600.0
    # How often the ticker looks for due feeds.
    tick: Duration = 30.0
    concurrency: int = Field(default=8, ge=1, le=256)
    per_host: int = Field(default=2, ge=1, le=64)
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    total_timeout: Duration = 60.0
    max_body_mib: float = Field(default=15.0, gt=0, le=1024)
    # Entries taken from one fetch, in feed order; a feed with more is cut, with a log
    # line, so that one giant feed cannot hold a worker for an hour.
    max_entries: int = Field(default=1000, ge=1)
    # Every fetch goes through this HTTP(S) proxy (http://host:port, credentials allowed),
    # whatever HTTP_PROXY, HTTPS_PROXY and ALL_PROXY say; NO_PROXY still applies. Unset:
    # those variables decide, as in every HTTP client.
    proxy: str | None = None
    # Loopback and private addresses (127/8, 10/8, 192.168/16, fc00::/7...) may be
    # fetched: a single-user install may read feeds on its own network. False refuses
    # them, for a server whose feed list others control. Link-local addresses (the cloud
    # metadata service) and 0.0.0.0 are refused either way.
    allow_private_networks: bool = True
    # A feed claimed by a worker is its own for this long; if the worker dies, another
    # takes the feed over once the lease has run out. Longer than any one refresh.
    lease: Duration = 600.0
    # Processes that parse, clean, fingerprint and summarise what was fetched (pure
    # Python: one process uses one core). 0: one per CPU; 1: all in the service process.
    processes: int = Field(default=0, ge=0, le=64)
    subscriptions: list[Subscription] = []

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Imported here: it loads httpx, which a command that fetches nothing never needs.
        from ingest.proxy import check_proxy_url

        return check_proxy_url(value)


class MetricsSettings(_Section):
    # Worker processes write their Prometheus counters here; `feedbrief serve` adds
    # them up. Clear it when no worker runs (the systemd unit does, on start).
    dir: Path = Path("data/metrics")


def check_address(value: Any) -> str:
    """A bare email address (``reader@example.org``): it goes into message headers and
    the SMTP envelope, so a display name, a line break or a missing domain is refused."""
    if not isinstance(value, str):
        raise ValueError("expected an email address such as 'reader@example.org'")
    address = value.strip()
    name, parsed = parseaddr(address)
    local, _, domain = parsed.rpartition("@")
    if (
        name
        or parsed != address
        or not local
        or "." not in domain
        or any(char.isspace() or char in "<>,;" for char in address)
    ):
        raise ValueError(f"{value!r} is not an email address such as 'reader@example.org'")
    return address


Address = Annotated[str, BeforeValidator(check_address)]
# The usual port of each way to reach a mail server (RFC 8314 for implicit TLS on 465).
DEFAULT_SMTP_PORTS = {"none": 25, "starttls": 587, "tls": 465}
# A login without TLS is refused except to a relay on this machine.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class EmailSettings(_Section):
    """Where the daily digest is mailed. No recipients: no email."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    to: list[Address] = []
    sender: Address | None = Field(default=None, alias="from")
    host: str = Field(default="127.0.0.1", min_length=1)
    # None: the usual port of ``security`` (25, 587 or 465).
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""
    # The password is read from this variable when a message is sent, never from the
    # file: configuration files get committed, copied and pasted into bug reports.
    password_env: str = Field(
        default="FEEDBRIEF_SMTP_PASSWORD", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"
    )

    @model_validator(mode="after")
    def _sender_with_recipients(self) -> EmailSettings:
        if self.to and self.sender is None:
            raise ValueError("'from' is required when 'to' lists recipients")
        if self.username and self.security == "none" and self.host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"security 'none' would send the password for {self.username!r} to "
                f"{self.host} in the clear; use 'starttls' or 'tls'"
            )
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.to)

    @property
    def smtp_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_SMTP_PORTS[self.security]


class Settings(_Section):
    # Items (and their summaries) older than this are pruned; their tombstones and the
    # digests already written stay.
    retention_days: int = Field(default=90, ge=1, le=MAX_RETENTION_DAYS)
    database: DatabaseSettings = DatabaseSettings()
    seeds: SeedSettings = SeedSettings()
    digest: DigestSettings = DigestSettings()
    feeds: FeedSettings = FeedSettings()
    metrics: MetricsSettings = MetricsSettings()
    email: EmailSettings = EmailSettings()


def _format_error(exc: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"config error{where}: {key}: {message}")
    return "\n".join(lines)


def _apply_env(data: dict[str, Any], environ: os._Environ[str] | dict[str, str]) -> None:
    overrides = {
        "FEEDBRIEF_DATABASE_URL": ("database", "url"),
        "FEEDBRIEF_DIGEST_DIR": ("digest", "dir"),
        "FEEDBRIEF_SEEDS_DIR": ("seeds", "dir"),
        "FEEDBRIEF_METRICS_DIR": ("metrics", "dir"),
    }
    for variable, (section, key) in overrides.items():
        if environ.get(variable):
            section_data = data.setdefault(section, {})
            if not isinstance(section_data, dict):
                raise ConfigError(f"config error: {section}: expected a table")
            section_data[key] = environ[variable]


def load_settings(
    path: Path | None = None, environ: os._Environ[str] | dict[str, str] | None = None
) -> Settings:
    """Read *path* (or ``FEEDBRIEF_CONFIG``, or the default file if present)."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get("FEEDBRIEF_CONFIG"):
        path = Path(environ["FEEDBRIEF_CONFIG"])
    explicit = path is not None
    path = path or DEFAULT_CONFIG
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config error in {path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"config error: cannot read {path}: {exc.strerror}") from exc
    elif explicit:
        raise ConfigError(f"config error: {path} does not exist")
    _apply_env(data, environ)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, path if path.exists() else None)) from exc
