"""The size rules of issue 13, checked on every run instead of by a reviewer.

No source file over 600 lines and no function over 80 lines in the production packages.
Exempt, as the issue allows: Alembic revisions (generated schema steps) and the Qt layout
constructors of the UI (``__init__`` of a ``ui`` widget builds its layout in one place).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kernel", "station", "sync", "hub", "demohub", "ui")
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [p for p in files if "migrations/versions" not in p.as_posix()]


def _is_layout_constructor(path: Path, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return path.relative_to(ROOT).parts[0] == "ui" and node.name == "__init__"


def test_the_rules_see_the_packages() -> None:
    # A moved tree must not make the rules below pass by finding nothing.
    assert len(_sources()) > 150


def test_no_source_file_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _sources()
        if (n := p.read_text(encoding="utf-8").count("\n")) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_over_80_lines_outside_qt_layout_constructors() -> None:
    long: dict[str, int] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and not _is_layout_constructor(path, node):
                long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert long == {}
