"""An item dated more than a day after it was fetched is dated by the fetch instead:
the rule on one date (ingest.dates.believable) and on a fetch's articles (redate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from ingest.dates import FUTURE_TOLERANCE, LATEST, believable
from ingest.records import Article, redate, warn_future_dates

FETCHED = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HEISE = datetime(2035, 8, 19, 0, 0, tzinfo=UTC)  # a real feed's date
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("published", "kept"),
    [
        pytest.param(None, None, id="undated stays undated"),
        pytest.param(FETCHED - timedelta(days=400), FETCHED - timedelta(days=400), id="past"),
        pytest.param(FETCHED, FETCHED, id="the fetch itself"),
        pytest.param(FETCHED + timedelta(hours=14), FETCHED + timedelta(hours=14), id="a zone"),
        pytest.param(FETCHED + FUTURE_TOLERANCE, FETCHED + FUTURE_TOLERANCE, id="a day ahead"),
        pytest.param(FETCHED + FUTURE_TOLERANCE + SECOND, FETCHED, id="just over a day"),
        pytest.param(HEISE, FETCHED, id="years ahead"),
        pytest.param(LATEST, FETCHED, id="the last date kept at all"),
    ],
)
def test_a_date_is_believed_up_to_a_day_after_the_fetch(
    published: datetime | None, kept: datetime | None
) -> None:
    assert believable(published, FETCHED) == kept


def article(guid: str, published: datetime | None, text: str = "Some words.") -> Article:
    return Article(guid=guid, title=f"Title {guid}", text=text, published=published)


def test_redate_replaces_only_the_dates_too_far_ahead() -> None:
    past = FETCHED - timedelta(hours=3)
    articles = [article("a", HEISE), article("b", past), article("c", None)]
    result = redate(articles, fetched=FETCHED)
    assert [a.published for a in result.articles] == [FETCHED, past, None]
    assert result.replaced == {"a": HEISE}
    # Nothing but the date changes: the same content is the same item.
    assert [a.content_hash for a in result.articles] == [a.content_hash for a in articles]
    assert [a.guid for a in result.articles] == ["a", "b", "c"]


def test_of_a_repeated_guid_the_last_article_says_whether_its_date_was_replaced() -> None:
    later_fixed = redate([article("a", HEISE), article("a", FETCHED)], fetched=FETCHED)
    assert later_fixed.replaced == {}
    later_wrong = redate([article("a", FETCHED), article("a", HEISE)], fetched=FETCHED)
    assert later_wrong.replaced == {"a": HEISE}


def test_one_warning_names_the_source_and_the_furthest_date() -> None:
    further = HEISE + timedelta(days=30)
    with capture_logs() as logs:
        warn_future_dates({"a": HEISE, "b": further}, FETCHED, feed="https://heise.example/")
        warn_future_dates({}, FETCHED, feed="https://quiet.example/")
    assert logs == [
        {
            "event": "date.future_replaced",
            "log_level": "warning",
            "feed": "https://heise.example/",
            "items": 2,
            "latest": further.isoformat(),
            "replaced_by": FETCHED.isoformat(),
        }
    ]
