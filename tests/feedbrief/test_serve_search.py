"""``serve``'s search over a real socket and a real database: results, escaping, and
the digest's Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from digest.render_html import CONTENT_SECURITY_POLICY
from storage import ItemData, SummaryData
from tests.feedbrief.test_serve import Running, serving

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
HOSTILE_TITLE = 'Harbour <script>alert("t")</script> & "quotes"'


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[Running]:
    yield from serving(tmp_path, database_url)


@pytest.fixture
def client(site: Running) -> Iterator[httpx.Client]:
    source = site.storage.ensure_source("seed", "seed:<b>news</b>.jsonl", "<i>News</i>", T0)
    items = [
        (
            ItemData(
                guid="a",
                title="Harbour bridge reopens",
                text="The harbour bridge reopened on Thursday.",
                content_hash="a" * 64,
                url="https://news.example/bridge?a=1&b=2",
                published_at=datetime(2026, 11, 24, 18, 0, tzinfo=UTC),
            ),
            SummaryData("default", ("The bridge reopened.",)),
        ),
        (
            ItemData(
                guid="b",
                title=HOSTILE_TITLE,
                text="A harbour story with a hostile link.",
                content_hash="b" * 64,
                url="javascript:alert(1)",
            ),
            SummaryData("default", ("<img src=x onerror=alert(2)>",)),
        ),
    ]
    site.storage.save_items(source, items, now=T0)
    with httpx.Client(base_url=site.url, timeout=10) as http:
        yield http


def test_results_show_title_source_date_summary_and_link(client: httpx.Client) -> None:
    response = client.get("/search", params={"q": "bridge"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<a href="https://news.example/bridge?a=1&amp;b=2"' in page
    assert ">Harbour bridge reopens</a>" in page
    assert "&lt;i&gt;News&lt;/i&gt;" in page
    assert '<time datetime="2026-11-24T18:00:00+00:00">2026-11-24</time>' in page
    assert "The bridge reopened." in page
    assert "1 result for “bridge”" in page


def test_everything_shown_is_escaped_and_only_http_links_are_links(client: httpx.Client) -> None:
    page = client.get("/search", params={"q": "harbour"}).text
    assert "2 results" in page
    assert "<script>" not in page and "<img" not in page
    assert html.escape(HOSTILE_TITLE) in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "javascript:" not in page


def test_the_query_is_echoed_escaped_in_the_box(client: httpx.Client) -> None:
    query = '"><script>alert(3)</script>'
    page = client.get("/search", params={"q": query}).text
    assert "<script>" not in page
    assert f'value="{html.escape(query)}"' in page


@pytest.mark.parametrize("query", ["!!!", "", "-harbour", '"'])
def test_a_query_with_nothing_to_find_is_a_page_not_an_error(
    client: httpx.Client, query: str
) -> None:
    response = client.get("/search", params={"q": query})
    assert response.status_code == 200
    assert '<article class="story"' not in response.text


def test_search_page_and_index_carry_the_digest_policy_and_a_search_box(
    client: httpx.Client,
) -> None:
    for path in ("/search?q=harbour", "/"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert '<form class="search" role="search" action="/search" method="get">' in response.text
        [style] = re.findall(r"<style>(.*?)</style>", response.text, flags=re.S)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    page = client.get("/search?q=harbour").text
    [declared] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert html.unescape(declared) == CONTENT_SECURITY_POLICY
    # The box submits to this site; the policy lets it, and no other site.
    assert "form-action 'self'" in CONTENT_SECURITY_POLICY
