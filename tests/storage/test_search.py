"""Full-text search on both databases: ranking, the search box syntax, the date filter,
and the index following every write (updates, pruning, migration of existing items)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

import storage.search
import storage.search_path
from storage import ItemData, Storage, SummaryData
from storage.fulltext import fts5_query, fts5_ranking_query, parse_query, websearch_query
from tests.conftest import at_revision

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
SUMMARY = SummaryData(algorithm="default", sentences=("A summary.",))


def item(guid: str, title: str, body: str, language: str | None = "en") -> ItemData:
    return ItemData(
        guid=guid,
        title=title,
        text=body,
        content_hash=hashlib.sha256(f"{title}|{body}".encode()).hexdigest(),
        language=language,
    )


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    storage = Storage.open(database_url)
    yield storage
    storage.close()


def add(store: Storage, *items: ItemData, when: datetime = T0) -> int:
    source = store.ensure_source("seed", "seed:news.jsonl", "News", T0)
    store.save_items(source, [(data, SUMMARY) for data in items], now=when)
    return source


def titles(store: Storage, query: str, **options: object) -> list[str]:
    return [hit.title for hit in store.search(query, **options)]  # type: ignore[arg-type]


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_text(store: Storage) -> None:
    add(
        store,
        item("a", "Budget talks resume", "The harbour reopened after the storm."),
        item("b", "Harbour reopens", "Budget talks resume in the capital today."),
        item("c", "Weather", "Nothing about it at all."),
    )
    assert titles(store, "harbour") == ["Harbour reopens", "Budget talks resume"]
    assert titles(store, "budget") == ["Budget talks resume", "Harbour reopens"]


def test_hits_carry_source_summary_and_a_higher_score_first(store: Storage) -> None:
    add(store, item("a", "Harbour reopens", "Ships return."), item("b", "Ships", "The harbour."))
    first, second = store.search("harbour")
    assert (first.source, first.source_title, first.summary) == (
        "seed:news.jsonl",
        "News",
        ("A summary.",),
    )
    assert first.first_seen_at == T0
    assert first.score > second.score


def test_quotes_ask_for_a_phrase(store: Storage) -> None:
    add(
        store,
        item("a", "One", "The central bank raised rates."),
        item("b", "Two", "The bank in the central square raised a flag."),
    )
    assert titles(store, '"central bank"') == ["One"]
    assert sorted(titles(store, "central bank")) == ["One", "Two"]


def test_minus_excludes_a_word_and_a_phrase(store: Storage) -> None:
    add(
        store,
        item("a", "Football final", "The cup final went to penalties."),
        item("b", "Rugby final", "The final was won by a late try."),
    )
    assert titles(store, "final -penalties") == ["Rugby final"]
    assert titles(store, 'final -"late try"') == ["Football final"]


def test_or_lets_either_word_match(store: Storage) -> None:
    add(
        store,
        item("a", "Volcano erupts", "Lava reached the coast."),
        item("b", "Glacier melts", "Ice retreats."),
        item("c", "Markets calm", "Shares flat."),
    )
    assert sorted(titles(store, "volcano OR glacier")) == ["Glacier melts", "Volcano erupts"]
    assert titles(store, "volcano glacier") == []


NOTHING_TO_FIND = ["", "   ", "!!!", '"', '""', "-", "- -", "(*)", "OR", "-volcano", "\x00"]


@pytest.mark.parametrize("query", NOTHING_TO_FIND)
def test_a_query_with_nothing_to_find_returns_nothing(store: Storage, query: str) -> None:
    add(store, item("a", "Volcano erupts", 'Lava! (*) OR "quoted"'))
    assert store.search(query) == []


def test_syntax_characters_are_only_text(store: Storage) -> None:
    add(store, item("a", "C++ and C# compared", "NEAR(a b) title:x col* ^start"))
    assert titles(store, "NEAR(a b)") == ["C++ and C# compared"]
    assert titles(store, "title:x") == ["C++ and C# compared"]
    assert titles(store, "^start col*") == ["C++ and C# compared"]
    assert titles(store, "C++ NEAR(z)") == []  # z is a word like any other, and absent


HOSTILE_QUERIES = [
    "a & b | !c",
    "harbour:*",
    "'harbour'",
    "harbour <-> news",
    "(harbour | news)",
    "\\",
    "a'b",
    'NEAR("a" "b", 2)',
    "harbour*",
    "{harbour}",
    "🙂 harbour",
    "lone \ud800 surrogate harbour",
    "harbour " * 2000,
    '-"" OR -',
    'x" OR "y',
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_nothing_typed_is_an_error_on_either_database(store: Storage, query: str) -> None:
    add(store, item("a", "Harbour news", "The harbour reopened."))
    store.search(query)


def test_since_keeps_items_first_seen_on_or_after_it(store: Storage) -> None:
    add(store, item("old", "Old harbour news", "x"), when=T0 - timedelta(days=3))
    add(store, item("new", "New harbour news", "x"), when=T0)
    assert titles(store, "harbour", since=T0) == ["New harbour news"]
    assert len(store.search("harbour", since=T0 - timedelta(days=7))) == 2


def test_a_word_most_items_hold_still_must_match(store: Storage) -> None:
    # "storm" is in more than half of the items: SQLite leaves it out of the ranking
    # (BM25 weighs it at nothing), not out of the match.
    add(
        store,
        item("a", "Harbour reopens", "The storm passed and the harbour reopened."),
        item("b", "Storm", "The harbour after the storm."),
        item("c", "Quay", "Storm at the quay."),
        item("d", "Weather", "The storm."),
        item("e", "Harbour news", "Quiet."),
        item("f", "Markets", "Shares rose."),
        item("g", "Sport", "A match."),
    )
    found = titles(store, "harbour storm")
    assert sorted(found) == ["Harbour reopens", "Storm"]
    if store.dialect == "sqlite":
        assert found == [title for title in titles(store, "harbour") if title != "Harbour news"]


def test_limit_keeps_the_best(store: Storage) -> None:
    add(store, *(item(f"g{n}", f"Harbour {n}", "harbour " * n) for n in range(1, 8)))
    assert len(store.search("harbour", limit=3)) == 3
    assert store.search("harbour", limit=0) == []


def test_past_the_ranking_cap_the_newest_matches_are_ranked(
    store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.search, "RANKED_MATCHES", 2)
    add(store, item("old", "Harbour", "The best match, and the oldest."))
    add(store, *(item(f"g{n}", f"Item {n}", f"harbour news {n}") for n in range(3)))
    assert titles(store, "harbour") == ["Item 2", "Item 1"]
    monkeypatch.setattr(storage.search, "RANKED_MATCHES", 10)
    assert titles(store, "harbour")[0] == "Harbour"


@pytest.mark.parametrize(
    "query", ["harbour", "harbour -weather", '"harbour news"', "harbour OR rain"]
)
def test_postgres_walking_the_newest_items_finds_what_the_index_finds(
    store: Storage, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("only PostgreSQL chooses between its index and walking the items")
    add(store, item("old", "Harbour", "The best match, and the oldest."))
    add(store, *(item(f"g{n}", f"Item {n}", f"harbour news {n}") for n in range(4)))
    add(store, item("rain", "Weather", "Rain all day, harbour closed."))
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE item_search"))
    monkeypatch.setattr(storage.search, "RANKED_MATCHES", 2)
    through_index = titles(store, query)
    # Index matches made dear: every reading of the query walks the items.
    monkeypatch.setattr(storage.search_path, "INDEX_MATCH_COST", 1e9)
    with store.engine.connect() as connection:
        rewritten = websearch_query(query) or ""
        paths = storage.search._pg_search_paths(connection, rewritten, walk=True)
    assert paths["walks"] and all(paths["walks"])
    assert titles(store, query) == through_index
    assert len(through_index) == 2


def test_an_updated_item_is_found_by_its_new_words_only(store: Storage) -> None:
    add(store, item("a", "Harbour reopens", "Ships return."))
    add(store, item("a", "Airport reopens", "Planes return."), when=T0 + timedelta(hours=1))
    assert titles(store, "airport") == ["Airport reopens"]
    assert store.search("harbour") == []


def test_pruned_items_leave_the_index(store: Storage) -> None:
    add(store, item("old", "Harbour reopens", "Ships."), when=T0 - timedelta(days=40))
    add(store, item("new", "Harbour closes", "Storm."), when=T0)
    assert store.prune(T0 - timedelta(days=30), T0) == 1
    assert titles(store, "harbour") == ["Harbour closes"]
    # The index holds nothing of the pruned item either (not only filtered out by a join).
    assert _indexed_rows(store) == 1


def _indexed_rows(store: Storage) -> int:
    with store.engine.connect() as connection:
        if store.dialect == "postgresql":
            query = "SELECT count(*) FROM item_search WHERE vector @@ 'harbour'::tsquery"
        else:
            # An external-content table reads rows from items; its own index is in _idx
            # and _docsize, one docsize row per indexed item.
            query = "SELECT count(*) FROM items_fts_docsize"
        return int(connection.execute(text(query)).scalar_one())


@pytest.mark.postgres
def test_items_loaded_in_bulk_are_indexed_too(store: Storage) -> None:
    if store.dialect != "postgresql":
        pytest.skip("only PostgreSQL has a replica mode that skips triggers")
    source = store.ensure_source("seed", "seed:news.jsonl", "News", T0)
    with store.engine.begin() as connection:
        # What a bulk load (and the scale benchmark's fill) does to skip checks.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(
            text(
                "INSERT INTO items (source_id, guid, title, first_seen_at, updated_at, text, "
                "content_hash, version, language) VALUES (:source, 'bulk', 'Harbour reopens', "
                "now(), now(), 'Ships return.', 'h', 1, 'en')"
            ),
            {"source": source},
        )
    assert titles(store, "ships") == ["Harbour reopens"]


def test_migration_indexes_the_items_stored_before_it(database_url: str) -> None:
    with at_revision(database_url, "0005") as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, kind, url, added_at, error_count, full_text, weight) "
                "VALUES (1, 'seed', 'seed:a.txt', '2026-11-25 09:00:00', 0, false, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO items (id, source_id, guid, title, first_seen_at, updated_at, "
                "text, content_hash, version, language) VALUES (1, 1, 'g', 'Harbour reopens', "
                "'2026-11-25 09:00:00', '2026-11-25 09:00:00', 'Ships return.', 'h', 1, 'en')"
            )
        )
    storage = Storage.open(database_url)  # upgrades to the newest revision
    try:
        assert titles(storage, "harbour") == ["Harbour reopens"]
        assert titles(storage, "ships") == ["Harbour reopens"]
    finally:
        storage.close()


def test_words_are_found_through_their_stems(store: Storage) -> None:
    add(store, item("a", "Elections held", "Voters queued."))
    assert titles(store, "election") == ["Elections held"]


@pytest.mark.postgres
def test_postgres_stems_each_item_in_its_own_language(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL stems by the item's language")
    storage = Storage.open(database_url)
    try:
        add(
            storage,
            item("de", "Die Häuser brennen", "Feuerwehr im Einsatz.", language="de-DE"),
            item("xx", "Häuser", "Unknown language, simple configuration.", language="xx"),
            item("en", "Houses burning", "Firefighters at work.", language="en_GB"),
        )
        # German stems "Häuser" and "Haus" alike for the German item only.
        assert titles(storage, "Haus") == ["Die Häuser brennen"]
        assert titles(storage, "burn") == ["Houses burning"]
        assert sorted(titles(storage, "Häuser")) == ["Die Häuser brennen", "Häuser"]
    finally:
        storage.close()


# The translator, as a pure function.


def test_the_query_is_read_as_a_search_box_reads_it() -> None:
    assert fts5_query('storm "central bank" -rates OR volcano') == (
        '(("storm" AND "central bank") NOT "rates") OR ("volcano")'
    )
    assert fts5_query('say "hi') == '("say" AND "hi")'  # an unclosed quote runs to the end
    assert fts5_query('he said ""no""') == '("he" AND "said" AND "no")'
    assert fts5_query("or OR Or") is None
    assert fts5_query("-x -y") is None
    assert websearch_query('storm "central bank" -rates OR volcano') == (
        '"storm" "central bank" -"rates" or "volcano"'
    )


def test_ranking_leaves_out_common_words_and_exclusions_only() -> None:
    def common(word: str) -> bool:
        return word in {"to", "the"}

    assert fts5_ranking_query("Capriati to miss Melbourne", common) == (
        '("Capriati" AND "miss" AND "Melbourne")'
    )
    assert fts5_ranking_query('storm -rates -"the bank"', common) == '("storm")'
    assert fts5_ranking_query('"to the" harbour', common) is None  # a phrase is weighed
    assert fts5_ranking_query("the harbour OR to", common) is None
    assert fts5_ranking_query("harbour ships", common) is None
    assert fts5_ranking_query("to the -x", common) == '("to" AND "the")'


@given(st.text())
def test_any_input_becomes_a_query_fts5_accepts_or_none(query: str) -> None:
    expression = fts5_query(query)
    assert (expression is None) == (not parse_query(query))
    if expression is not None:
        with sqlite3.connect(":memory:") as connection:
            connection.execute(
                "CREATE VIRTUAL TABLE t USING fts5(a, b, "
                "tokenize='porter unicode61 remove_diacritics 2')"
            )
            connection.execute("INSERT INTO t VALUES ('some words', 'more words')")
            connection.execute("SELECT * FROM t WHERE t MATCH ?", (expression,)).fetchall()


@given(st.text(alphabet=st.sampled_from(list('ab "-()*:^+OR\x00\ud800.'))))
def test_syntax_heavy_input_never_raises(query: str) -> None:
    expression = fts5_query(query)
    websearch_query(query)
    if expression is not None:
        with sqlite3.connect(":memory:") as connection:
            connection.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
            connection.execute("SELECT * FROM t WHERE t MATCH ?", (expression,)).fetchall()
