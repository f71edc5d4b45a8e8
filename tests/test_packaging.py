"""The wheel a packager builds from the checkout: licence, type markers, classifiers; and
the dependencies it declares: every package the code imports, and nothing else."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import zipfile
from email.parser import HeaderParser
from importlib.metadata import packages_distributions
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
    # A new SQLite database is made from this file; without it the first run would fail.
    assert "storage/sqlite_schema.sql" in names
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


def _declared(extras: tuple[str, ...] = ()) -> set[str]:
    """Normalised names of the distributions pyproject.toml declares: the dependencies,
    and those of ``extras`` (following ``feedbrief[...]`` references)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    names = set()
    for requirement in requirements:
        name, own_extras = _REQUIREMENT.match(requirement).groups()
        if _normalised(name) == "feedbrief":
            names |= _declared(tuple(e.strip() for e in own_extras.split(",")))
        else:
            names.add(_normalised(name))
    return names


_REQUIREMENT = re.compile(r"([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?")


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Top-level modules imported anywhere in ``folders`` (in functions and type-checking
    blocks too) that are neither the standard library's nor ours, with the files."""
    ours = {*PACKAGES, "tests", "bench"}
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ours:
                        found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


# Imported for type checkers only, from their stubs: nothing to install.
TYPING_ONLY = {"_typeshed"}


@pytest.mark.parametrize(
    ("folders", "extras"),
    [(PACKAGES, ()), (("tests",), ("test",))],
    ids=["runtime", "tests"],
)
def test_every_imported_package_is_declared(
    folders: tuple[str, ...], extras: tuple[str, ...]
) -> None:
    declared = _declared(extras)
    distributions = packages_distributions()
    undeclared = {
        module: sorted(files)
        for module, files in _imported(folders).items()
        if module not in TYPING_ONLY
        and not {_normalised(d) for d in distributions.get(module, [module])} & declared
    }
    assert undeclared == {}


def test_every_dependency_is_imported() -> None:
    imported = _imported(PACKAGES)
    distributions = packages_distributions()
    used = {_normalised(d) for module in imported for d in distributions.get(module, [module])}
    assert _declared() - used == set()
