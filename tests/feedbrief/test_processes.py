"""Worker processes for parsing and summarising: real forks, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from feedbrief import processes
from feedbrief.pipeline import Pipeline, SummaryPolicy, prepare_articles
from feedbrief.processes import Offload, WorkerDied
from ingest.outcome import Outcome
from ingest.records import Article
from storage import SourceUpdate, Storage, SummaryData
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="worker processes are forked on Linux only"
)


@pytest.fixture
def offload() -> Iterator[Offload]:
    pool = Offload(2)
    yield pool
    pool.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def wait_until(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@contextmanager
def service_running(script: str) -> Iterator[tuple[subprocess.Popen[str], Iterator[str]]]:
    """A service process running *script*, and the lines it prints."""
    service = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert service.stdout is not None
        yield service, iter(service.stdout.readline, "")
    finally:
        service.kill()


def kill_and_expect_gone(service: subprocess.Popen[str], pids: set[int]) -> None:
    service.send_signal(signal.SIGKILL)
    service.wait(10)
    assert wait_until(lambda: not any(alive(pid) for pid in pids)), "orphaned workers"


def pooled(offload: Offload) -> bool:
    """Whether calls run in a worker process rather than in this one."""
    return offload.call(os.getpid) != os.getpid()


def worker_pids(offload: Offload) -> set[int]:
    return {offload.call(os.getpid) for _ in range(20)}


def test_functions_run_in_other_processes(offload: Offload) -> None:
    assert pooled(offload)
    pids = worker_pids(offload)
    assert os.getpid() not in pids
    assert offload.call(divmod, 17, 5) == (3, 2)


def test_one_process_means_in_place() -> None:
    inline = Offload(1)
    assert not pooled(inline)
    assert inline.call(os.getpid) == os.getpid()


def test_an_exception_in_a_worker_reaches_the_caller(offload: Offload) -> None:
    with pytest.raises(ZeroDivisionError):
        offload.call(divmod, 1, 0)
    assert offload.call(divmod, 4, 2) == (2, 0)  # the pool is still whole


def test_a_killed_worker_fails_its_input_and_a_new_pool_takes_over(offload: Offload) -> None:
    before = worker_pids(offload)
    with pytest.raises(WorkerDied):
        offload.call(os._exit, 1)  # whichever worker takes it dies
    assert offload.call(divmod, 17, 5) == (3, 2)  # in place, or already in the new pool
    assert wait_until(lambda: pooled(offload), seconds=60), "the pool was not replaced"
    after = worker_pids(offload)
    assert after and not after & (before | {os.getpid()})
    for pid in after:  # set up like the first workers
        os.kill(pid, signal.SIGTERM)
    time.sleep(0.3)
    assert all(alive(pid) for pid in after)
    assert offload.call(divmod, 9, 3) == (3, 0)


def test_a_pool_that_dies_again_soon_is_replaced_only_later(
    offload: Offload, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(WorkerDied):
        offload.call(os._exit, 1)
    assert wait_until(lambda: pooled(offload), seconds=60)
    monkeypatch.setattr(processes, "REPLACE_AT_MOST_EVERY_SECONDS", 3600.0)
    with pytest.raises(WorkerDied):
        offload.call(os._exit, 1)
    time.sleep(1)
    assert not pooled(offload)
    assert offload.call(os.getpid) == os.getpid()


def test_workers_ignore_the_signals_that_stop_the_service(offload: Offload) -> None:
    pids = worker_pids(offload)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
    time.sleep(0.3)
    assert all(alive(pid) for pid in pids)
    assert offload.call(divmod, 9, 3) == (3, 0)
    assert pooled(offload)


def test_workers_exit_when_the_service_is_killed(tmp_path: Path) -> None:
    script = (
        "import os, sys, time\n"
        "from feedbrief.processes import Offload\n"
        "pool = Offload(2)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    with service_running(script) as (service, output):
        assert next(output).strip() == "ready"
        pids = children(service.pid)
        assert len(pids) == 2 and all(alive(pid) for pid in pids)
        kill_and_expect_gone(service, set(pids))


def test_replacement_workers_exit_when_the_service_is_killed() -> None:
    script = (
        "import os, sys, time\n"
        "from feedbrief.processes import Offload, WorkerDied\n"
        "pool = Offload(2)\n"
        "try:\n"
        "    pool.call(os._exit, 1)\n"
        "except WorkerDied:\n"
        "    pass\n"
        "while pool.call(os.getpid) == os.getpid():\n"
        "    time.sleep(0.05)\n"
        "print('pids', *{pool.call(os.getpid) for _ in range(20)}, flush=True)\n"
        "time.sleep(60)\n"
    )
    with service_running(script) as (service, output):
        line = next(line for line in output if line.startswith("pids"))
        pids = {int(pid) for pid in line.split()[1:]}
        assert pids and all(alive(pid) for pid in pids)
        server = children(service.pid)  # the fork server the new workers came from
        kill_and_expect_gone(service, pids | set(server))


def test_pipeline_stores_the_same_with_workers_as_in_place(
    offload: Offload, tmp_path: Path
) -> None:
    articles = [
        Article(
            guid=f"item-{n}",
            title=f"Council approves bridge plan {n}",
            text="\n\n".join(
                f"The council voted {n} times on the bridge, and paragraph {p} says so at "
                "length, with the details residents asked about at the meeting."
                for p in range(6)
            ),
        )
        for n in range(5)
    ]
    stored = []
    for name, pool in (("inline", Offload(1)), ("pooled", offload)):
        storage = Storage.open(f"sqlite:///{tmp_path / name}.db")
        try:
            pipeline = Pipeline(storage, summary=SummaryPolicy(), offload=pool)
            source = storage.ensure_source("seed", "seed:test", None, pipeline.clock())
            pipeline.store_articles(source, articles, SourceUpdate(checked_at=pipeline.clock()))
            stored.append([(i.guid, i.summary, i.canonical_url) for i in storage.iter_items()])
        finally:
            storage.close()
    assert stored[0] == stored[1]
    assert len(stored[0]) == 5 and all(summary for _, summary, _ in stored[0])


def test_articles_prepared_in_the_parse_trip_are_stored_as_they_are(tmp_path: Path) -> None:
    article = Article(guid="a", title="Bridge", text="The council approved the bridge.")
    stale = Article(guid="b", title="Old", text="An older version of the second story.")
    fresh = Article(guid="b", title="New", text="The second story as the feed has it now.")
    ready = prepare_articles([article, stale], SummaryPolicy())
    ready[0] = replace(ready[0], summary=SummaryData("default", ("Made in the parse trip.",)))
    storage = Storage.open(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        pipeline = Pipeline(storage)
        source = storage.ensure_source("seed", "seed:test", None, pipeline.clock())
        update = SourceUpdate(checked_at=pipeline.clock())
        pipeline.store_changed(source, [article, fresh], update, prepared=ready)
        stored = {item.guid: item for item in storage.iter_items()}
    finally:
        storage.close()
    assert stored["a"].summary == ("Made in the parse trip.",)
    # Prepared for other content: prepared again for what the feed carries now.
    assert stored["b"].title == "New"
    assert stored["b"].summary == ("The second story as the feed has it now.",)


def test_everything_prepared_and_already_stored_is_unchanged(tmp_path: Path) -> None:
    article = Article(guid="a", title="Bridge", text="The council approved the bridge.")
    storage = Storage.open(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        pipeline = Pipeline(storage)
        source = storage.ensure_source("seed", "seed:test", None, pipeline.clock())
        update = SourceUpdate(checked_at=pipeline.clock())
        [first] = pipeline.store_articles(source, [article], update)
        ready = prepare_articles([article], SummaryPolicy())
        [again] = pipeline.store_changed(source, [article], update, prepared=ready)
        assert (first.outcome, again.outcome) == (Outcome.NEW, Outcome.UNCHANGED)
        assert storage.count_items() == 1
    finally:
        storage.close()


def _run_script(script: str) -> list[object]:
    """Run *script* in a fresh interpreter (whose only thread is its own, unlike a test
    runner's) and return the JSON values it printed after "result " (logs go to stdout
    too)."""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [
        json.loads(line.removeprefix("result "))
        for line in result.stdout.splitlines()
        if line.startswith("result ")
    ]


_DEFERRED = """
import json, multiprocessing, os, threading, time
from feedbrief.processes import Offload
calls = []
{threads}
pool = Offload(
    2,
    before_fork={before_fork},
    release=lambda: calls.append("release"),
    deferred=True,
)
print("result", json.dumps([len(multiprocessing.active_children()), calls]))
print("result", json.dumps(pool.call(os.getpid) != os.getpid()))
while pool.call(os.getpid) == os.getpid():
    time.sleep(0.05)
workers = {{pool.call(os.getpid) for _ in range(20)}}
parents = {{
    int(open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()[1]) for pid in workers
}}
print("result", json.dumps([calls, parents == {{os.getpid()}}]))
pool.close()
"""


def test_a_deferred_pool_forks_at_its_first_work_after_warming_up() -> None:
    script = _DEFERRED.format(threads="", before_fork='lambda: calls.append("warm-up")')
    before, first_pooled, (calls, forked_here) = _run_script(script)
    assert before == [0, []]  # no process started and nothing warmed up without work
    assert first_pooled  # the first work already runs in a worker
    # Warmed up in this process, which then forked its workers itself.
    assert calls == ["warm-up", "release"] and forked_here


def test_a_deferred_pool_whose_first_work_finds_threads_starts_from_a_fork_server() -> None:
    threads = "stop = threading.Event()\nthreading.Thread(target=stop.wait, daemon=True).start()"
    before, first_pooled, (calls, forked_here) = _run_script(
        _DEFERRED.format(threads=threads, before_fork="None")
    )
    assert before == [0, []]
    assert not first_pooled  # in place while the fork server starts
    # This process never forked (nothing to release): the workers are the server's.
    assert calls == [] and not forked_here


def test_a_deferred_pool_without_work_starts_nothing() -> None:
    script = (
        "import json, multiprocessing\n"
        "from feedbrief.processes import Offload\n"
        "calls = []\n"
        "pool = Offload(2, before_fork=lambda: calls.append(1), deferred=True)\n"
        "pool.close()\n"
        "print('result', json.dumps([len(multiprocessing.active_children()), calls]))\n"
    )
    assert _run_script(script) == [[0, []]]
