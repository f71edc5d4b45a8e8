"""Summarising a batch of documents on every core: ``feedbrief summarise --jsonl``.

Each document is cleaned as a seed's text is (paragraphs on blank lines, then
:func:`ingest.clean.clean_paragraphs`) and summarised; the documents are spread over
worker processes (``feeds.processes``) and the summaries come back in input order.

The workers are forked once the documents are read, so they already hold them: each is
sent only a range of positions, and sends back that range's summaries. Sending the texts
themselves would cost the parent a pickling of every article, on one of the cores the
workers need. A range's documents are summarised together
(:func:`summarise.summarisers.summarise_texts`), which gives each the summary it gets
alone for about a quarter less CPU time than summarising them one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain

from feedbrief.processes import MAX_CHUNK, Offload, chunk_size
from ingest.clean import clean_paragraphs, clean_title, split_paragraphs
from summarise.summarisers import Length, summarise_text, summarise_texts

__all__ = ["Document", "summarise_document", "summarise_documents"]

# A pool is forked only when each process gets at least this many documents: forking
# and starting a worker costs about as much as summarising a few dozen articles.
MIN_DOCUMENTS_PER_PROCESS = 32

_WARM_UP = (
    "The city council approved the new bridge on Tuesday after a long debate. "
    "Work will start in the spring, officials said, and should take two years.\n\n"
    "Residents had asked for a crossing for cyclists and walkers for a decade. "
    "The old bridge will stay open to traffic while the new one is built."
)


@dataclass(frozen=True, slots=True)
class Document:
    text: str
    title: str | None = None


def summarise_document(document: Document, *, length: Length, algorithm: str) -> list[str]:
    """The summary of one document's cleaned text."""
    body = _cleaned_body(document)
    title = clean_title(document.title) if document.title else None
    return summarise_text(body, length=length, algorithm=algorithm, title=title)


def summarise_documents(
    documents: Sequence[Document], *, length: Length, algorithm: str, processes: int
) -> list[list[str]]:
    """Every document's summary, in order, over at most ``processes`` processes.

    Raises :class:`feedbrief.processes.WorkerDied` if a worker process dies.
    """
    processes = max(1, min(processes, len(documents) // MIN_DOCUMENTS_PER_PROCESS))
    work = partial(summarise_document, length=length, algorithm=algorithm)
    global _documents
    _documents = documents  # what the workers inherit: see the module's docstring
    try:
        # In one process, ranges only bound what a batch holds at once: the largest do.
        size = chunk_size(len(documents), processes) if processes > 1 else MAX_CHUNK
        ranges = [(start, start + size) for start in range(0, len(documents), size)]
        summarise_range = partial(_summarise_range, length=length, algorithm=algorithm)
        if processes == 1:
            return list(chain.from_iterable(map(summarise_range, ranges)))
        # What the first summary loads (stemmer, stop words, weights) is loaded before
        # the pool is forked, once for every worker.
        offload = Offload(processes, before_fork=partial(work, Document(_WARM_UP)))
        try:
            chunks = offload.map(summarise_range, ranges, chunksize=1)
        finally:
            offload.close()
    finally:
        _documents = ()
    return list(chain.from_iterable(chunks))


# The documents of the call to summarise_documents under way, for the workers it forks
# (and for itself, where it cannot fork: Offload then works in place).
_documents: Sequence[Document] = ()


def _summarise_range(bounds: tuple[int, int], *, length: Length, algorithm: str) -> list[list[str]]:
    """The summaries of one range of the documents, summarised together
    (:func:`summarise.summarisers.summarise_texts`), which costs less than one by one."""
    start, end = bounds
    documents = _documents[start:end]
    return summarise_texts(
        [_cleaned_body(document) for document in documents],
        length=length,
        algorithm=algorithm,
        titles=[clean_title(d.title) if d.title else None for d in documents],
    )


def _cleaned_body(document: Document) -> str:
    return "\n\n".join(clean_paragraphs(split_paragraphs(document.text)))
