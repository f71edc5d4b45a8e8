"""On a system without fcntl, fork or pthread_sigmask the command fails in one clear line."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from feedbrief.launch import REQUIRED, available_features, unsupported_platform
from tests.conftest import REPO

EVERYTHING = set(REQUIRED)


@pytest.mark.parametrize(
    ("platform", "available", "expected"),
    [
        ("linux", EVERYTHING, None),
        ("darwin", EVERYTHING, None),
        ("freebsd14", EVERYTHING, None),
        (
            "win32",
            set(),
            "feedbrief runs on Linux and macOS (POSIX) only, not on win32 "
            "(it has no fcntl, os.fork, signal.pthread_sigmask)",
        ),
        ("win32", EVERYTHING, "feedbrief runs on Linux and macOS (POSIX) only, not on win32"),
        (
            "linux",
            EVERYTHING - {"fcntl"},
            "feedbrief runs on Linux and macOS (POSIX) only, not on linux (it has no fcntl)",
        ),
        (
            "emscripten",
            {"fcntl"},
            "feedbrief runs on Linux and macOS (POSIX) only, not on emscripten "
            "(it has no os.fork, signal.pthread_sigmask)",
        ),
    ],
)
def test_unsupported_platform(platform: str, available: set[str], expected: str | None) -> None:
    assert unsupported_platform(platform, available) == expected


def test_this_system_is_supported() -> None:
    assert unsupported_platform(sys.platform, available_features()) is None


SIMULATIONS = {
    "no fcntl": "sys.modules['fcntl'] = None",
    "windows": "sys.platform = 'win32'; sys.modules['fcntl'] = None; del os.fork",
}


@pytest.mark.parametrize("simulation", SIMULATIONS.values(), ids=SIMULATIONS.keys())
@pytest.mark.parametrize(
    "start",
    [
        "from feedbrief.launch import main; main()",
        "import runpy; runpy.run_module('feedbrief', run_name='__main__')",
    ],
    ids=["console script", "python -m feedbrief"],
)
def test_the_command_fails_in_one_line_without_posix(simulation: str, start: str) -> None:
    code = f"import os, sys; {simulation}; sys.argv = ['feedbrief', 'status']; {start}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: feedbrief runs on Linux and macOS (POSIX) only, not on ")
    assert "fcntl" in line


def test_the_console_script_and_classifiers_say_posix() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["feedbrief"] == "feedbrief.launch:main"
    classifiers = set(project["classifiers"])
    assert {
        "Operating System :: POSIX",
        "Operating System :: POSIX :: Linux",
        "Operating System :: MacOS",
    } <= classifiers
    assert not any("Windows" in c or "OS Independent" in c for c in classifiers)
