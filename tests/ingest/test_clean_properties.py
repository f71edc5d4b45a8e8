"""Property-based tests of the text cleaner: it never crashes, is idempotent, and removes
generated noise of each class while every ordinary body paragraph survives."""

from __future__ import annotations

import itertools
from difflib import SequenceMatcher

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ingest.clean import clean_paragraphs, clean_title, format_article, split_paragraphs

# Ordinary news vocabulary, none of it page furniture or a related-block heading.
BODY_WORDS = [
    "council",
    "budget",
    "housing",
    "minister",
    "report",
    "city",
    "police",
    "court",
    "judge",
    "school",
    "teachers",
    "hospital",
    "doctors",
    "patients",
    "river",
    "bridge",
    "railway",
    "station",
    "company",
    "shares",
    "workers",
    "union",
    "strike",
    "talks",
    "agreement",
    "government",
    "election",
    "voters",
    "party",
    "leader",
    "campaign",
    "village",
    "farm",
    "weather",
    "storm",
    "flood",
    "rescue",
    "fire",
    "crew",
    "families",
    "residents",
    "children",
    "survey",
    "scientists",
    "study",
    "results",
    "energy",
    "prices",
    "winter",
    "summer",
    "plan",
    "funding",
    "tax",
    "rise",
    "cut",
    "week",
    "month",
    "year",
    "yesterday",
    "today",
    "officials",
    "spokesman",
    "statement",
    "meeting",
    "vote",
    "approved",
    "rejected",
    "delayed",
    "expected",
    "confirmed",
    "warned",
    "argued",
    "claimed",
    "announced",
    "opened",
    "closed",
    "built",
    "repaired",
    "new",
    "old",
    "local",
    "national",
    "regional",
    "public",
    "private",
    "small",
    "large",
    "early",
    "late",
    "quickly",
    "slowly",
    "after",
    "before",
    "during",
    "while",
    "because",
    "although",
    "despite",
    "under",
    "over",
    "between",
    "across",
]
CAPTION_WORDS = [
    "Pictured",
    "Smith",
    "Jones",
    "Harbour",
    "Cathedral",
    "Parade",
    "Festival",
    "Stadium",
    "Crowds",
    "Gather",
    "Outside",
    "Celebrate",
    "Arrive",
    "Supporters",
    "Fans",
    "Officers",
    "Marchers",
    "Dancers",
    "Musicians",
    "Evening",
    "Morning",
]
TEASER_WORDS = [
    "Star",
    "Shock",
    "Revealed",
    "Secret",
    "Royal",
    "Celebrity",
    "Diet",
    "Holiday",
    "Winner",
    "Drama",
    "Fury",
    "Mystery",
    "Pop",
    "Icon",
    "Reality",
    "Show",
    "Fans",
    "Stunned",
    "Exclusive",
    "Pictures",
    "Truth",
    "Behind",
    "Split",
    "Romance",
]
FURNITURE = [
    "Advertisement",
    "Share this article",
    "Scroll down for video",
    "Sign up for our newsletter",
    "Follow us on Facebook",
    "Click here for more",
    "Read more: Star shock revealed",
    "Image source, Getty Images",
    "Story continues below advertisement",
    "* * *",
]
RELATED_HEADINGS = ["You May Also Like", "Related Stories", "More from the Gazette", "Trending"]


def _sentence(words: list[str]) -> str:
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


sentences = st.lists(st.sampled_from(BODY_WORDS), min_size=6, max_size=16).map(_sentence)
body_paragraphs = st.lists(sentences, min_size=1, max_size=3).map(" ".join)


def _dissimilar_neighbours(paragraphs: list[str]) -> bool:
    pairs = itertools.pairwise(paragraphs)
    return all(
        SequenceMatcher(None, a.lower().split(), b.lower().split()).ratio() < 0.8 for a, b in pairs
    )


bodies = st.lists(body_paragraphs, min_size=1, max_size=10, unique_by=str.lower).filter(
    _dissimilar_neighbours
)
captions = st.lists(st.sampled_from(CAPTION_WORDS), min_size=9, max_size=14).map(" ".join)


@st.composite
def caption_twins(draw: st.DrawFn) -> list[str]:
    words = draw(captions).split()
    quoted = draw(st.integers(0, len(words) - 1))
    straight = [*words[:quoted], f"'{words[quoted]}'", *words[quoted + 1 :]]
    style = draw(st.sampled_from(["curly", "inverted", "same"]))
    marked = {"curly": f"‘{words[quoted]}’", "inverted": f"¿{words[quoted]}¿"}
    other = [*words[:quoted], marked.get(style, f"'{words[quoted]}'"), *words[quoted + 1 :]]
    return [" ".join(straight), " ".join(other)]


@st.composite
def related_blocks(draw: st.DrawFn) -> list[str]:
    block = [draw(st.sampled_from(RELATED_HEADINGS))]
    for _ in range(draw(st.integers(1, 5))):
        block.append(
            " ".join(draw(st.lists(st.sampled_from(TEASER_WORDS), min_size=5, max_size=12)))
        )
        standfirst = draw(st.lists(st.sampled_from(TEASER_WORDS), min_size=6, max_size=14))
        block.append(" ".join(standfirst) + draw(st.sampled_from(["…", "..."])))
    return block


@st.composite
def noisy_articles(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """A body and the same body with captions, furniture, pull quotes and teasers added."""
    body = draw(bodies)
    # Each slot holds what goes before body[i]; the last slot goes after the body.
    slots: list[list[str]] = [[] for _ in range(len(body) + 1)]
    for _ in range(draw(st.integers(0, 3))):
        slots[draw(st.integers(0, len(body)))].extend(draw(caption_twins()))
    for _ in range(draw(st.integers(0, 3))):
        slots[draw(st.integers(0, len(body)))].append(draw(st.sampled_from(FURNITURE)))
    for _ in range(draw(st.integers(0, 2))):
        # a pull quote: a copy of an earlier paragraph, not straight after it
        source = draw(st.integers(0, len(body) - 1))
        if source + 2 <= len(body):
            slots[draw(st.integers(source + 2, len(body)))].insert(0, body[source])
    noisy: list[str] = []
    for i, paragraph in enumerate(body):
        noisy.extend(slots[i])
        noisy.append(paragraph)
    noisy.extend(slots[-1])
    if draw(st.booleans()):
        noisy.extend(draw(related_blocks()))
    return body, noisy


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@PROPERTY_SETTINGS
@given(bodies)
def test_ordinary_body_paragraphs_all_survive(body: list[str]) -> None:
    assert clean_paragraphs(body) == body


@PROPERTY_SETTINGS
@given(noisy_articles())
def test_generated_noise_is_removed_and_the_body_kept(article: tuple[list[str], list[str]]) -> None:
    body, noisy = article
    assert clean_paragraphs(noisy) == body


@PROPERTY_SETTINGS
@given(noisy_articles())
def test_cleaning_a_noisy_article_is_idempotent(article: tuple[list[str], list[str]]) -> None:
    _, noisy = article
    once = clean_paragraphs(noisy)
    assert clean_paragraphs(once) == once


# Characters that exercise every rule: quotes of all styles, `¿`, ellipses, sentence
# punctuation, colons, whitespace of several kinds, and the starts of furniture words.
TRICKY = st.lists(
    st.sampled_from([*"ab Ab.?!…:,'’‘“”\"¿-–\n\t\xa0\x00", "Related", "more ", "Share"]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(TRICKY, max_size=15))
def test_cleaning_tricky_text_is_idempotent(paragraphs: list[str]) -> None:
    once = clean_paragraphs(paragraphs)
    assert clean_paragraphs(once) == once
    assert all(p and p == p.strip() and "\n" not in p for p in once)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(), max_size=10))
def test_any_unicode_text_is_cleaned_without_error(paragraphs: list[str]) -> None:
    once = clean_paragraphs(paragraphs)
    assert clean_paragraphs(once) == once
    for paragraph in once:
        paragraph.encode("utf-8")  # no lone surrogates left behind


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_binary_junk_decoded_as_latin1_is_cleaned_without_error(data: bytes) -> None:
    text = data.decode("latin-1")
    cleaned = clean_paragraphs(split_paragraphs(text))
    assert clean_paragraphs(cleaned) == cleaned
    assert "\x00" not in clean_title(text)


@PROPERTY_SETTINGS
@given(st.text(min_size=1).map(clean_title), bodies)
def test_formatted_article_splits_back_into_title_and_paragraphs(
    title: str, body: list[str]
) -> None:
    assume(title)
    assert split_paragraphs(format_article(title, body)) == [title, *body]


def test_a_large_article_is_cleaned_in_full() -> None:
    paragraphs = [
        f"Paragraph {i} reports that the council met on day {i} and approved item {i * 7}."
        for i in range(20_000)
    ]
    assert clean_paragraphs(paragraphs) == paragraphs


def test_one_huge_paragraph_is_kept() -> None:
    huge = "The council met again today. " * 50_000
    # two renditions of one body text, which ends a sentence: the first is kept
    assert clean_paragraphs([huge, huge.upper()]) == [huge.strip()]
    assert clean_paragraphs([huge]) == [huge.strip()]
