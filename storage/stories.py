"""Story reads: the stories a day's digest shows, each with its lead item and every item
that carried it. Which story an item joins is decided when it is saved
(``storage.items``); this module only reads."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, case, null, or_, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Item, Source, Story, Summary
from storage.records import StoryItem, StoryRow

# Where the summary is among a row's StoryItem fields (after story id and lead id).
_SUMMARY = 7


class StoriesMixin:
    """The story reads of ``Storage``."""

    # Set up by Storage.__init__.
    _reader: sessionmaker[Session]

    def stories_first_seen(
        self, start: datetime, end: datetime, *, with_text: bool | Collection[int] = False
    ) -> list[StoryRow]:
        """Stories whose first item arrived in ``[start, end)``, oldest first, each with
        its lead item and every item (from any source, at any time) that carried it,
        with its feed's digest options.

        Item bodies are read only where asked, as they are most of what a day weighs:
        *with_text* True reads every item's, a collection of source ids those sources'
        items' (keep/block rules read bodies; nothing else in a digest does). The other
        items have ``text`` None.

        One column query through the Core, no ORM entities: a busy day is tens of
        thousands of items, and building an entity for each would cost the digest far
        more than the read.
        """
        query = (
            select(
                Story.id,
                Story.lead_item_id,
                Item.id,
                Item.guid,
                Item.title,
                Item.url,
                Item.published_at,
                Source.url,
                Source.title,
                Summary.sentences,
                Item.first_seen_at,
                Item.language,
                Source.category,
                Source.weight,
                Source.block,
                Source.keep,
                _text(with_text),
            )
            .join(Item, Item.story_id == Story.id)
            .join(Source, Source.id == Item.source_id)
            .outerjoin(Summary, Summary.item_id == Item.id)
            .where(Story.first_seen_at >= start, Story.first_seen_at < end)
            .order_by(Story.first_seen_at, Story.id, Item.first_seen_at, Item.id)
        )
        grouped: dict[int, tuple[int | None, list[StoryItem]]] = {}
        with self._reader() as session:
            for story_id, lead_id, *fields in session.connection().execute(query):
                # The summary's sentences come back as a JSON list (or None).
                fields[_SUMMARY] = tuple(fields[_SUMMARY] or ())
                item = StoryItem(*fields)
                grouped.setdefault(story_id, (lead_id, []))[1].append(item)
        return [
            StoryRow(
                id=story_id,
                lead=next((i for i in items if i.id == lead_id), items[0]),
                items=tuple(items),
            )
            for story_id, (lead_id, items) in grouped.items()
        ]

    def feeds_with_rules(self) -> set[int]:
        """The ids of the sources that have keep or block rules of their own."""
        # An empty pattern is no rule, as the digest reads it (and NULL != '' is not true).
        query = select(Source.id).where(or_(Source.block != "", Source.keep != ""))
        with self._reader() as session:
            return set(session.scalars(query))


def _text(with_text: bool | Collection[int]) -> ColumnElement[str | None]:
    if with_text is True:
        return Item.text
    if not with_text:
        return null()
    # Inlined, not bound one parameter each: any number of feeds may have rules, and a
    # statement takes at most 32,766 parameters on some SQLite builds, 65,535 on
    # PostgreSQL.
    sources = bindparam("text_sources", sorted(with_text), expanding=True, literal_execute=True)
    return case((Item.source_id.in_(sources), Item.text), else_=null())
