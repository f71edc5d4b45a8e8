"""What a search box query means, and how each database is asked it: pure functions.

A query is read as a web search box reads it: words must all appear, ``"quoted words"``
must appear as a phrase, ``-word`` (or ``-"a phrase"``) must not appear, and ``OR``
between two terms lets either do. ``OR`` binds looser than the implied AND, as in
PostgreSQL's ``websearch_to_tsquery`` (which PostgreSQL is given the query through), so
that both databases read ``a b OR c`` alike: ``(a b) OR c``.

SQLite is given the query as FTS5 syntax made here, every term inside double quotes: no
character the user types is FTS5 syntax, so no query is an FTS5 syntax error. A term
with no letter or digit in it matches nothing and is dropped; a query left with no
term to look for (only punctuation, only exclusions) finds nothing, and is never sent.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# FTS5's default tokenizer (unicode61) makes tokens of letters, digits and private-use
# characters and treats everything else as a separator.
_TOKEN_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Co"})
# Never part of a word, and a lone surrogate cannot even be encoded for the database.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs"})


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # one word, or the words of a phrase
    excluded: bool = False


Group = tuple[Term, ...]
"""Terms that must all hold (their words present, the excluded ones absent)."""


def clean_query(query: str) -> str:
    """``query`` without control characters and lone surrogates (a terminal can pass
    both), which neither database accepts and no stored word contains."""
    return "".join(" " if unicodedata.category(ch) in _DROPPED_CATEGORIES else ch for ch in query)


def parse_query(query: str) -> tuple[Group, ...]:
    """The groups of terms of *query*, any of which may match; empty when it asks for
    nothing that can be found."""
    groups: list[Group] = []
    current: list[Term] = []
    for term, is_or in _terms(clean_query(query)):
        if is_or:
            groups.append(tuple(current))
            current = []
        elif term is not None:
            current.append(term)
    groups.append(tuple(current))
    # A group of exclusions alone would match nearly everything: it is dropped.
    return tuple(group for group in groups if any(not t.excluded for t in group))


def _terms(query: str) -> list[tuple[Term | None, bool]]:
    """(term, False) for each term and (None, True) for each OR, in order."""
    found: list[tuple[Term | None, bool]] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        excluded = query[i] == "-" and i + 1 < n and not query[i + 1].isspace()
        if excluded:
            i += 1
        if query[i] == '"':
            end = query.find('"', i + 1)
            end = n if end < 0 else end
            text, quoted, i = query[i + 1 : end], True, end + 1
        else:
            end = i
            while end < n and not query[end].isspace() and query[end] != '"':
                end += 1
            text, quoted, i = query[i:end], False, end
        if not quoted and not excluded and text.lower() == "or":
            found.append((None, True))
        elif has_word(text):
            found.append((Term(text, excluded), False))
    return found


def has_word(text: str) -> bool:
    """Whether *text* holds a character a word is made of."""
    return any(unicodedata.category(ch) in _TOKEN_CATEGORIES for ch in text)


def fts5_query(query: str) -> str | None:
    """*query* as an FTS5 MATCH expression, or None when it can find nothing."""
    groups = parse_query(query)
    if not groups:
        return None
    return " OR ".join(_fts5_group(group) for group in groups)


def websearch_query(query: str) -> str | None:
    """*query* rewritten for ``websearch_to_tsquery`` with the same groups and terms
    as SQLite is given (every term quoted, exclusion-only groups gone), or None when it
    can find nothing."""
    groups = parse_query(query)
    if not groups:
        return None
    # A term never holds a double quote: quotes are what end it.
    return " or ".join(
        " ".join(f'{"-" if t.excluded else ""}"{t.text}"' for t in group) for group in groups
    )


def fts5_ranking_query(query: str, is_common: Callable[[str], bool]) -> str | None:
    """What FTS5's BM25 needs of *query* to rank the items it matches, when that is less
    than the whole query: None when it is not (an ``OR``, or nothing to leave out).

    BM25 reads the posting list of each of a query's terms to weigh it, and weighs a word
    that at least half of all items hold at nothing (FTS5 floors its IDF at 1e-6): such
    a word (*is_common*, given it lower-cased) adds to the cost and not to the order, and
    is left out. So are excluded terms, which no match holds. The items ranked are still
    the whole query's matches; this only says what they are ranked by.
    """
    groups = parse_query(query)
    if len(groups) != 1:
        return None
    (group,) = groups
    wanted = [t for t in group if not t.excluded]
    kept = [t for t in wanted if not (_is_one_ascii_word(t.text) and is_common(t.text.lower()))]
    if not kept:
        kept = wanted  # every word is common: they rank as they match, nearly alike
    if len(kept) == len(group):
        return None
    return _fts5_group(tuple(kept))


def _is_one_ascii_word(text: str) -> bool:
    """Whether *text* is one token whose lower case is its FTS5 index term as it is: the
    porter stemmer leaves a common English word alone, and a word it would stem is not
    found under its own spelling, so it is kept, which is only slower."""
    return text.isascii() and text.isalnum()


def _fts5_group(group: Group) -> str:
    wanted = " AND ".join(_fts5_string(t.text) for t in group if not t.excluded)
    expression = f"({wanted})"
    # FTS5's NOT is binary: "wanted, but not this".
    for term in group:
        if term.excluded:
            expression = f"({expression} NOT {_fts5_string(term.text)})"
    return expression


def _fts5_string(text: str) -> str:
    """An FTS5 string: inside double quotes every character is text to tokenize (a
    quote is written twice), so the words become one phrase."""
    return '"' + text.replace('"', '""') + '"'


# PostgreSQL text-search configurations for the languages it stems (ISO 639-1 codes);
# an item in any other language, or none, is indexed with 'simple' (lower-cased words,
# no stemming, no stop words). Configurations a server lacks are left out when the
# index is built (see ``pg_config_function``).
PG_TEXT_CONFIGS = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
PG_FALLBACK_CONFIG = "simple"
PG_CONFIG_FUNCTION = "feedbrief_search_config"
# to_tsvector refuses a document whose vector would pass 1 MB; an item's text (up to
# 1,000,000 characters) is indexed up to this many, which keeps every vector well under
# that whatever the text, and is ten times a long news feature.
PG_INDEXED_TEXT_CHARS = 100_000


def pg_config_function(available: set[str]) -> str:
    """SQL creating the function from an item's language code ("en", "pt-BR", "de_DE",
    "EN") to its text-search configuration, among the *available* ones.

    It is declared IMMUTABLE (its result depends on its argument alone), which holds as
    long as the configurations it names are not redefined.
    """
    cases = "\n".join(
        f"    WHEN '{code}' THEN '{config}'::regconfig"
        for code, config in sorted(PG_TEXT_CONFIGS.items())
        if config in available
    )
    return f"""
CREATE OR REPLACE FUNCTION {PG_CONFIG_FUNCTION}(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE lower(split_part(replace(coalesce(language, ''), '_', '-'), '-', 1))
{cases}
    ELSE '{PG_FALLBACK_CONFIG}'::regconfig
  END
$$"""


def pg_search_vector(row: str = "") -> str:
    """The SQL expression of an item's search vector: its title weighted A (the top
    weight), its text weighted B. *row* qualifies the columns (``NEW.`` in a trigger)."""
    config = f"{PG_CONFIG_FUNCTION}({row}language)"
    return (
        f"setweight(to_tsvector({config}, coalesce({row}title, '')), 'A') || "
        f"setweight(to_tsvector({config}, left(coalesce({row}text, ''), "
        f"{PG_INDEXED_TEXT_CHARS})), 'B')"
    )


# The search index's own schema objects, which the SQLAlchemy models do not describe:
# SQLite's FTS5 table (and the shadow tables FTS5 keeps its index in); PostgreSQL's table
# of one row per item (its id, text-search configuration and vector), the GIN index on
# its vector and the trigger function that keeps it in step with items.
FTS5_TABLE = "items_fts"
FTS5_VOCAB_TABLE = "items_fts_vocab"  # one row per index term: how many items hold it
PG_SEARCH_TABLE = "item_search"
PG_VECTOR_INDEX = "ix_item_search_vector"
PG_CONFIG_INDEX = "ix_item_search_config"
PG_INDEX_FUNCTION = "feedbrief_index_item"


def is_search_index(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Whether a reflected schema object belongs to the search index (the signature of
    Alembic's ``include_name`` hook, which wants the opposite)."""
    if name is None:
        return False
    if type_ == "table":
        return name in (FTS5_TABLE, PG_SEARCH_TABLE) or name.startswith(f"{FTS5_TABLE}_")
    return type_ == "index" and name in (PG_VECTOR_INDEX, PG_CONFIG_INDEX)


def include_in_models(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: compare everything but the search index."""
    return not is_search_index(name, type_, parent_names)
