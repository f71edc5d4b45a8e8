"""Search: stored items whose title or text match a search box query, best first.

What a query means is decided in ``storage.fulltext``; this module asks the database.
SQLite ranks with FTS5's BM25, PostgreSQL with ``ts_rank``; on both a word in the title
counts for more than the same word in the text. The index is kept in step by the
database itself (triggers on both; migration 0007), so every write path, pruning and
deleting included, updates it.
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
    text,
    true,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from storage.fulltext import (
    FTS5_TABLE,
    FTS5_VOCAB_TABLE,
    PG_FALLBACK_CONFIG,
    PG_SEARCH_TABLE,
    PG_TEXT_CONFIGS,
    fts5_query,
    fts5_ranking_query,
    websearch_query,
)
from storage.models import Item, Source, Summary
from storage.records import SearchHit
from storage.search_path import query_shares, walks_newest_first

# BM25 weights of the FTS5 columns (title, text): a word in the title counts as much as
# it would ten times over in the text.
FTS5_WEIGHTS = (10.0, 1.0)
# A query matching more items than this ranks the newest this many of them: ranking
# reads every candidate's statistics (PostgreSQL its whole vector), and a common word
# matches a fifth of all items. The newest are what a reader of news most likely wants;
# a word or two more narrows the matches to fewer than this, and then all are ranked.
RANKED_MATCHES = 1_000
# Words whose number of items is kept (about 100 bytes each) before starting over.
WORD_COUNTS_KEPT = 10_000
# ts_rank's weights of the vector's D, C, B and A labels; the title is A, the text B.
PG_WEIGHTS = "{0.1, 0.2, 0.2, 1.0}"
# ts_rank normalisation 1: divide by 1 + log(length), so a long text does not outrank a
# short one by repeating a word.
PG_NORMALISATION = 1
# Configurations a query may be read in: an item's language picks one (the database
# function of migration 0007), and the query is stemmed as the items it is matched with.
_PG_CONFIGS = sorted({*PG_TEXT_CONFIGS.values(), PG_FALLBACK_CONFIG})
_PG_SEARCH = table(PG_SEARCH_TABLE, column("item_id"), column("config"), column("vector"))


class SearchMixin:
    """The search part of ``Storage``."""

    # Set up by Storage.__init__.
    dialect: str
    _reader: sessionmaker[Session]
    _word_counts: dict[str, int]

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
        values = {"query": rewritten, "limit": limit, "ranked": RANKED_MATCHES, "since": since}
        with self._reader() as session:
            connection = session.connection()
            if postgres:
                statement = _search_statement("postgres", since is not None)
                values.update(_pg_search_paths(connection, rewritten, walk=since is None))
            else:
                items = connection.execute(select(func.max(Item.id))).scalar() or 0
                ranking = fts5_ranking_query(
                    query, lambda word: self._items_holding(connection, word) * 2 >= items
                )
                kind = "sqlite" if ranking is None else "sqlite_ranked_apart"
                statement = _search_statement(kind, since is not None)
                values["ranking"] = ranking
            return [_hit(row) for row in connection.execute(statement, values)]

    def _items_holding(self, connection: Connection, word: str) -> int:
        """How many items hold *word* (an FTS5 index term), as first counted. Counting
        reads the word's posting list, as BM25 does, and a word common enough to matter
        stays as common, so the count is kept for the life of this ``Storage``. The
        greatest item id stands for the number of items: never fewer."""
        count = self._word_counts.get(word)
        if count is None:
            if len(self._word_counts) >= WORD_COUNTS_KEPT:
                self._word_counts.clear()
            found = connection.execute(_FTS5_WORD_COUNT, {"word": word}).scalar()
            count = self._word_counts[word] = int(found or 0)
        return count


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


def _sqlite_hits_ranked_apart(since: bool) -> Subquery:
    """The newest RANKED_MATCHES matches of the query, ranked by the words of it that
    rank (``fts5_ranking_query``): a match of the query is a match of those words."""
    fts = literal_column(FTS5_TABLE)
    rowid = literal_column(f"{FTS5_TABLE}.rowid")
    source = table(FTS5_TABLE)
    newest = select(rowid.label("id")).where(fts.op("MATCH")(bindparam("query")))
    if since:
        newest = newest.select_from(source.join(Item, Item.id == rowid))
        newest = newest.where(Item.first_seen_at >= bindparam("since"))
    else:
        newest = newest.select_from(source)
    newest_cte = newest.order_by(rowid.desc()).limit(bindparam("ranked")).cte("newest")
    score = (-func.bm25(fts, *FTS5_WEIGHTS)).label("score")
    # The bound lets FTS5 skip the older matches of the ranking words; "+" keeps SQLite
    # from handing FTS5 the newest ids one at a time, each a query of its own, and has it
    # check each match of the ranking words against them instead.
    oldest = select(func.min(newest_cte.c.id)).scalar_subquery()
    hits = (
        select(rowid.label("id"), score)
        .select_from(source)
        .where(
            fts.op("MATCH")(bindparam("ranking")),
            rowid >= oldest,
            literal_column(f"+{FTS5_TABLE}.rowid").in_(select(newest_cte.c.id)),
        )
    )
    return hits.order_by(score.desc(), rowid.desc()).limit(bindparam("limit")).subquery("hits")


def _pg_search_paths(connection: Connection, query: str, *, walk: bool) -> dict[str, Any]:
    """How each reading of *query* finds its newest matches (``storage.search_path``),
    as the values the search statement takes: the readings' texts, their
    configurations and, for each, whether the items are walked newest first. Bounded
    by a date, the search always goes through the index: the walk would pass every item
    older than the date."""
    rows = connection.execute(_PG_READINGS, {"query": query, "configs": _PG_CONFIGS}).all()
    walks = [False] * len(rows)
    if walk and rows:
        items, rarest, shares = rows[0].items or 0, rows[0].rarest, dict(rows[0].shares or {})
        # A word the statistics leave out is rarer than the rarest they keep.
        unknown = (rarest or 0.0) / 2
        walks = [
            walks_newest_first(query_shares(row.reading, shares, unknown), items, RANKED_MATCHES)
            for row in rows
        ]
    return {
        "readings": [row.reading for row in rows],
        "configs": [",".join(row.configs) for row in rows],
        "walks": walks,
    }


def _postgres_hits(since: bool) -> Subquery:
    """The newest RANKED_MATCHES matches of each reading, found one of two ways (chosen
    by ``_pg_search_paths``: the other is skipped before it runs), then ranked."""
    from sqlalchemy.dialects.postgresql import ARRAY, BOOLEAN, REGCONFIG, TEXT, TSQUERY

    paths = (
        func.unnest(
            cast(bindparam("readings"), ARRAY(TEXT)),
            cast(bindparam("configs"), ARRAY(TEXT)),
            cast(bindparam("walks"), ARRAY(BOOLEAN)),
        )
        .table_valued("reading", "configs", "walk")
        .render_derived(name="paths")
    )
    chosen = select(
        cast(paths.c.reading, TSQUERY).label("tsquery"),
        cast(func.string_to_array(paths.c.configs, ","), ARRAY(REGCONFIG)).label("configs"),
        paths.c.walk,
    )
    # Materialised, the query and the configurations are cast once, not for every row
    # matched and ranked (a cast to regconfig looks each name up).
    chosen = chosen.cte("chosen").prefix_with("MATERIALIZED")
    weights = literal_column(f"'{PG_WEIGHTS}'::float4[]")
    indexed = _PG_SEARCH.c
    in_config = indexed.config == any_(chosen.c.configs)
    found = select(indexed.item_id.label("id"), indexed.vector.label("vector")).correlate(chosen)
    # Through the index: every match, the newest kept. "+ 0" keeps the planner from
    # walking the primary key backwards instead, which for a rare word would read the
    # whole table.
    matches = found.where(indexed.vector.op("@@")(chosen.c.tsquery), in_config, ~chosen.c.walk)
    if since:
        matches = matches.join(Item, Item.id == indexed.item_id)
        matches = matches.where(Item.first_seen_at >= bindparam("since"))
    by_index = matches.order_by((indexed.item_id + 0).desc()).limit(bindparam("ranked"))
    # Walking newest first, each item's vector tested: ts_match_vq is @@ as a function,
    # which the GIN index cannot serve, so the planner walks the primary key.
    walked = (
        found.where(func.ts_match_vq(indexed.vector, chosen.c.tsquery), in_config, chosen.c.walk)
        .order_by(indexed.item_id.desc())
        .limit(bindparam("ranked"))
    )
    either = by_index.subquery("by_index").select().union_all(walked.subquery("walked").select())
    lateral = either.subquery().lateral("matches")
    score = func.ts_rank(weights, lateral.c.vector, chosen.c.tsquery, PG_NORMALISATION)
    return (
        select(lateral.c.id, score.label("score"))
        .select_from(chosen.join(lateral, true()))
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
def _search_statement(kind: str, since: bool) -> Select[Any]:
    """Built once per kind (``postgres``, ``sqlite``, ``sqlite_ranked_apart``) and by
    whether a date bounds the search, at the first search: opening the database does not
    pay for it (nor import PostgreSQL's dialect for a SQLite file)."""
    hits = {
        "postgres": _postgres_hits,
        "sqlite": _sqlite_hits,
        "sqlite_ranked_apart": _sqlite_hits_ranked_apart,
    }[kind]
    return _statement(hits(since))


_FTS5_WORD_COUNT = (
    select(literal_column("doc"))
    .select_from(table(FTS5_VOCAB_TABLE))
    .where(literal_column("term") == bindparam("word"))
)


# Each configuration reads the query (stems, stop words) its own way, and an item
# matches the reading of its own language's configuration. Configurations that read it
# alike share one search; a configuration no item has is left out (the index on config
# answers that), and so is a reading left empty (only stop words). With the readings
# comes what chooses how each is searched: the greatest item id for the item count,
# and from the statistics ANALYZE keeps of the vectors (the words it found commonest,
# up to ten times the statistics target) the share of items holding each word of the
# readings and the rarest such share (the array's third last value).
_PG_READINGS = text(f"""
WITH readings AS (
  SELECT * FROM (
    SELECT websearch_to_tsquery(c.oid::regconfig, :query) AS tsquery,
      array_agg(c.oid::regconfig)::text[] AS configs
    FROM pg_ts_config AS c
    WHERE c.cfgname = ANY(:configs)
      AND EXISTS (SELECT FROM {PG_SEARCH_TABLE} AS s WHERE s.config = c.oid::regconfig)
    GROUP BY 1
  ) AS grouped
  WHERE numnode(tsquery) > 0
), stats AS (
  SELECT most_common_elems, most_common_elem_freqs FROM pg_stats
  WHERE schemaname = current_schema() AND tablename = '{PG_SEARCH_TABLE}' AND attname = 'vector'
), words AS (
  SELECT (regexp_matches(tsquery::text, '''((?:[^'']|'''')+)''', 'g'))[1] AS word
  FROM readings
)
SELECT r.tsquery::text AS reading, r.configs,
  (SELECT max(item_id) FROM {PG_SEARCH_TABLE}) AS items,
  (SELECT most_common_elem_freqs[cardinality(most_common_elem_freqs) - 2] FROM stats) AS rarest,
  (SELECT json_object_agg(s.word, s.share) FROM stats,
     unnest(most_common_elems::text::text[], most_common_elem_freqs) AS s (word, share)
   WHERE s.word IN (SELECT word FROM words)) AS shares
FROM readings AS r
""")


def _hit(row: Row[Any]) -> SearchHit:
    # The statement lists SearchHit's fields in order, the summary's sentences and score.
    *fields, sentences, score = row
    return SearchHit(*fields, summary=tuple(sentences or ()), score=float(score))
