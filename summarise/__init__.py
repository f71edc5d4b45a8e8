"""Extractive summaries: sentence splitting, tokenising, language detection, and the
summarisers (feedbrief's own and sumy's), chosen by name through ``summarise_text``.

Nothing here knows about HTTP, the database or the digest: text in, sentences out.
"""
