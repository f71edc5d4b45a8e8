"""Odd files in the seeds folder: only regular files are read, and only as far as the
size limit; loops, folders that cannot be listed and names that are not UTF-8 are
reported, never hung on, crashed on or hidden."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import seeds as seeds_module
from ingest.seeds import SeedError, UnsupportedSeed, find_seeds, load_seed, seed_name
from tests.conftest import REPO

BODY = "Council approves the budget\n\nThe council approved the new budget on Tuesday.\n"
NOT_UTF8 = os.fsdecode(b"caf\xe9.txt")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "seeds"
    path.mkdir()
    (path / "good.txt").write_text(BODY, encoding="utf-8")
    return path


@pytest.mark.timeout(30)
def test_a_fifo_is_skipped_as_not_a_regular_file_without_waiting_for_a_writer(
    folder: Path,
) -> None:
    fifo = folder / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(UnsupportedSeed, match="not a regular file but a FIFO"):
        load_seed(fifo, folder)


def test_a_symlink_to_a_device_is_refused_before_anything_is_read(folder: Path) -> None:
    link = folder / "zero.txt"
    link.symlink_to("/dev/zero")
    with pytest.raises(UnsupportedSeed, match="not a regular file but a device"):
        load_seed(link, folder)


def test_the_size_limit_counts_what_is_read_not_what_stat_says(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/proc files are regular files whose stat size is 0, whatever they hold."""
    proc = Path("/proc/self/maps")
    if not proc.exists() or proc.stat().st_size != 0:
        pytest.skip("needs a /proc file that reports size 0")
    monkeypatch.setattr(seeds_module, "MAX_SEED_BYTES", 64)
    link = folder / "maps.txt"
    link.symlink_to(proc)
    with pytest.raises(SeedError, match="over the 64-byte limit"):
        load_seed(link, folder)


def test_a_symlinked_file_is_read_and_named_by_its_target(folder: Path, tmp_path: Path) -> None:
    (folder / "link.txt").symlink_to(folder / "good.txt")
    document = load_seed(folder / "link.txt", folder)
    assert document.name == "good.txt"
    assert document.articles[0].title == "Council approves the budget"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda f: (f / "loop.txt").symlink_to(f / "loop.txt"), "symlink loop"),
        (lambda f: (f / "up").symlink_to(f), "symlink loop: the link leads back"),
        (lambda f: (f / "gone.txt").symlink_to(f / "missing.txt"), "cannot read file"),
    ],
    ids=["file-loop", "folder-loop", "broken"],
)
def test_a_scan_reports_what_it_cannot_walk_and_goes_on(
    folder: Path, make: object, reason: str
) -> None:
    make(folder)  # type: ignore[operator]
    found = list(find_seeds(folder))
    (odd,) = [p for p in found if p.name != "good.txt"]
    assert len(found) == 2
    with pytest.raises(SeedError, match=reason):
        load_seed(odd, folder)


def test_a_symlinked_folder_is_walked_once(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "more"
    other.mkdir()
    (other / "extra.md").write_text("# Extra\n\nMore news.\n", encoding="utf-8")
    (folder / "a").symlink_to(other)
    (folder / "b").symlink_to(other)
    names = [seed_name(p, folder) for p in find_seeds(folder)]
    assert names.count(str(other / "extra.md")) == 2  # two names, one file: one seed name
    assert "good.txt" in names


def test_a_name_that_is_not_utf8_is_read_and_named_by_its_escaped_form(folder: Path) -> None:
    path = folder / NOT_UTF8
    path.write_text(BODY, encoding="utf-8")
    assert [p.name for p in find_seeds(folder)] == [NOT_UTF8, "good.txt"]
    document = load_seed(path, folder)
    assert document.name == "caf\\xe9.txt"
    assert document.name.encode("utf-8")  # text a log, a table and the database take
    json.dumps(document.name, ensure_ascii=False).encode("utf-8")


# Root lists any folder: the child walks it as an ordinary user, as the service runs,
# dropping root's rights once its imports are done.
UNLISTABLE = """
import json, os, sys
from pathlib import Path
from ingest.seeds import SeedError, find_seeds, load_seed
folder = Path(sys.argv[1])
load_seed(folder / "good.txt", folder)  # what it loads on first use, loaded as root
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
rows = []
for path in find_seeds(folder):
    try:
        load_seed(path, folder)
        rows.append([path.name, "ok"])
    except SeedError as exc:
        rows.append([path.name, str(exc)])
print(json.dumps(rows))
"""


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A seeds folder another user may walk: pytest's own are private to their owner."""
    root = Path(tempfile.mkdtemp(prefix="feedbrief-seeds-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        for path in root.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)


def test_a_folder_that_cannot_be_listed_is_reported_and_the_rest_read(
    shared_folder: Path,
) -> None:
    (shared_folder / "a-private").mkdir()
    (shared_folder / "a-private" / "hidden.txt").write_text(BODY, encoding="utf-8")
    (shared_folder / "a-private").chmod(0)
    (shared_folder / "good.txt").write_text(BODY, encoding="utf-8")
    (shared_folder / "good.txt").chmod(0o644)
    result = subprocess.run(
        [sys.executable, "-c", UNLISTABLE, str(shared_folder)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1]) == [
        ["a-private", "cannot read folder: Permission denied"],
        ["good.txt", "ok"],
    ]
