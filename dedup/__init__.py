"""Is this the same story? Canonical URLs, content fingerprints and the linking rule.

Everything here is pure: it turns an article's URL and text into keys, and decides from
candidates that storage has read which story a new item belongs to. Storage runs the
indexed reads and writes; it is handed :class:`dedup.linking.StoryLinker` at start.
"""
