"""The wheel a packager builds from the checkout: licence, type markers, classifiers."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("ingest", "dedup", "storage", "summarise", "digest", "feedbrief")


@pytest.mark.slow
def test_the_wheel_carries_licence_type_markers_and_classifiers(tmp_path: Path) -> None:
    # Build isolation on: the wheel is built with the setuptools pyproject asks for.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("feedbrief-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata_name] = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata = HeaderParser().parsestr(archive.read(metadata_name).decode())
        [licence] = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
        assert "MIT License" in archive.read(licence).decode()
    for package in PACKAGES:
        assert f"{package}/py.typed" in names
    assert metadata["License-Expression"] == "MIT"
    classifiers = metadata.get_all("Classifier")
    for classifier in (
        "Operating System :: POSIX :: Linux",
        "Operating System :: MacOS",
        "Programming Language :: Python :: 3.11",
        "Typing :: Typed",
    ):
        assert classifier in classifiers
    assert metadata["Requires-Python"] == ">=3.11"
