"""SQLAlchemy models. The schema itself is owned by the Alembic migrations next door;
these classes must match them (a test compares the two)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on the way out
    keeps comparisons and digest-day boundaries identical on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Source(Base):
    """Where items come from: one feed URL, or one seed file (``seed:<relative path>``)."""

    __tablename__ = "sources"
    __table_args__ = (Index("ix_sources_kind_next_check_at", "kind", "next_check_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # Feeds only: HTTP validators, schedule and retirement (a 410 Gone).
    site_url: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    full_text: Mapped[bool] = mapped_column(Boolean, default=False)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_reason: Mapped[str | None] = mapped_column(Text)
    # The digest: the section a feed's stories go to, how much its stories weigh when
    # ranking, and its own block/keep patterns (regular expressions, case-insensitive).
    category: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    block: Mapped[str | None] = mapped_column(Text)
    keep: Mapped[str | None] = mapped_column(Text)
    # Several workers: a feed being fetched is leased to one of them until a deadline,
    # so a crashed worker's feeds return to the pool when the lease runs out.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The database deletes a source's items (ON DELETE CASCADE, and their summaries and
    # bands after them); passive_deletes keeps the ORM from nulling their source_id first.
    items: Mapped[list[Item]] = relationship(back_populates="source", passive_deletes=True)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "guid", name="uq_items_source_guid"),
        Index("ix_items_first_seen_at", "first_seen_at"),
        Index("ix_items_canonical_url", "canonical_url"),
        Index("ix_items_content_hash", "content_hash"),
        Index("ix_items_story_id", "story_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(35))
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", name="fk_items_story_id", ondelete="SET NULL")
    )

    source: Mapped[Source] = relationship(back_populates="items")
    story: Mapped[Story | None] = relationship()
    summary: Mapped[Summary | None] = relationship(
        back_populates="item", cascade="all, delete-orphan", uselist=False
    )


class Summary(Base):
    """The summary of one item's current content (recomputed when the content changes)."""

    __tablename__ = "summaries"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    algorithm: Mapped[str] = mapped_column(String(32))
    sentences: Mapped[list[str]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship(back_populates="summary")


class Digest(Base):
    """A digest written to disk: which day, when, and how many stories it held."""

    __tablename__ = "digests"

    day: Mapped[date] = mapped_column(primary_key=True)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    story_count: Mapped[int] = mapped_column(Integer)


class Worker(Base):
    """A running ``feedbrief run`` process and the last time its ticker fired."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_tick_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Story(Base):
    """Items that carry the same story (syndicated copies, retitled reposts) share one.

    ``first_seen_at`` is when its first item arrived: the story belongs to that day's
    digest. ``lead_item_id`` is the item whose title and summary the digest shows; when
    it is unset (or pruned) the story's earliest remaining item leads.
    """

    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_first_seen_at", "first_seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_item_id: Mapped[int | None] = mapped_column(Integer)


class ItemBand(Base):
    """One LSH band key of an item's fingerprint: near-duplicate candidates are the items
    sharing any key, an indexed lookup whatever the number of items."""

    __tablename__ = "item_bands"
    __table_args__ = (Index("ix_item_bands_item_id", "item_id"),)

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )


class FeedBoilerplate(Base):
    """One paragraph a source repeats in most of its items (its key, a CRC-32): what
    the source's next items are stripped of before fingerprinting when its document
    holds too few items to tell."""

    __tablename__ = "feed_boilerplate"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    paragraph_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class Tombstone(Base):
    """The hash of a deleted item's identity or canonical URL: it never comes back."""

    __tablename__ = "tombstones"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EmailDelivery(Base):
    """One day's digest mailed to one recipient list (``recipients`` is the list's hash).

    The row is written before the message is sent, as a claim: its key lets one worker
    send a day, and ``attempts`` counts the claims so that a claim is taken over only by
    the worker that saw it as it stands.
    """

    __tablename__ = "email_deliveries"

    day: Mapped[date] = mapped_column(primary_key=True)
    recipients: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # "sending", "sent" or "failed"
    attempts: Mapped[int] = mapped_column(Integer)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Recipients refused while the others got the day: {address: the server's reply}.
    refused: Mapped[dict[str, str] | None] = mapped_column(JSON)
