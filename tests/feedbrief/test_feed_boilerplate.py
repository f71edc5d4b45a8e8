"""A feed's boilerplate end to end: a real local HTTP server, the real pipeline and a real
database. What one feed repeats under every item does not link its items, nor, once
recorded, a single item it lists later, to another feed's item carrying the same block."""

from __future__ import annotations

from datetime import timedelta

from pytest_httpserver import HTTPServer

from dedup.boilerplate import paragraph_key
from feedbrief.app import App
from tests.feedbrief.test_feeds import Clock, application, clock, feed  # noqa: F401

FOOTER = [
    "Subscribe to the show on your favourite podcast app and never miss an episode again.",
    "Every week two hosts and a guest talk for an hour about how the city gets around.",
    "Our music is by the house band, recorded live in the studio with the whole team present.",
    "Send your questions to the mailbox and we will answer the best ones in the next episode.",
    "This show is produced independently and paid for by listeners like you: thank you all.",
]


def episode(guid: str, title: str) -> str:
    body = "".join(f"<p>{line}</p>" for line in [f"In this episode: {title.lower()}.", *FOOTER])
    return (
        f"<item><guid>{guid}</guid><title>{title}</title><link>/{guid}</link>"
        f"<description><![CDATA[{body}]]></description></item>"
    )


def rss(*items: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>A show</title><link>http://example.com/</link>{''.join(items)}</channel></rss>"
    )


TOPICS = ["bridges", "trams", "ferries", "harbours", "canals"]


def test_a_feeds_boilerplate_links_nothing_even_in_an_item_listed_alone_later(
    application: App,  # noqa: F811
    httpserver: HTTPServer,
    clock: Clock,  # noqa: F811
) -> None:
    show = [episode(f"ep{n}", f"Episode {n}: {topic}") for n, topic in enumerate(TOPICS)]
    httpserver.expect_oneshot_request("/show.xml").respond_with_data(rss(*show))
    httpserver.expect_oneshot_request("/show.xml").respond_with_data(
        rss(episode("ep9", "Episode 9: lighthouses"))
    )
    httpserver.expect_request("/partner.xml").respond_with_data(
        rss(episode("guest", "A guest appearance on old railway stations"))
    )
    show_url, partner_url = httpserver.url_for("/show.xml"), httpserver.url_for("/partner.xml")
    application.storage.add_feed(show_url, application.now())
    application.storage.add_feed(partner_url, application.now())

    [first] = application.refresh_feeds([feed(application, show_url)])
    [partner] = application.refresh_feeds([feed(application, partner_url)])
    clock.now += timedelta(hours=7)
    [later] = application.refresh_feeds([feed(application, show_url)])

    assert (first.new, first.linked, partner.linked) == (5, 0, 0)
    record = application.storage.boilerplate(feed(application, show_url).id)
    assert record == {paragraph_key(line) for line in FOOTER}
    # Alone in its document, the new episode is stripped by the record: without it, its
    # footer would make it a near-duplicate of the partner's item.
    assert (later.new, later.linked) == (1, 0)
    stories = {item.guid: item.story_id for item in application.storage.iter_items()}
    assert len(set(stories.values())) == len(stories) == 7
