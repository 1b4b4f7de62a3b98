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
# Where SQL text may be, and why.
HOME = "console/server/repository/"  # the one home: every statement on the application's tables
STORES = (
    "console/server/store.py",  # SQLite's mechanics: PRAGMAs (connection settings, checkpoints, data_version)
    "console/server/pgstore.py",  # PostgreSQL's: advisory locks and owner rows, catalog, transaction settings
)
ALLOWED = (HOME, *STORES)

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


def application_tables() -> set[str]:
    """Every table of a shop's schema, SQLite's and PostgreSQL's own."""
    from console.server.repository import pg, schema

    statements = (*schema.SCHEMA, *schema.SEARCH_INDEX, *pg.SHOP_OBJECTS_PG)
    return {m.group(1) for sql in statements
            for m in re.finditer(r"CREATE\s+(?:VIRTUAL\s+)?TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)", sql)}


def store_statements_on(tables: set[str], source: str) -> list[str]:
    """The SQL strings of a store module's ``source`` that name one of ``tables``."""
    word = re.compile(r"\b(" + "|".join(sorted(tables)) + r")\b")
    return [f"{line}: {text.strip()[:60]!r}" for line, text in sql_strings(source) if word.search(text)]


def test_the_store_modules_keep_only_mechanics() -> None:
    """store.py and pgstore.py may hold SQL only for what a store is (PRAGMAs, locks, owner rows,
    the catalog): none of their statements names a table of the application (issue 9)."""
    tables = application_tables()
    assert {"messages", "meta", "snapshots", "images", "schema_version"} <= tables
    found = [f"{path}:{hit}" for path in STORES
             for hit in store_statements_on(tables, (REPO_ROOT / path).read_text(encoding="utf-8"))]
    assert not found, "application SQL in a store module (move it to the repository):\n" + "\n".join(found)
    # and the check finds one
    assert store_statements_on(tables, 'db.execute("SELECT value FROM meta WHERE key = ?")')


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
