"""The names of the summarisers, apart from their code: settings check a configured name
at start without importing sumy and its numpy (seconds of start-up for every command)."""

from __future__ import annotations

ALGORITHMS: tuple[str, ...] = (
    "default",
    "lead",
    "lexrank",
    "textrank",
    "lsa",
    "luhn",
    "kl",
    "sumbasic",
    "edmundson",
)
