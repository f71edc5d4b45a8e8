"""The cyclic garbage collector, paused while the ``feedbrief`` command starts.

Start-up is mostly imports: typer, rich, pydantic and SQLAlchemy build hundreds of
thousands of objects (classes, schemas, mappers) that live as long as the process. Each
few hundred new objects set off a collection that looks them over again and finds no
garbage: in ``run --once`` in an empty folder, some two hundred collections, about a
tenth of the run's time. So the entry point pauses the collector before it imports the
CLI, and each command resumes it once it is set up: ``run`` when the service is wired
(and before it forks any worker: a child would inherit the pause), every other command
before its body runs.

Resuming freezes what start-up built (``gc.freeze``: moved out of the collector's sight,
as the worker pool does before it forks, see ``feedbrief.processes``), so later
collections do not walk it either. Only a pause this module made is ever resumed: code
that calls the CLI without the entry point (the tests) runs with the collector as it
found it.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collections until :func:`resume`."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what exists now and collect automatically again, if :func:`pause` stopped
    it; otherwise do nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
