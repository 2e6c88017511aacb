"""The domain core imports no AWS and no HTTP: only the standard library, pydantic and holidays."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import smartaccounts_sync.domain as domain

ALLOWED_THIRD_PARTY = {"pydantic", "pydantic_core", "holidays", "smartaccounts_sync"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_only_stdlib_pydantic_and_holidays() -> None:
    files = sorted(Path(domain.__file__).parent.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        outside = _imported_roots(path) - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY
        assert not outside, f"{path.name} imports {outside}"


def test_domain_modules_use_only_domain_siblings() -> None:
    for path in Path(domain.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("smartaccounts_sync"):
                assert node.module.startswith("smartaccounts_sync.domain"), f"{path.name}: {node.module}"
