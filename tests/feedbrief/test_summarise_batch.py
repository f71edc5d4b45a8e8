"""``feedbrief summarise --jsonl`` over worker processes: the same output as in one."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feedbrief.batch import MIN_DOCUMENTS_PER_PROCESS, Document, summarise_documents
from feedbrief.cli import app
from feedbrief.processes import Offload
from ingest.clean import split_paragraphs
from summarise.summarisers import Length
from tests.conftest import SEED

runner = CliRunner()


def _records(count: int) -> list[dict[str, str]]:
    """Documents made of the seed's paragraphs, each its own selection and order, some
    with a title; noisy as the seed is, so that cleaning has work to do."""
    paragraphs = split_paragraphs(SEED.read_text(encoding="utf-8"))
    rng = random.Random(15)
    records = []
    for i in range(count):
        chosen = rng.sample(paragraphs[1:45], k=rng.randint(3, 20))  # the article, captions too
        record = {"id": f"doc-{i}", "text": "\n\n".join(chosen)}
        if i % 3:
            record["title"] = paragraphs[0]
        records.append(record)
    return records


def _summarise(tmp_path: Path, source: Path, processes: int) -> str:
    config = tmp_path / f"processes-{processes}.toml"
    config.write_text(f"[feeds]\nprocesses = {processes}\n", encoding="utf-8")
    target = tmp_path / f"out-{processes}.jsonl"
    args = ["summarise", "--jsonl", str(source), "--out", str(target), "--sentences", "3"]
    result = runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return target.read_text(encoding="utf-8")


def test_one_and_two_workers_write_the_same_summaries_in_input_order(tmp_path: Path) -> None:
    records = _records(3 * MIN_DOCUMENTS_PER_PROCESS)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    one = _summarise(tmp_path, source, 1)
    two = _summarise(tmp_path, source, 2)
    assert one == two
    lines = [json.loads(line) for line in one.splitlines()]
    assert [line["id"] for line in lines] == [r["id"] for r in records]
    assert all(1 <= len(line["summary"]) <= 3 for line in lines)
    # cleaned first: the captions' `¿` are quotes again
    assert not any("¿" in s for line in lines for s in line["summary"])


def test_the_summaries_are_those_of_each_document_alone() -> None:
    documents = [Document(r["text"], r.get("title")) for r in _records(70)]
    length = Length(sentences=2)
    alone = [
        summarise_documents([d], length=length, algorithm="default", processes=1)[0]
        for d in documents
    ]
    assert summarise_documents(documents, length=length, algorithm="default", processes=2) == alone


def _pid(_: int) -> int:
    return os.getpid()


@pytest.mark.parametrize("processes", [1, 2])
def test_offload_map_keeps_order_and_runs_out_of_process_with_a_pool(processes: int) -> None:
    offload = Offload(processes)
    try:
        assert offload.map(str, range(200), chunksize=1) == [str(i) for i in range(200)]
        pids = set(offload.map(_pid, range(50)))
    finally:
        offload.close()
    if processes == 1:
        assert pids == {os.getpid()}
    else:
        assert os.getpid() not in pids and 1 <= len(pids) <= 2
