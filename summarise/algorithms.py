"""The names of the summarisers, importable without loading any of them.

The CLI lists them in its help, which must not pay for sumy, numpy and the language
data; :mod:`summarise.summarisers` maps each name to its summariser.
"""

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
