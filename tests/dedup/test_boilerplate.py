"""A feed's boilerplate, decided from its items' texts: table-driven, no I/O."""

from __future__ import annotations

import pytest

from dedup.boilerplate import decide, paragraph_key, recurring, strip
from dedup.fingerprint import encode, fingerprint, match_encoded

FOOTER = "Visit our site for all the links, and to get our newsletter."
SIGN_OFF = "Production: Comedy Club Production"


def item(n: int, *extra: str) -> str:
    return "\n\n".join((f"Story {n} is about thing number {n}.", *extra))


def keys(*paragraphs: str) -> frozenset[int]:
    return frozenset(key for p in paragraphs if (key := paragraph_key(p)) is not None)


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        pytest.param([item(n, FOOTER) for n in range(5)], keys(FOOTER), id="footer-in-all"),
        pytest.param(
            [item(n, FOOTER, SIGN_OFF) for n in range(3)] + [item(3, FOOTER), item(4)],
            keys(FOOTER, SIGN_OFF),
            id="in-most",
        ),
        pytest.param(
            [item(n, FOOTER) for n in range(2)] + [item(n) for n in range(2, 4)],
            frozenset(),
            id="in-half-only",
        ),
        pytest.param([item(n, FOOTER) for n in range(3)], frozenset(), id="too-few-items"),
        pytest.param(
            [item(n, FOOTER.upper().replace(" ", "  ")) for n in range(2)]
            + [item(n, FOOTER) for n in range(2, 4)],
            keys(FOOTER),
            id="case-and-spacing",
        ),
        pytest.param(
            [item(n, FOOTER, FOOTER) for n in range(2)] + [item(n) for n in range(2, 4)],
            frozenset(),
            id="twice-in-one-item-counts-once",
        ),
        pytest.param([item(n, "", "  ") for n in range(5)], frozenset(), id="blank-lines"),
    ],
)
def test_recurring_paragraphs(texts: list[str], expected: frozenset[int]) -> None:
    assert recurring(texts) == expected


@pytest.mark.parametrize(
    ("count", "known", "expected"),
    [
        pytest.param(5, keys(SIGN_OFF), keys(FOOTER), id="enough-items-replace-the-record"),
        pytest.param(1, keys(SIGN_OFF), keys(SIGN_OFF), id="one-item-keeps-the-record"),
        pytest.param(0, frozenset(), frozenset(), id="nothing-known"),
    ],
)
def test_decide_from_the_document_or_the_record(
    count: int, known: frozenset[int], expected: frozenset[int]
) -> None:
    assert decide([item(n, FOOTER) for n in range(count)], known) == expected


def test_strip_leaves_out_boilerplate_paragraphs_only() -> None:
    text = item(1, FOOTER, SIGN_OFF)

    assert strip(text, keys(FOOTER)) == "\n".join(
        line for line in text.splitlines() if line != FOOTER
    )
    assert strip(text, frozenset()) == text


def test_two_items_alike_by_their_footer_alone_are_no_near_duplicates() -> None:
    footer = [f"Footer line {n}: subscribe, follow us and share this episode." for n in range(8)]
    texts = [item(n, *footer) for n in range(4)]
    boilerplate = decide(texts, frozenset())
    first, second = (fingerprint(text) for text in texts[:2])
    assert first is not None and second is not None
    assert match_encoded(encode(first), encode(second)) is not None

    assert fingerprint(strip(texts[0], boilerplate)) is None  # what is left is too short
