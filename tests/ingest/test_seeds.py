from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.parse import parse_feed
from ingest.seeds import SeedError, UnsupportedSeed, find_seeds, load_seed
from tests.conftest import SEED

BODY = "The council approved the new budget on Tuesday.\n\nIt takes effect in April."


def seed(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_text_seed_has_title_line_then_paragraphs(tmp_path: Path) -> None:
    document = load_seed(seed(tmp_path, "a.txt", f"Budget passes\n\n{BODY}\n"), tmp_path)
    [article] = document.articles
    assert article.title == "Budget passes"
    assert article.paragraphs == BODY.split("\n\n")
    assert document.source_url == "seed:a.txt"
    assert article.guid == "a.txt"


def test_markdown_title_loses_its_heading_marks(tmp_path: Path) -> None:
    document = load_seed(seed(tmp_path, "sub/b.md", f"# Budget passes\n\n{BODY}"), tmp_path)
    assert document.articles[0].title == "Budget passes"
    assert document.name == "sub/b.md"


def test_html_seed_is_extracted(tmp_path: Path) -> None:
    paragraphs = "".join(
        f"<p>{sentence} This paragraph carries enough words to count as article text.</p>"
        for sentence in (
            "The council approved the budget.",
            "It takes effect in April.",
            "Opposition members walked out.",
        )
    )
    page = (
        "<html><head><title>Budget passes | Gazette</title>"
        '<meta property="article:published_time" content="2026-11-20T10:00:00Z"></head>'
        "<body><nav>Home | World | Sport</nav><script>alert(1)</script>"
        f"<article><h1>Budget passes</h1>{paragraphs}</article>"
        "<footer>Copyright Gazette</footer></body></html>"
    )
    [article] = load_seed(seed(tmp_path, "c.html", page), tmp_path).articles
    assert "Budget passes" in article.title
    assert "The council approved the budget." in article.text
    assert "alert(1)" not in article.text
    assert "Copyright Gazette" not in article.text


def test_jsonl_seed_yields_one_article_per_line_with_stable_ids(tmp_path: Path) -> None:
    lines = [
        {"id": "x1", "title": "One", "text": BODY, "published": "2026-11-20T10:00:00+01:00"},
        {"url": "https://example.com/two", "title": "Two", "html": "<p>Second story text.</p>"},
        {"title": "Three", "text": "Third story text."},
    ]
    path = seed(tmp_path, "batch.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    articles = load_seed(path, tmp_path).articles
    assert [a.guid for a in articles] == [
        "batch.jsonl#x1",
        "batch.jsonl#https://example.com/two",
        "batch.jsonl#2",
    ]
    assert articles[0].published == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert articles[1].url == "https://example.com/two"
    assert articles[1].text == "Second story text."


def test_json_seed_may_be_one_object_or_a_list(tmp_path: Path) -> None:
    one = seed(tmp_path, "one.json", json.dumps({"title": "One", "text": BODY}))
    many = seed(
        tmp_path,
        "many.json",
        json.dumps([{"title": "A", "text": "a."}, {"title": "B", "text": "b."}]),
    )
    assert len(load_seed(one, tmp_path).articles) == 1
    assert len(load_seed(many, tmp_path).articles) == 2


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", "", "file is empty"),
        ("blank.txt", "  \n\n ", "file is empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        ("latin1.txt", "Caf\xe9 society\n\nIt opened.".encode("latin-1"), "not valid UTF-8"),
        ("broken.json", '{"title": "x", "text": ', "invalid JSON"),
        ("list.jsonl", '["not", "an", "object"]\n', "expected a JSON object"),
        ("notext.jsonl", '{"title": "x"}\n', "needs a non-empty 'text' or 'html'"),
        ("date.jsonl", '{"text": "x.", "published": "yesterday"}\n', "not a usable date"),
        ("dupe.jsonl", '{"id": 1, "text": "a."}\n{"id": 1, "text": "b."}\n', "duplicate id"),
    ],
)
def test_bad_seed_files_raise_a_clear_error(
    tmp_path: Path, name: str, content: str | bytes, reason: str
) -> None:
    with pytest.raises(SeedError, match=reason):
        load_seed(seed(tmp_path, name, content), tmp_path)


def test_unreadable_seed_is_an_error(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "missing.txt")
    with pytest.raises(SeedError, match="cannot read file"):
        load_seed(link, tmp_path)


def test_other_formats_are_unsupported_not_errors(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedSeed, match=r"'\.pdf'"):
        load_seed(seed(tmp_path, "paper.pdf", b"%PDF-1.4"), tmp_path)


def test_find_seeds_is_sorted_recursive_and_skips_hidden_files(tmp_path: Path) -> None:
    for name in ("b.txt", "a/c.md", ".hidden.txt", ".git/x.txt"):
        seed(tmp_path, name, "t\n\nx")
    assert [p.relative_to(tmp_path).as_posix() for p in find_seeds(tmp_path)] == ["a/c.md", "b.txt"]


def test_the_product_seed_loads_as_one_clean_article() -> None:
    [article] = load_seed(SEED, SEED.parent).articles
    assert article.title.startswith("Prospect of UK troops being deployed to Ukraine")
    assert "¿" not in article.text
    assert "You May Also Like" not in article.text


def test_untitled_seed_gets_the_title_an_untitled_feed_entry_gets(tmp_path: Path) -> None:
    first = " ".join(["harbour"] * 40)
    document = json.dumps({"text": f"{first}\n\nThe tram reaches it in spring."})
    [article] = load_seed(seed(tmp_path, "d.json", document), tmp_path).articles
    feed = parse_feed(
        f'<rss version="2.0"><channel><title>T</title><item><description>{first}'
        "</description></item></channel></rss>".encode(),
        url="https://x.example/",
        headers={},
    )
    assert article.title == feed.entries[0].title
    assert article.title.endswith("…") and len(article.title) <= 121
    assert article.title[:-1].split(" ") == ["harbour"] * len(article.title[:-1].split(" "))
