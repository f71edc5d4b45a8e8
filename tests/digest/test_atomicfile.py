from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from digest.atomicfile import (
    ABANDONED_AFTER_SECONDS,
    NEW_FILE_MODE,
    remove_abandoned,
    write_atomic,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_writes_text_as_utf8(tmp_path: Path) -> None:
    target = tmp_path / "digest.md"
    write_atomic(target, "café — ☕\n")
    assert target.read_bytes() == "café — ☕\n".encode()


def test_writes_bytes_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    write_atomic(target, b"\x00\xff\n")
    assert target.read_bytes() == b"\x00\xff\n"


def test_replaces_existing_contents_and_leaves_only_the_target(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    target.write_text("old and much longer than the new contents")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.xml"]


def test_new_file_is_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "2026-11-25.html"
    write_atomic(target, "<p>hi</p>")
    assert stat.S_IMODE(target.stat().st_mode) == NEW_FILE_MODE


def test_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "private.json"
    target.write_text("{}")
    target.chmod(0o600)
    write_atomic(target, "[]")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_unencodable_text_leaves_old_file_and_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "digest.json"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "lone surrogate \ud800")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digest.json"]


def test_missing_directory_raises_without_creating_anything(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "absent" / "feed.xml", "x")
    assert list(tmp_path.iterdir()) == []


# A write that fails part-way is produced for real by a file-size limit: the kernel accepts
# the first bytes, then refuses the rest with EFBIG. This runs in a child process so that
# the limit cannot touch pytest's own files.
_WRITE_UNDER_SIZE_LIMIT = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    from digest.atomicfile import write_atomic

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    try:
        write_atomic(Path(sys.argv[1]), "n" * 100_000)
    except OSError as exc:
        print(exc.errno)
    """
)


def test_failure_mid_write_leaves_old_file_intact_and_no_temp_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "2026-11-25.json"
    target.write_text('{"old": true}')

    result = subprocess.run(
        [sys.executable, "-c", _WRITE_UNDER_SIZE_LIMIT, str(target)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == str(errno.EFBIG)  # the write really did fail part-way
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in out_dir.iterdir()) == ["2026-11-25.json"]


def test_temporary_files_of_killed_writers_are_removed_once_abandoned(tmp_path: Path) -> None:
    abandoned = tmp_path / ".2026-11-25.json.k3j_x9a2.tmp"
    in_progress = tmp_path / ".feed.xml.ab12cd34.tmp"
    hidden_but_ours_not = tmp_path / ".notes.tmp"
    for path in (abandoned, in_progress, hidden_but_ours_not, tmp_path / "2026-11-25.json"):
        path.write_text("x")
    an_hour_ago = time.time() - ABANDONED_AFTER_SECONDS - 1
    os.utime(abandoned, (an_hour_ago, an_hour_ago))
    os.utime(hidden_but_ours_not, (an_hour_ago, an_hour_ago))

    assert remove_abandoned(tmp_path) == [abandoned]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [in_progress.name, hidden_but_ours_not.name, "2026-11-25.json"]
    )


def test_removing_abandoned_files_from_a_missing_directory_is_a_no_op(tmp_path: Path) -> None:
    assert remove_abandoned(tmp_path / "not-yet") == []
