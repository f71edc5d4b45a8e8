"""Sources -> clean article records: fetching, parsing, cleaning, fingerprints, scheduling.

Nothing here knows about summaries or the database: every stage returns plain data
(:class:`ingest.records.Article`) for the composition layer to store.
"""
