"""Seed documents: article files dropped into ``seeds/``, replayable through the pipeline.

A seed's identity is its path relative to the seeds directory (plus, for JSON files,
the object's ``id``, ``url`` or position), so replaying a file stores nothing new and an
edited file updates its items in place.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from ingest.clean import (
    article_title,
    clean_paragraphs,
    extract_page,
    html_to_paragraphs,
    split_paragraphs,
)
from ingest.dates import DateOutOfRange, read_date
from ingest.records import Article, cap_content

log = structlog.get_logger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSON_SUFFIXES = frozenset({".json", ".jsonl"})
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES

# A seed is one article or a small batch of them; anything bigger is a mistake
# (a log file, a database dump) and would only stall the pipeline.
MAX_SEED_BYTES = 32 * 1024 * 1024


class SeedError(Exception):
    """A seed file that cannot be used; the message says why, for the log and the table."""


class UnsupportedSeed(SeedError):
    """A file whose format feedbrief does not read; skipped, not an error."""


@dataclass(frozen=True, slots=True)
class SeedDocument:
    name: str  # path relative to the seeds directory (or absolute, outside it)
    articles: tuple[Article, ...]

    @property
    def source_url(self) -> str:
        return f"seed:{self.name}"


def seed_name(path: Path, seeds_dir: Path, *, resolve: bool = True) -> str:
    """*path* relative to *seeds_dir* (or absolute, outside it): once symlinks are
    resolved, as a seed's identity; as found (``resolve=False``), to report a file that
    could not be read where the user will look for it. A name that is not UTF-8 is
    spelled with backslash escapes (``caf\\xe9.txt``): it must go into logs, tables and
    the database, which take only text."""
    place = os.path.realpath if resolve else os.path.abspath
    real, root = Path(place(path)), Path(place(seeds_dir))
    name = real.relative_to(root).as_posix() if real.is_relative_to(root) else real.as_posix()
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def find_seeds(seeds_dir: Path) -> Iterator[Path]:
    """Every file under *seeds_dir*, in a stable order, hidden files and folders left out.

    Symlinked folders are followed. What cannot be walked is yielded too, for
    :func:`load_seed` to report rather than hide: a folder that cannot be listed, a
    symlink back to a folder it is in (a loop), a symlink that leads nowhere.
    """
    yield from _walk(seeds_dir, frozenset())


def _walk(directory: Path, ancestors: frozenset[tuple[int, int]]) -> Iterator[Path]:
    try:
        inside = ancestors | {_identity(directory)}
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: os.fsencode(entry.name))
    except OSError:
        yield directory
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()  # follows a symlink
            looped = is_dir and _identity(path) in inside
        except OSError:
            is_dir = looped = False
        if is_dir and not looped:
            yield from _walk(path, inside)
        else:
            yield path


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def load_seed(path: Path, seeds_dir: Path) -> SeedDocument:
    """Read and clean one seed file.

    Raises :class:`UnsupportedSeed` for a format feedbrief does not read or a file that
    is not a regular one (a FIFO, a device, a socket), and :class:`SeedError` for a file
    that is unreadable, empty, binary, undecodable or over the size limit, a folder that
    cannot be listed, and a symlink loop.
    """
    _check_kind(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedSeed(f"unsupported file type {suffix or '(none)'!r}")
    data = _read_bytes(path)
    name = seed_name(path, seeds_dir)
    # Bound so that every line logged while reading it (a date dropped) names the seed.
    with structlog.contextvars.bound_contextvars(seed=name):
        if suffix in HTML_SUFFIXES:
            articles = [_html_article(data, name)]
        elif suffix in TEXT_SUFFIXES:
            articles = [_text_article(_decode(data), name, markdown=suffix == ".md")]
        else:
            articles = _json_articles(_decode(data), name, lines=suffix == ".jsonl")
    return SeedDocument(name=name, articles=tuple(articles))


def _check_kind(path: Path) -> None:
    """Refuse what is not a file to read, saying what it is. Only a first look: the
    file is checked again on the descriptor it is read through."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SeedError("symlink loop: the link never reaches a file") from exc
        raise SeedError(f"cannot read file: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(mode):
        if path.is_symlink() and Path(os.path.realpath(path.parent)).is_relative_to(
            os.path.realpath(path)
        ):
            raise SeedError("symlink loop: the link leads back to a folder it is in")
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            raise SeedError(f"cannot read folder: {exc.strerror or exc}") from exc
        raise UnsupportedSeed("a folder, not a file")
    if not stat.S_ISREG(mode):
        raise UnsupportedSeed(f"not a regular file but {_kind(mode)}")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, at most the size limit. The limit counts what is read, not what
    ``stat`` says: a device or ``/proc`` file reports size 0 and never ends. The file is
    opened without blocking (a FIFO swapped in would otherwise wait for a writer) and
    refused unless the descriptor is a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise SeedError(f"cannot read file: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnsupportedSeed(f"not a regular file but {_kind(mode)}")
        try:
            data = handle.read(MAX_SEED_BYTES + 1)
        except OSError as exc:
            raise SeedError(f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > MAX_SEED_BYTES:
        raise SeedError(f"file is over the {MAX_SEED_BYTES}-byte limit")
    if not data.strip():
        raise SeedError("file is empty")
    if b"\x00" in data[:8192]:
        raise SeedError("file is binary (NUL bytes), not a text document")
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SeedError(
            f"not valid UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start})"
        ) from exc


def _article(
    guid: str,
    title: str,
    paragraphs: list[str],
    *,
    url: str | None = None,
    published: datetime | None = None,
    language: str | None = None,
) -> Article:
    body = clean_paragraphs(paragraphs)
    if not body:
        raise SeedError(f"{guid}: no article text left after cleaning")
    return Article(
        guid=guid,
        title=article_title(title, body),
        text="\n\n".join(body),
        url=url,
        published=published,
        language=language,
    )


def _text_article(text: str, name: str, *, markdown: bool) -> Article:
    first, _, rest = cap_content(text, seed=name).strip().partition("\n")
    title = first.lstrip("#").strip() if markdown else first.strip()
    return _article(name, title, split_paragraphs(rest))


def _html_article(data: bytes, name: str) -> Article:
    page = extract_page(data)
    if not page.paragraphs:
        raise SeedError("no article text found in the HTML")
    return _article(
        name,
        page.title or "",
        page.paragraphs,
        url=page.url,
        published=page.published,
        language=page.language,
    )


def _json_articles(text: str, name: str, *, lines: bool) -> list[Article]:
    objects = _json_objects(text, lines=lines)
    if not objects:
        raise SeedError("no JSON objects in file")
    articles = []
    seen: set[str] = set()
    for index, (where, obj) in enumerate(objects):
        guid = f"{name}#{_json_key(obj, index)}"
        if guid in seen:
            raise SeedError(f"{where}: duplicate id {guid!r}")
        seen.add(guid)
        articles.append(_json_article(obj, guid, where))
    return articles


def _json_objects(text: str, *, lines: bool) -> list[tuple[str, dict[str, Any]]]:
    try:
        if lines:
            values = [
                (f"line {number}", json.loads(line))
                for number, line in enumerate(text.splitlines(), 1)
                if line.strip()
            ]
        else:
            document = json.loads(text)
            items = document if isinstance(document, list) else [document]
            values = [(f"object {number}", value) for number, value in enumerate(items, 1)]
    # ValueError: JSONDecodeError, and integers too long to convert.
    except ValueError as exc:
        raise SeedError(f"invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise SeedError("invalid JSON: nested too deeply") from exc
    for where, value in values:
        if not isinstance(value, dict):
            raise SeedError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return values


def _json_key(obj: dict[str, Any], index: int) -> str:
    for key in ("id", "url"):
        value = obj.get(key)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return str(index)


def _json_article(obj: dict[str, Any], guid: str, where: str) -> Article:
    title = _optional_str(obj, "title", where) or ""
    text = _optional_str(obj, "text", where)
    html = _optional_str(obj, "html", where)
    if text:
        paragraphs = split_paragraphs(cap_content(text, seed=guid))
    elif html:
        paragraphs = html_to_paragraphs(cap_content(html, seed=guid))
    else:
        raise SeedError(f"{where}: needs a non-empty 'text' or 'html'")
    return _article(
        guid,
        title,
        paragraphs,
        url=_optional_str(obj, "url", where),
        published=_parse_published(obj.get("published"), where),
        language=_optional_str(obj, "language", where),
    )


def _optional_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SeedError(f"{where}: '{key}' must be a string")
    return value.strip() or None


def _parse_published(value: Any, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SeedError(f"{where}: 'published' must be an ISO 8601 string")
    try:
        parsed = read_date(value, rfc822=False)
    except DateOutOfRange:
        # The article is still worth having; only its date is nonsense.
        log.warning("seed.date_dropped", item=where, value=value[:100])
        return None
    if parsed is None:
        raise SeedError(f"{where}: 'published' is not a usable date: {value!r}")
    return parsed
