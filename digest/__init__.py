"""A day's digest: the stories first seen that day that count (fresh, not blocked), ranked
by coverage and laid out as a front page within a reading budget; built from storage,
rendered as Markdown, HTML (the front page and the day's full list), JSON and an Atom
feed of the front pages, and published atomically."""
