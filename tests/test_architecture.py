"""The layout rules of the README's architecture section, held by the code itself.

Data flows ingest -> dedup -> storage -> summarise -> digest -> feedbrief: a package may
import the ones before it, never one after it, and storage imports nothing of ours (it
is handed the linking rule). No module imports a library's private module or name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

STAGES = ("ingest", "dedup", "storage", "summarise", "digest", "feedbrief")
# Storage's modules stay small enough to read whole (one domain each).
MAX_STORAGE_LINES = 450


def modules(package: str) -> list[Path]:
    return sorted(path for path in (REPO / package).rglob("*.py"))


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module an import statement names (``from x import y`` names ``x`` and
    ``x.y``, as ``y`` may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


@pytest.mark.parametrize("package", STAGES)
def test_no_package_imports_a_later_stage(package: str) -> None:
    allowed = set(STAGES[: STAGES.index(package) + 1])
    if package == "storage":
        allowed = {"storage"}
    ours = set(STAGES)
    wrong = [
        f"{path.relative_to(REPO)}:{line}: {name}"
        for path in modules(package)
        for line, name in imports(path)
        if name.split(".")[0] in ours and name.split(".")[0] not in allowed
    ]
    assert wrong == []


def test_storage_modules_are_small() -> None:
    sizes = {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for path in modules("storage")
    }
    assert {name: n for name, n in sizes.items() if n > MAX_STORAGE_LINES} == {}


@pytest.mark.parametrize("package", STAGES)
def test_no_private_module_or_name_of_a_library_is_imported(package: str) -> None:
    ours = set(STAGES)
    private = [
        f"{path.relative_to(REPO)}:{line}: {name}"
        for path in modules(package)
        for line, name in imports(path)
        if name.split(".")[0] not in ours
        and any(part.startswith("_") and not part.startswith("__") for part in name.split("."))
    ]
    assert private == []
