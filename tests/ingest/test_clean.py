"""Behaviour of the text cleaner on the seed document and on small examples of other sites."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import feedparser
import pytest

from ingest.clean import (
    clean_paragraphs,
    clean_title,
    format_article,
    split_paragraphs,
)
from ingest.html import html_to_paragraphs

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_5e72854a3612335b.txt"
SHARED_DATA = REPO.parent / "shared" / "data"

# Read off the seed by hand: paragraph 0 is the title, 1-44 the article, 45 the "You May Also
# Like" heading. These indices are the seven caption twin pairs (each an image caption
# rendered twice: straight quotes and curly, or `¿` where the quotes were).
SEED_CAPTION_INDICES = frozenset({9, 10, 11, 12, 13, 14, 25, 26, 27, 28, 37, 38, 39, 40})
SEED_RELATED_HEADING = 45


def _seed_paragraphs() -> list[str]:
    return split_paragraphs(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_clean() -> tuple[list[str], str, list[str]]:
    raw = _seed_paragraphs()
    return raw, clean_title(raw[0]), clean_paragraphs(raw[1:])


# --- the seed --------------------------------------------------------------------------------


def test_seed_annotation_matches_the_file() -> None:
    raw = _seed_paragraphs()
    assert raw[SEED_RELATED_HEADING] == "You May Also Like"
    for first in sorted(SEED_CAPTION_INDICES)[::2]:
        # each annotated pair is two renditions of one caption, ending without a full stop
        a, b = raw[first], raw[first + 1]
        assert a != b or first == 9
        assert not a.endswith(".") and not b.endswith(".")


def test_seed_keeps_its_thirty_body_paragraphs_in_order(seed_clean) -> None:
    raw, _, body = seed_clean
    expected = [
        p for i, p in enumerate(raw[1:SEED_RELATED_HEADING], 1) if i not in SEED_CAPTION_INDICES
    ]
    assert len(expected) == 30
    assert body == expected


def test_seed_drops_every_caption_twin(seed_clean) -> None:
    raw, _, body = seed_clean
    for i in SEED_CAPTION_INDICES:
        assert raw[i] not in body
    assert not any("(pictured)" in p for p in body)


def test_seed_drops_the_related_block(seed_clean) -> None:
    raw, _, body = seed_clean
    teasers = raw[SEED_RELATED_HEADING:]
    assert not set(teasers) & set(body)
    assert not any("Kanye" in p or p.endswith("…") for p in body)


def test_seed_output_has_no_inverted_question_mark_and_keeps_typography(seed_clean) -> None:
    _, title, body = seed_clean
    text = format_article(title, body)
    assert "¿" not in text
    assert "‘" in text and "’" in text
    assert "£396 million" in text
    assert "alongside France – but not the United States –" in text


def test_seed_paragraphs_each_appear_exactly_once(seed_clean) -> None:
    _, _, body = seed_clean
    assert len(set(body)) == len(body)


def test_seed_title_and_format(seed_clean) -> None:
    raw, title, body = seed_clean
    assert title == raw[0]
    text = format_article(title, body)
    assert text.startswith(title + "\n\n" + body[0] + "\n\n")
    assert text.endswith(body[-1] + "\n")
    assert text.count("\n\n") == len(body)


def test_cleaning_the_cleaned_seed_changes_nothing(seed_clean) -> None:
    _, _, body = seed_clean
    assert clean_paragraphs(body) == body
    assert split_paragraphs(format_article("Title", body)) == ["Title", *body]


# --- split_paragraphs / clean_title / format_article ------------------------------------------


def test_split_paragraphs_on_blank_lines_only() -> None:
    text = "First line\nstill first.\n\n\n  Second\t paragraph \r\n \r\nThird\u00a0one\n \n"
    assert split_paragraphs(text) == ["First line still first.", "Second paragraph", "Third one"]


def test_split_paragraphs_of_empty_text() -> None:
    assert split_paragraphs("") == []
    assert split_paragraphs(" \n\n \t\n") == []


def test_clean_title_repairs_mojibake_and_collapses_whitespace() -> None:
    assert clean_title("  Putinâ€™s   â€˜peaceâ€™\n plan ") == "Putin’s ‘peace’ plan"


def test_format_article_without_paragraphs() -> None:
    assert format_article("Only a title", []) == "Only a title\n"


# --- caption twins ---------------------------------------------------------------------------

BODY_A = "The council approved the budget on Tuesday after a long debate about housing."
BODY_B = "Opposition members said the plan would leave the city short of money by next spring."
BODY_C = "A final vote is expected before the end of the month, officials said."


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # straight quotes vs curly quotes (the Daily Mail style)
        (
            "The mayor, who said the vote was 'a disgrace', leaves the chamber on Tuesday",
            "The mayor, who said the vote was ‘a disgrace’, leaves the chamber on Tuesday",
        ),
        # double quotes vs guillemets-free curly doubles, and a dash variant
        (
            'Protesters outside city hall - some carrying "No cuts" placards - on Monday',
            "Protesters outside city hall – some carrying “No cuts” placards – on Monday",
        ),
        # `¿` left where the quotes were
        (
            "Councillor Jane Smith (pictured) called the budget ¿reckless¿ in a statement",
            "Councillor Jane Smith (pictured) called the budget ‘reckless’ in a statement",
        ),
        # the same caption twice, verbatim
        (
            "Council workers clear snow from the steps of the town hall in January",
            "Council workers clear snow from the steps of the town hall in January",
        ),
        # one rendition carries the picture credit as well
        (
            "Council workers clear snow from the steps of the town hall in January",
            "Council workers clear snow from the steps of the town hall in January (Reuters)",
        ),
        # case differs
        (
            "MEMBERS OF THE COUNCIL GATHER FOR THE VOTE IN THE MAIN CHAMBER",
            "Members of the council gather for the vote in the main chamber",
        ),
    ],
)
def test_caption_twins_are_dropped_both(first: str, second: str) -> None:
    assert clean_paragraphs([BODY_A, first, second, BODY_B]) == [BODY_A, BODY_B]


def test_twins_exposed_by_removing_a_pair_are_compared_too() -> None:
    outer = "Residents queue for the public meeting at the library on Wednesday evening"
    credited = outer + " (Getty Images)"
    inner = "The new housing estate, pictured from the air, will have 400 homes"
    paragraphs = [BODY_A, outer, inner, inner.upper(), credited, BODY_B]
    assert clean_paragraphs(paragraphs) == [BODY_A, BODY_B]


def test_a_paragraph_repeated_right_after_a_caption_pair_is_kept_once() -> None:
    caption = "The 'new town' housing estate, pictured from the air, will have 400 homes"
    curly = "The ‘new town’ housing estate, pictured from the air, will have 400 homes"
    paragraphs = [BODY_A, caption, caption, BODY_A, BODY_B]
    assert clean_paragraphs(paragraphs) == [BODY_A, BODY_B]
    assert clean_paragraphs([BODY_A, caption, curly, BODY_A]) == [BODY_A]


def test_twins_separated_by_an_advert_are_dropped() -> None:
    caption = "Firefighters at the scene of the blaze in Leeds on Sunday morning"
    paragraphs = [BODY_A, caption, "Advertisement", caption, BODY_B]
    assert clean_paragraphs(paragraphs) == [BODY_A, BODY_B]


def test_body_paragraphs_that_start_alike_are_kept() -> None:
    paragraphs = [
        "The minister said the plan would cost £2bn and take five years to complete.",
        "The minister said the plan would be reviewed by an independent panel next spring.",
        "If I’m looking for the lighter shade, I search the range above the base colour.",
        "If I’m looking for the darker shade, I search the range below the base colour.",
    ]
    assert clean_paragraphs(paragraphs) == paragraphs


def test_short_lines_next_to_their_double_are_kept() -> None:
    paragraphs = ["Type: keyword", "Type: keyword", "Yes.", "Yes."]
    assert clean_paragraphs(paragraphs) == paragraphs


# --- body paragraphs printed twice -----------------------------------------------------------


def test_a_body_paragraph_printed_twice_in_a_row_is_kept_once() -> None:
    assert clean_paragraphs([BODY_A, BODY_B, BODY_B, BODY_C]) == [BODY_A, BODY_B, BODY_C]


def test_a_doubled_block_in_another_quote_style_keeps_the_first_copy() -> None:
    quote = "“We will not let this city go bankrupt,” the mayor told the meeting."
    straight = '"We will not let this city go bankrupt," the mayor told the meeting.'
    assert clean_paragraphs([BODY_A, quote, straight, BODY_B]) == [BODY_A, quote, BODY_B]


def test_a_caption_repeating_the_sentence_beside_it_leaves_the_sentence() -> None:
    caption = BODY_B.rstrip(".")
    assert clean_paragraphs([BODY_A, BODY_B, caption, BODY_C]) == [BODY_A, BODY_B, BODY_C]
    assert clean_paragraphs([BODY_A, caption, BODY_B, BODY_C]) == [BODY_A, BODY_B, BODY_C]


# --- repeats (pull quotes) -------------------------------------------------------------------


def test_a_pull_quote_repeating_an_earlier_paragraph_is_kept_once() -> None:
    quote = "‘We will not let this city go bankrupt,’ the mayor told the meeting."
    paragraphs = [BODY_A, quote, BODY_B, BODY_C, quote, "The meeting closed at ten."]
    assert clean_paragraphs(paragraphs) == [
        BODY_A,
        quote,
        BODY_B,
        BODY_C,
        "The meeting closed at ten.",
    ]


def test_a_repeat_in_another_quote_style_is_still_a_repeat() -> None:
    quote = "“We will not let this city go bankrupt,” the mayor told the meeting."
    straight = '"We will not let this city go bankrupt," the mayor told the meeting.'
    assert clean_paragraphs([quote, BODY_A, straight, BODY_B]) == [quote, BODY_A, BODY_B]


# --- related-content blocks ------------------------------------------------------------------

ARTICLE = [BODY_A, BODY_B, BODY_C]


@pytest.mark.parametrize(
    "block",
    [
        [
            "Related Articles",
            "Council tax to rise by 5% in April",
            "Library closures: what we know so far",
        ],
        [
            "More from The Gazette",
            "Mayor faces no-confidence vote",
            "Why the bus lane plan was scrapped",
            "Five things to do this weekend",
        ],
        [
            "Most Popular",
            "Celebrity chef opens restaurant in old bank",
            "The chef, who rose to fame on television, has spent two years…",
            "Storm warning for the weekend",
            "Forecasters say gusts could reach 70mph in exposed...",
        ],
        ["Recommended for you:", "Ten walks to try this autumn", "The best pubs by the river"],
        ["READ MORE", "Bin collections cut to once a fortnight"],
        ["Trending now", "Man arrested after car chase", "Police said the driver…"],
    ],
    ids=["related", "more-from", "most-popular", "recommended-colon", "read-more", "trending"],
)
def test_a_named_related_block_is_dropped_to_the_end(block: list[str]) -> None:
    assert clean_paragraphs([*ARTICLE, *block]) == ARTICLE


def test_an_unnamed_teaser_block_is_dropped_by_its_shape() -> None:
    block = [
        "Around the newsroom",
        "Storm Ciarán batters the south coast",
        "Thousands of homes were left without power as winds of up to…",
        "Rail strike called off at the last minute",
        "Unions and operators reached a deal late on Sunday, after…",
    ]
    assert clean_paragraphs([*ARTICLE, *block]) == ARTICLE


def test_a_closing_list_in_the_body_is_not_a_related_block() -> None:
    fixtures = [
        "Derby v Watford",
        "Chelsea v Birmingham",
        "West Ham v Sheff Utd",
        "Oldham v Bolton",
    ]
    paragraphs = [*ARTICLE, *fixtures]
    assert clean_paragraphs(paragraphs) == paragraphs


CAST = [
    "Little Britain (BBC Three)",
    "The Catherine Tate Show (BBC Two)",
    "Nighty Night (BBC Three)",
    "My Family (BBC One)",
]
UNNAMED_BLOCK = [
    "Around the newsroom",
    "Storm Ciarán batters the south coast",
    "Thousands of homes were left without power as winds of up to…",
    "Rail strike called off at the last minute",
    "Unions and operators reached a deal late on Sunday, after…",
]


def test_a_list_of_short_lines_inside_the_body_is_kept() -> None:
    paragraphs = [BODY_A, "The comedy nominees are:", *CAST, BODY_B, BODY_C]
    assert clean_paragraphs(paragraphs) == paragraphs
    paragraphs = [BODY_A, "Comedy", *CAST, BODY_B]
    assert clean_paragraphs(paragraphs) == paragraphs


def test_a_list_ending_the_body_is_kept_before_a_teaser_block() -> None:
    body = [*ARTICLE, "Comedy", *CAST]
    assert clean_paragraphs([*body, *UNNAMED_BLOCK]) == body
    assert clean_paragraphs([*body, "Advertisement", *UNNAMED_BLOCK[1:]]) == body
    assert clean_paragraphs([*body, "You May Also Like", *UNNAMED_BLOCK[1:]]) == body


def test_short_lines_after_a_teaser_heading_at_the_end_are_dropped() -> None:
    assert clean_paragraphs([*ARTICLE, "You May Also Like", *CAST]) == ARTICLE


def test_a_standfirst_of_two_sentences_cut_short_is_a_teaser() -> None:
    block = [
        "You May Also Like",
        "Dog owners dress their dogs as the Pope",
        "PRAISE be! This gives a whole new meaning. To the term dog…",
        "Hay fever warning",
        "Sufferers were cautioned today. Do not buy. Injections from private…",
    ]
    assert clean_paragraphs([*ARTICLE, *block]) == ARTICLE


def test_a_promo_box_inside_the_article_does_not_cut_the_rest() -> None:
    body = [
        "Corning is positioning the glass as its premium offering. Larger screens will use it.",
        "The company promises low thickness variation. It says warping will be rare.",
        "Rivals are expected to respond. Prices have not been announced.",
    ]
    paragraphs = [BODY_A, "Editor's Pick", "Corning shows us its new glass", *body]
    assert clean_paragraphs(paragraphs) == paragraphs


def test_a_subheading_followed_by_body_is_kept() -> None:
    paragraphs = [
        *ARTICLE,
        "What happens next",
        "The council will meet again in March. A consultation opens next week.",
        "Residents can comment online or at the library until the end of April.",
        "The final budget will be published in May, officials said.",
    ]
    assert clean_paragraphs(paragraphs) == paragraphs


def test_release_notes_ending_in_an_ellipsis_are_kept() -> None:
    paragraphs = [
        "Highlights of this release include the following changes for users.",
        "x86: faster emulation of string instructions",
        "and lots more…",
        "Thank you to everybody who contributed to this release.",
    ]
    assert clean_paragraphs(paragraphs) == paragraphs


# --- page furniture --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Share this article",
        "Share on Facebook",
        "ADVERTISEMENT",
        "Story continues below advertisement",
        "Scroll down for video",
        "Sign up for our daily newsletter",
        "Subscribe to The Abstract, our newsletter about science news and studies of the week.",
        "Follow us on Twitter",
        "Follow Jane Smith on Instagram",
        "Click here to read the full report",
        "Read more: Council tax to rise by 5% in April",
        "Read more about the consultation",
        "Continue reading…",
        "Image source, Getty Images",
        "Image caption, Protesters gathered outside the town hall",
        "Photo: Jane Smith/Reuters",
        "© 2024 The Gazette. All rights reserved.",
        "12 comments",
        "* * *",
        "★",
    ],
)
def test_page_furniture_is_dropped(line: str) -> None:
    assert clean_paragraphs([BODY_A, line, BODY_B]) == [BODY_A, BODY_B]


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell sharply after the announcement on Monday.",
        "The advertisement was banned by the regulator for being misleading.",
        "Follow the money, the investigator told reporters outside the court.",
        "Read more books, the minister urged parents in her speech.",
        "Copyright law is changing across the EU next year, the report says.",
        "Subscribers to the service rose by 5% in the third quarter.",
    ],
)
def test_body_sentences_using_furniture_words_are_kept(line: str) -> None:
    assert clean_paragraphs([BODY_A, line, BODY_B]) == [BODY_A, line, BODY_B]


# --- repair ----------------------------------------------------------------------------------


def test_mojibake_is_repaired_and_curly_quotes_kept() -> None:
    assert clean_paragraphs(["Putinâ€™s â€˜peaceâ€™ plan costs Â£2bn â€“ or more."]) == [
        "Putin’s ‘peace’ plan costs £2bn – or more."
    ]


def test_inverted_question_marks_standing_for_quotes_are_replaced() -> None:
    assert clean_paragraphs(["He called the deal ¿a disgrace¿ and Trump¿s plan ¿reckless¿."]) == [
        "He called the deal ‘a disgrace’ and Trump’s plan ‘reckless’."
    ]


def test_spanish_questions_keep_their_inverted_question_marks() -> None:
    paragraph = "¿Qué pasa con el presupuesto? ¿Quién paga?"
    assert clean_paragraphs([paragraph]) == [paragraph]


def test_cp1252_punctuation_read_as_latin1_is_decoded() -> None:
    assert clean_paragraphs(["Putin\x92s \x93deal\x94 costs \xa32bn"]) == [
        "Putin’s “deal” costs £2bn"
    ]


def test_control_characters_and_nul_bytes_are_removed() -> None:
    assert clean_paragraphs(["The \x00council\x07 met\u200b today."]) == ["The council met today."]


# --- real text -------------------------------------------------------------------------------


def test_real_bbc_articles_lose_no_paragraph() -> None:
    """BBC News articles carry no page noise, so every paragraph must survive."""
    path = SHARED_DATA / "summ-dev-bbc.jsonl"
    if not path.exists():
        pytest.skip(f"shared evaluation data not found at {path}")
    lost = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        paragraphs = split_paragraphs(record["text"])
        kept = clean_paragraphs(paragraphs)
        if len(kept) != len(paragraphs):
            lost.append(record["id"])
    assert lost == []


REAL_FEEDS = SHARED_DATA / "feeds" / "real"
# Feeds whose entries carry full article HTML, from several kinds of site.
FULL_CONTENT_FEEDS = [
    "time-world.rss",
    "androidauthority-leading-blank-lines.rss",
    "theverge.atom",
    "alexwlchan-jekyll.atom",
    "qemu-blog.atom",
    "overcube-euc-jp.atom",
    "stratechery.rss",
]


def _is_substantial(paragraph: str) -> bool:
    """Two or more sentences and thirty words: body text, not a teaser or a prompt."""
    sentences = sum(paragraph.count(mark) for mark in (". ", "? ", "! ")) + 1
    return sentences >= 2 and len(paragraph.split()) >= 30


@pytest.mark.parametrize("feed", FULL_CONTENT_FEEDS)
def test_real_feed_content_keeps_every_substantial_paragraph(feed: str) -> None:
    path = REAL_FEEDS / feed
    if not path.exists():
        pytest.skip(f"shared feed data not found at {path}")
    entries = feedparser.parse(path.read_bytes()).entries
    contents = [c.value for e in entries for c in e.get("content", []) if "html" in c.type]
    assert contents, f"{feed} has no HTML content to clean"
    for html in contents:
        raw = [clean_title(p) for p in html_to_paragraphs(html)]  # repaired, not cleaned
        cleaned = clean_paragraphs(raw)
        assert clean_paragraphs(cleaned) == cleaned
        counts = Counter(raw)
        substantial = [p for p in raw if _is_substantial(p) and counts[p] == 1]
        assert [p for p in substantial if p not in cleaned] == []
