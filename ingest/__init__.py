"""Sources -> clean article records: fetching, parsing, cleaning, seeds, scheduling, and
the pure decision of what a feed refresh stores (``refresh``).

Nothing here knows about summaries or the database: every stage returns plain data
(:class:`ingest.records.Article`) for the composition layer to store.
"""
