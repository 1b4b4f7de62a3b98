"""All SQL lives in one home (issue 9): the ``console.server.repository`` package, beside the
store modules' own mechanics. An AST scan of ``console/`` finds every string that reads as an SQL
statement anywhere else and names its file and line; the import contract in pyproject.toml keeps
``sqlite3`` and ``psycopg`` out of the rest of ``console.server``. The scan is also run on a small
bad example, so a scan that silently stopped finding fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The one home, and the store modules (transactions, PRAGMAs, checkpoints, PostgreSQL's adaptation).
ALLOWED = ("console/server/repository/", "console/server/store.py", "console/server/pgstore.py")

# A statement: its verb first, or a clause that only SQL has.
_STATEMENT = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA)\s"
    r"|\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|TRIGGER))\b",
    re.DOTALL,
)


def sql_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal (or f-string piece) in ``source`` that is SQL."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _STATEMENT.search(node.value):
            found.append((node.lineno, node.value))
    return found


def _strays() -> list[str]:
    strays: list[str] = []
    for path in sorted((REPO_ROOT / "console").rglob("*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel.startswith(ALLOWED):
            continue
        for line, text in sql_strings(path.read_text(encoding="utf-8")):
            strays.append(f"{rel}:{line}: {text.strip()[:60]!r}")
    return strays


def test_sql_lives_only_in_the_repository_package() -> None:
    strays = _strays()
    assert not strays, "SQL outside console/server/repository (move it there):\n" + "\n".join(strays)


@pytest.mark.parametrize("snippet", [
    'db.execute("SELECT id FROM buyers WHERE name = ?", (n,))',
    'q = f"SELECT {cols} FROM audit WHERE at >= ?"',
    'store.execute("INSERT OR IGNORE INTO images (sha256) VALUES (?)")',
    'sql = ("UPDATE phrases SET pinned = ?"\n       " WHERE id = ?")',
    'store.execute("DELETE FROM agent_events WHERE seq <= ?")',
])
def test_scan_finds_sql(snippet: str) -> None:
    assert sql_strings(snippet)


@pytest.mark.parametrize("snippet", [
    'SELECTED = QColor("#e3edfb")',
    'label = tr("Select a buyer from the list")',
    'msg = "update the policy, then delete the old file"',
])
def test_scan_leaves_prose_alone(snippet: str) -> None:
    assert not sql_strings(snippet)
