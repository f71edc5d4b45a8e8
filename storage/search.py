"""Search: stored items whose title or text match a search box query, best first.

What a query means is decided in ``storage.fulltext``; this module asks the database.
SQLite ranks with FTS5's BM25, PostgreSQL with ``ts_rank``; on both a word in the title
counts for more than the same word in the text. The index is kept in step by the
database itself (triggers on SQLite, a generated column on PostgreSQL; migration 0007),
so every write path, pruning and deleting included, updates it.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    Subquery,
    any_,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    true,
)
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
# A query matching more items than this ranks the newest this many of them: ranking
# reads every candidate's statistics (PostgreSQL its whole vector), and a common word
# matches a fifth of all items. The newest are what a reader of news most likely wants;
# a word or two more narrows the matches to fewer than this, and then all are ranked.
RANKED_MATCHES = 1_000
# ts_rank's weights of the vector's D, C, B and A labels; the title is A, the text B.
PG_WEIGHTS = "{0.1, 0.2, 0.2, 1.0}"
# ts_rank normalisation 1: divide by 1 + log(length), so a long text does not outrank a
# short one by repeating a word.
PG_NORMALISATION = 1
# Configurations a query may be read in: an item's language picks one (the database
# function of migration 0007), and the query is stemmed as the items it is matched with.
_PG_CONFIGS = sorted({*PG_TEXT_CONFIGS.values(), PG_FALLBACK_CONFIG})
_PG_TS_CONFIG = table("pg_ts_config", column("oid"), column("cfgname"))


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
        postgres = self.dialect == "postgresql"
        rewritten = websearch_query(query) if postgres else fts5_query(query)
        if rewritten is None or limit < 1:
            return []
        statement = _search_statement(postgres, since is not None)
        values = {"query": rewritten, "limit": limit, "ranked": RANKED_MATCHES, "since": since}
        with self._reader() as session:
            rows = session.connection().execute(statement, values)
            return [_hit(row) for row in rows]


def _sqlite_hits(since: bool) -> Subquery:
    fts = literal_column(FTS5_TABLE)
    rowid = literal_column(f"{FTS5_TABLE}.rowid")
    # bm25 is lower for better matches.
    score = (-func.bm25(fts, *FTS5_WEIGHTS)).label("score")
    source = table(FTS5_TABLE)
    match = fts.op("MATCH")(bindparam("query"))
    # FTS5 walks matches newest first (by rowid) without ranking them, and takes a rowid
    # bound as part of the match: finding the bound is cheap, ranking above it bounded.
    bound = (
        select(rowid)
        .select_from(source)
        .where(match)
        .order_by(rowid.desc())
        .offset(bindparam("ranked") - 1)
        .limit(1)
        .scalar_subquery()
    )
    hits = select(rowid.label("id"), score).where(match, rowid >= func.coalesce(bound, 0))
    if since:
        hits = hits.select_from(source.join(Item, Item.id == rowid))
        hits = hits.where(Item.first_seen_at >= bindparam("since"))
    else:
        hits = hits.select_from(source)
    return hits.order_by(score.desc(), rowid.desc()).limit(bindparam("limit")).subquery("hits")


def _postgres_hits(since: bool) -> Subquery:
    """Each configuration reads the query (stems, stop words) its own way, and an item
    matches the reading of its own language's configuration. Configurations that read
    it alike share one index scan; a reading left empty (only stop words) is skipped."""
    from sqlalchemy.dialects.postgresql import REGCONFIG  # not loaded for SQLite

    config = cast(_PG_TS_CONFIG.c.oid, REGCONFIG)
    reading = func.websearch_to_tsquery(config, bindparam("query"))
    readings = (
        select(reading.label("tsquery"), func.array_agg(config).label("configs"))
        .where(_PG_TS_CONFIG.c.cfgname.in_(_PG_CONFIGS))
        .group_by(reading)
        .cte("readings")
    )
    vector = literal_column(f"items.{PG_VECTOR_COLUMN}")
    weights = literal_column(f"'{PG_WEIGHTS}'::float4[]")
    item_config = getattr(func, PG_CONFIG_FUNCTION)(Item.language)
    matches = select(Item.id.label("id"), vector.label("vector")).where(
        vector.op("@@")(readings.c.tsquery),
        item_config == any_(readings.c.configs),
    )
    if since:
        matches = matches.where(Item.first_seen_at >= bindparam("since"))
    # The newest RANKED_MATCHES of the matches are ranked. "+ 0" keeps the planner from
    # walking the primary key backwards in search of them, which for a rare word would
    # read the whole table: the index on the vector finds the matches, always.
    newest = matches.order_by((Item.id + 0).desc()).limit(bindparam("ranked"))
    lateral = newest.lateral("matches")
    score = func.ts_rank(weights, lateral.c.vector, readings.c.tsquery, PG_NORMALISATION)
    return (
        select(lateral.c.id, score.label("score"))
        .select_from(readings.join(lateral, true()))
        .where(func.numnode(readings.c.tsquery) > 0)
        .order_by(score.desc(), lateral.c.id.desc())
        .limit(bindparam("limit"))
        .subquery("hits")
    )


def _statement(hits: Subquery) -> Select[Any]:
    """The best ids and their scores joined to what a hit shows: one round trip."""
    return (
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
            hits.c.score,
        )
        .join(hits, hits.c.id == Item.id)
        .join(Source, Item.source_id == Source.id)
        .outerjoin(Summary, Summary.item_id == Item.id)
        .order_by(hits.c.score.desc(), Item.id.desc())
    )


@cache
def _search_statement(postgres: bool, since: bool) -> Select[Any]:
    """Built once per dialect and by whether a date bounds the search, at the first
    search: opening the database does not pay for it (nor import PostgreSQL's dialect
    for a SQLite file)."""
    return _statement(_postgres_hits(since) if postgres else _sqlite_hits(since))


def _hit(row: Row[Any]) -> SearchHit:
    # The statement lists SearchHit's fields in order, the summary's sentences and score.
    *fields, sentences, score = row
    return SearchHit(*fields, summary=tuple(sentences or ()), score=float(score))
