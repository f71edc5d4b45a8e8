"""Search quality, measured on real articles: the BBC dev set replayed as one .jsonl
seed, then 100 of its articles (a fixed sample) looked up by the first four words of
their titles, as someone who half-remembers a headline would."""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

from feedbrief.app import App
from feedbrief.settings import Settings
from tests.conftest import shared_path

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
SAMPLE = 100
SAMPLE_SEED = 13
QUERY_WORDS = 4
FIRST_AT_LEAST = 0.85
TOP_FIVE_AT_LEAST = 0.95


def test_an_article_is_found_by_four_words_of_its_title(database_url: str, tmp_path: Path) -> None:
    data = shared_path("data", "summ-dev-bbc.jsonl")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(data, seeds / data.name)  # a seed is named by its place in the seeds folder
    settings = Settings.model_validate(
        {
            "database": {"url": database_url},
            "seeds": {"dir": str(seeds)},
            "digest": {"dir": str(tmp_path / "digests")},
        }
    )
    records = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    sample = random.Random(SAMPLE_SEED).sample(records, SAMPLE)
    application = App(settings, clock=lambda: NOW)
    try:
        application.pipeline.replay_seeds([seeds / data.name], seeds)
        assert application.storage.count_items() == len(records)
        ranks = []
        for record in sample:
            query = " ".join(record["title"].split()[:QUERY_WORDS])
            hits = application.storage.search(query, limit=5)
            guids = [hit.guid for hit in hits]
            wanted = f"{data.name}#{record['id']}"
            ranks.append(guids.index(wanted) + 1 if wanted in guids else None)
    finally:
        application.close()
    first = sum(rank == 1 for rank in ranks) / SAMPLE
    top_five = sum(rank is not None for rank in ranks) / SAMPLE
    measured = f"first in {first:.0%}, in the top five in {top_five:.0%}"
    print(measured)
    assert first >= FIRST_AT_LEAST, measured
    assert top_five >= TOP_FIVE_AT_LEAST, measured
