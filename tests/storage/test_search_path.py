"""How PostgreSQL's search finds a query's newest matches: the shares of items a query
matches, read from its words' shares, and the choice between the index and a walk."""

from __future__ import annotations

import pytest

from storage.search_path import Shares, query_shares, query_words, walks_newest_first

SHARES = {"peopl": 0.4, "said": 0.5, "govern": 0.2, "minist": 0.1, "o'neil": 0.01}


@pytest.mark.parametrize(
    ("tsquery", "matched", "candidates", "rechecked"),
    [
        ("'peopl'", 0.4, 0.4, False),
        ("'peopl' & 'govern'", 0.08, 0.08, False),
        ("'peopl' | 'govern'", 0.52, 0.52, False),
        ("'govern' & !'minist'", 0.18, 0.2, True),
        ("'peopl' <-> 'said'", 0.01, 0.2, True),
        ("'peopl' <2> 'said'", 0.01, 0.2, True),
        ("'peopl' | 'govern' & !'minist'", 0.4 + 0.18 - 0.4 * 0.18, 0.52, True),
        ("( 'peopl' | 'govern' ) & 'minist'", 0.052, 0.052, False),
        ("'unknown'", 0.001, 0.001, False),
        ("'o''neil'", 0.01, 0.01, False),
        ("'peopl':*", 0.4, 0.4, True),
        ("", 0.0, 0.0, False),
    ],
)
def test_a_query_matches_the_share_its_words_make(
    tsquery: str, matched: float, candidates: float, rechecked: bool
) -> None:
    shares = query_shares(tsquery, SHARES, 0.001)
    assert shares.matched == pytest.approx(matched)
    assert shares.candidates == pytest.approx(candidates)
    assert shares.rechecked is rechecked


def test_the_words_of_a_query_are_unquoted() -> None:
    assert query_words("'peopl' <-> 'said' | !'o''neil':*") == ["peopl", "said", "o'neil"]


def test_a_common_word_walks_the_newest_items_and_a_rare_one_takes_the_index() -> None:
    common, rare = Shares(0.4, 0.4, False), Shares(0.001, 0.001, False)
    assert walks_newest_first(common, 1_000_000, 1_000)
    assert not walks_newest_first(rare, 1_000_000, 1_000)
    # Few items: the index hands over few matches, whatever the word.
    assert not walks_newest_first(common, 1_000, 1_000)


def test_candidates_whose_vectors_must_be_read_make_the_walk_pay_sooner() -> None:
    plain, rechecked = Shares(0.1, 0.1, False), Shares(0.1, 0.1, True)
    assert not walks_newest_first(plain, 100_000, 1_000)
    assert walks_newest_first(rechecked, 100_000, 1_000)


def test_nothing_matched_never_walks() -> None:
    assert not walks_newest_first(Shares(0.0, 0.0, False), 1_000_000, 1_000)
    assert not walks_newest_first(Shares(0.5, 0.5, False), 0, 1_000)
