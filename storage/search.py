"""Search: stored items whose title or text match a search box query, best first.

What a query means is decided in ``storage.fulltext``; this module asks the database.
SQLite ranks with FTS5's BM25, PostgreSQL with ``ts_rank``; on both a word in the title
counts for more than the same word in the text. The index is kept in step by the
database itself (triggers on SQLite, a generated column on PostgreSQL; migration 0007),
so every write path, pruning and deleting included, updates it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, sessionmaker

from storage.fulltext import (
    FTS5_TABLE,
    PG_CONFIG_FUNCTION,
    PG_FALLBACK_CONFIG,
    PG_TEXT_CONFIGS,
    PG_VECTOR_COLUMN,
    fts5_query,
    websearch_query,
)
from storage.models import Item, Source, Summary
from storage.records import SearchHit

# BM25 weights of the FTS5 columns (title, text): a word in the title counts as much as
# it would ten times over in the text.
FTS5_WEIGHTS = (10.0, 1.0)
# ts_rank's weights of the vector's D, C, B and A labels; the title is A, the text B.
PG_WEIGHTS = "{0.1, 0.2, 0.2, 1.0}"
# ts_rank normalisation 1: divide by 1 + log(length), so a long text does not outrank a
# short one by repeating a word.
PG_NORMALISATION = 1
# Configurations a query may be read in: an item's language picks one (the database
# function of migration 0007), and a query is stemmed as the items it is matched against.
_PG_CONFIGS = sorted({*PG_TEXT_CONFIGS.values(), PG_FALLBACK_CONFIG})
_PG_READINGS = text(
    "SELECT cfgname, websearch_to_tsquery(oid::regconfig, :query)::text "
    "FROM pg_ts_config WHERE cfgname = ANY(:names)"
)
# SearchHit's fields in order, up to its summary.
_DETAILS = (
    select(
        Item.id,
        Item.guid,
        Item.title,
        Item.url,
        Source.url,
        Source.title,
        Item.published_at,
        Item.first_seen_at,
        Item.language,
        Summary.sentences,
    )
    .join(Source, Item.source_id == Source.id)
    .outerjoin(Summary, Summary.item_id == Item.id)
)


class SearchMixin:
    """The search part of ``Storage``."""

    # Set up by Storage.__init__.
    dialect: str
    _reader: sessionmaker[Session]

    def search(
        self, query: str, *, limit: int = 20, since: datetime | None = None
    ) -> list[SearchHit]:
        """Items matching *query* (first seen at or after *since*), best first, at most
        *limit*. A query that can find nothing (only punctuation, only exclusions)
        returns no items without asking the database."""
        if limit < 1:
            return []
        with self._reader() as session:
            if self.dialect == "postgresql":
                ranked = _postgres_ranking(session, query, limit, since)
            else:
                ranked = _sqlite_ranking(session, query, limit, since)
            if not ranked:
                return []
            rows = session.execute(_DETAILS.where(Item.id.in_([i for i, _ in ranked])))
            details = {row[0]: row for row in rows}
        return [_hit(details[item_id], score) for item_id, score in ranked if item_id in details]


def _sqlite_ranking(
    session: Session, query: str, limit: int, since: datetime | None
) -> list[tuple[int, float]]:
    expression = fts5_query(query)
    if expression is None:
        return []
    fts = literal_column(FTS5_TABLE)
    rowid = literal_column(f"{FTS5_TABLE}.rowid")
    # bm25 is lower for better matches.
    score = (-func.bm25(fts, *FTS5_WEIGHTS)).label("score")
    source = table(FTS5_TABLE)
    ranking: Select[tuple[int, float]] = select(rowid, score)
    if since is not None:
        ranking = ranking.select_from(source.join(Item, Item.id == rowid)).where(
            Item.first_seen_at >= since
        )
    else:
        ranking = ranking.select_from(source)
    ranking = (
        ranking.where(fts.op("MATCH")(bindparam("match", expression)))
        .order_by(score.desc(), rowid.desc())
        .limit(limit)
    )
    return [(int(item_id), float(value)) for item_id, value in session.execute(ranking)]


def _postgres_ranking(
    session: Session, query: str, limit: int, since: datetime | None
) -> list[tuple[int, float]]:
    rewritten = websearch_query(query)
    if rewritten is None:
        return []
    groups = _configs_by_reading(
        session.execute(_PG_READINGS, {"query": rewritten, "names": _PG_CONFIGS}).all()
    )
    if not groups:  # only stop words, in every language
        return []
    vector = literal_column(f"items.{PG_VECTOR_COLUMN}")
    config = cast(getattr(func, PG_CONFIG_FUNCTION)(Item.language), Text)
    weights = literal_column(f"'{PG_WEIGHTS}'::float4[]")
    parts = []
    for n, (reading, configs) in enumerate(sorted(groups.items())):
        tsquery = cast(bindparam(f"q{n}", reading), TSQUERY)
        part = select(
            Item.id.label("id"),
            func.ts_rank(weights, vector, tsquery, PG_NORMALISATION).label("score"),
        ).where(vector.op("@@")(tsquery), config.in_(configs))
        if since is not None:
            part = part.where(Item.first_seen_at >= since)
        parts.append(part)
    hits = union_all(*parts).subquery()
    ranking = select(hits.c.id, hits.c.score).order_by(hits.c.score.desc(), hits.c.id.desc())
    return [(int(i), float(s)) for i, s in session.execute(ranking.limit(limit))]


def _configs_by_reading(rows: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Configurations grouped by how they read the query: one index scan per reading
    rather than per language. An empty reading (stop words only) finds nothing."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name, reading in rows:
        if reading:
            groups[reading].append(name)
    return groups


def _hit(row: Row[Any], score: float) -> SearchHit:
    # _DETAILS lists SearchHit's fields in order, then the summary's sentences.
    *fields, sentences = row
    return SearchHit(*fields, summary=tuple(sentences or ()), score=score)
