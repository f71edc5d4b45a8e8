"""What storage asks of story linking, as protocols: the rule itself is handed in.

Storage reads the stored items that could carry a new item's story (same canonical URL,
same content, shared band keys; with the source, guid and title of each, so the linker
can tell a page shared by one feed's items from an article's identity, and one feed's
re-post from its next item) and
writes the story the linker chooses; it does not know
how fingerprints are made or compared. ``dedup.linking.StoryLinker`` is the real one.
"""

from __future__ import annotations

from typing import Protocol

from storage.records import ItemData


class StoryCandidates(Protocol):
    def add_stored_page(
        self, url: str, item_id: int, story: int, source: int, guid: str
    ) -> None: ...
    def add_stored_text(
        self, content_hash: str, item_id: int, story: int, source: int, guid: str, title: str
    ) -> None: ...
    def add_stored_band(self, key: int, item_id: int) -> None: ...
    def add_stored_fingerprint(
        self, item_id: int, story: int, fingerprint: bytes, source: int, guid: str, title: str
    ) -> None: ...
    def add(self, rank: int, item_id: int, story: int, item: ItemData) -> None: ...
    def story_for(self, item: ItemData) -> int | None: ...


class StoryLinker(Protocol):
    def candidates(self, source: int) -> StoryCandidates:
        """Candidates for a batch of items from *source*."""
        ...


class Unlinked:
    """No linking: every new item starts a story of its own."""

    def add_stored_page(self, url: str, item_id: int, story: int, source: int, guid: str) -> None:
        pass

    def add_stored_text(
        self, content_hash: str, item_id: int, story: int, source: int, guid: str, title: str
    ) -> None:
        pass

    def add_stored_band(self, key: int, item_id: int) -> None:
        pass

    def add_stored_fingerprint(
        self, item_id: int, story: int, fingerprint: bytes, source: int, guid: str, title: str
    ) -> None:
        pass

    def add(self, rank: int, item_id: int, story: int, item: ItemData) -> None:
        pass

    def story_for(self, item: ItemData) -> int | None:
        return None

    def candidates(self, source: int) -> Unlinked:
        return self
