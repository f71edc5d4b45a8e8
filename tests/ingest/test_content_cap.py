"""The content cap (ingest.records.MAX_CONTENT_CHARS) holds whichever way an article comes.

A full-text page is covered end to end in tests/feedbrief/test_feeds.py.
"""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from ingest.parse import parse_feed
from ingest.records import MAX_CONTENT_CHARS, Article
from ingest.seeds import load_seed

FIRST = "The council approved the new budget on Tuesday after a long debate."
SECOND = "It takes effect in April, and the opposition said it would appeal."
END = "This paragraph comes after more than a million characters."


def _long_text(separator: str) -> str:
    # Two paragraphs repeated past the cap (the cleaner drops the repeats), then an end.
    repeats = MAX_CONTENT_CHARS // (len(FIRST) + len(SECOND)) + 100
    return separator.join([FIRST, SECOND] * repeats + [END])


def test_an_article_never_holds_more_than_the_cap() -> None:
    article = Article(guid="g", title="T", text="word " * MAX_CONTENT_CHARS)
    assert len(article.text) <= MAX_CONTENT_CHARS
    assert article.text.endswith("word")


def test_a_feed_entry_is_cut_before_cleaning() -> None:
    content = _long_text("</p><p>")
    feed = (
        '<rss version="2.0"><channel><title>T</title><item><guid>g</guid><title>Budget</title>'
        f"<description><![CDATA[<p>{content}</p>]]></description></item></channel></rss>"
    ).encode()
    with capture_logs() as logs:
        [entry] = parse_feed(feed, url="https://x.example/", headers={}).entries
    assert entry.text.startswith(FIRST)
    assert END not in entry.text
    assert [log["kept"] for log in logs if log["event"] == "entry.content_truncated"] == [
        MAX_CONTENT_CHARS
    ]


def test_a_text_seed_is_cut_before_cleaning(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("Budget\n\n" + _long_text("\n\n"), encoding="utf-8")
    with capture_logs() as logs:
        [article] = load_seed(tmp_path / "long.txt", tmp_path).articles
    assert article.text.startswith(FIRST)
    assert END not in article.text
    [cut] = [log for log in logs if log["event"] == "entry.content_truncated"]
    assert cut["seed"] == "long.txt"
