"""Every structlog event is named in one style: ``subject.what_happened``, lower case.

The subject is what the line is about (``feed``, ``entry``, ``page``, ``digest``); what
happened is snake_case in the past tense: a participle (``feed.parsed``), with a qualifier
after it (``entry.skipped_too_large``) or the part of the subject before it
(``entry.content_truncated``). One spelling per event lets a log query name it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("ingest", "dedup", "storage", "summarise", "digest", "feedbrief")
_LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical"})
_EVENT_NAME = re.compile(r"[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)*")


def _events(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _LOG_METHODS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def test_event_names_follow_the_convention() -> None:
    found = {
        f"{path.relative_to(REPO)}:{line}": event
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        for line, event in _events(path)
    }
    assert len(found) > 10  # the scan sees the log calls
    assert {
        where: event for where, event in found.items() if not _EVENT_NAME.fullmatch(event)
    } == {}
