"""A day's digest: the stories first seen that day, built from storage, rendered as
Markdown, HTML, JSON and an Atom feed of the digests, and published atomically."""
