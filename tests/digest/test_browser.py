"""The HTML digest built from hostile stories, opened in a real headless Chromium.

The payloads (see ``test_safe_html``) would set ``document.title`` and add a ``<pwned>``
element if any of them ran. Chromium's ``--dump-dom`` prints the DOM after scripts have
had their (virtual) time, so an unchanged title and no marker mean nothing ran.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import lxml.html
import pytest

from digest.display import plain
from digest.render_html import STYLESHEET, render_full_list, render_html
from tests.digest.test_safe_html import MARKER_TAG, PAYLOADS, payload_digest, payload_front_page

CHROMIUM = Path("/usr/bin/chromium")
OUR_TITLE = "feedbrief digest 2026-11-25"


def open_in_chromium(html: str, tmp_path: Path) -> tuple[lxml.html.HtmlElement, Path]:
    """Load ``html`` from a file; return the DOM after scripts ran, and a screenshot."""
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium")
    page = tmp_path / "2026-11-25.html"
    page.write_text(html, encoding="utf-8")
    screenshot = tmp_path / "digest.png"
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1000,1400",
            "--virtual-time-budget=3000",
            "--dump-dom",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return lxml.html.document_fromstring(result.stdout), screenshot


def distinct_rows(png: Path) -> int:
    """How many different (filtered) pixel rows the image has: 1 or 2 for a blank page.

    Enough PNG decoding to tell an empty screenshot from one with text on it, without
    pulling in an imaging library.
    """
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, bytes_per_pixel = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, _, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            bytes_per_pixel = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    pixels = zlib.decompress(idat)
    stride = 1 + width * bytes_per_pixel
    return len({pixels[i : i + stride] for i in range(0, len(pixels), stride)})


def assert_nothing_ran_and_stories_show(dom: lxml.html.HtmlElement) -> None:
    assert dom.findtext(".//title") == OUR_TITLE
    assert dom.findall(f".//{MARKER_TAG}") == []
    assert not dom.xpath("//script | //iframe | //object | //embed | //svg | //img")
    headings = [h.text_content() for h in dom.iter("h2")]
    assert headings == [plain(payload) for payload in PAYLOADS]


def test_chromium_would_reveal_a_payload_that_ran(tmp_path: Path) -> None:
    """The detector itself: the same payloads pasted in raw do run in this browser."""
    raw = f"<!DOCTYPE html><title>{OUR_TITLE}</title><body>{''.join(PAYLOADS)}</body>"
    dom, _ = open_in_chromium(raw, tmp_path)
    assert dom.findtext(".//title") == "PWNED"
    assert dom.findall(f".//{MARKER_TAG}") != []


def test_payload_digest_runs_nothing_and_shows_every_story(tmp_path: Path) -> None:
    dom, screenshot = open_in_chromium(render_html(payload_digest()), tmp_path)
    assert_nothing_ran_and_stories_show(dom)
    assert distinct_rows(screenshot) > 100  # text on screen, not a page hidden by CSS


def test_escaping_alone_keeps_payloads_inert_without_the_security_policy(tmp_path: Path) -> None:
    html = render_html(payload_digest())
    csp_line = next(line for line in html.splitlines() if "Content-Security-Policy" in line)
    dom, _ = open_in_chromium(html.replace(csp_line, ""), tmp_path)
    assert dom.find(".//meta[@http-equiv]") is None
    assert_nothing_ran_and_stories_show(dom)


def test_front_page_shows_its_sections_runs_nothing_and_links_only_http(tmp_path: Path) -> None:
    digest = payload_front_page()
    dom, screenshot = open_in_chromium(render_html(digest), tmp_path)
    assert dom.findtext(".//title") == OUR_TITLE
    assert dom.findall(f".//{MARKER_TAG}") == []
    assert not dom.xpath("//script | //iframe | //object | //embed | //svg | //img")
    sections = dom.findall(".//main/section")
    assert [s.findtext("h2") for s in sections] == list(digest.sections or ())
    assert all(s.findall("article") or s.findall("ul/li") for s in sections)
    hrefs = [a.get("href") for a in dom.iter("a")]
    assert hrefs and all(href.startswith(("http://", "https://")) for href in hrefs)
    assert "display:none" not in STYLESHEET.replace(" ", "")
    assert "visibility" not in STYLESHEET
    assert distinct_rows(screenshot) > 100


def test_full_list_runs_nothing_and_links_only_http(tmp_path: Path) -> None:
    digest = payload_front_page()
    dom, screenshot = open_in_chromium(render_full_list(digest), tmp_path)
    assert dom.findall(f".//{MARKER_TAG}") == []
    assert not dom.xpath("//script | //iframe | //object | //embed | //svg | //img")
    assert len(dom.findall(".//ol/li")) == len(digest.stories)
    assert all(a.get("href").startswith(("http://", "https://")) for a in dom.iter("a"))
    assert distinct_rows(screenshot) > 100
