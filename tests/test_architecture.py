"""The layer boundaries of docs/ARCHITECTURE.md, checked on every test run.

Two checks: import-linter's contracts (``[tool.importlinter]`` in pyproject.toml), and an AST scan
of the pure cores for what an import check cannot see: a clock read or a file opened through a
module that is allowed for other reasons (``datetime``, ``pathlib``, the ``open`` builtin). The pure
cores get their clock (``now``) and their files' contents passed in, which keeps them
deterministic (R8.7) and testable without an event loop. Each check is also run on a small bad
example, so a check that silently stopped working fails here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w

REPO_ROOT = Path(__file__).resolve().parent.parent
PURE_CORES = ("console/routing", "console/reception", "console/protocol")
LAYERS = ("routing", "reception", "protocol", "server", "client", "ui", "sim", "commands")

# Dotted names (or their last two parts) that read the clock.
CLOCK_READS = frozenset(
    {
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.localtime",
        "time.gmtime",
        "datetime.now",
        "datetime.utcnow",
        "datetime.today",
        "date.today",
    }
)
# Calls that open or read files.
FILE_CALLS = frozenset({"open", "io.open", "os.open", "codecs.open"})
FILE_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes"})


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def impure_calls(source: str, filename: str = "<snippet>") -> list[str]:
    """Clock reads and file access in ``source``, as ``file:line: what`` strings.

    Names are resolved through the module's imports, so ``time.monotonic()``,
    ``datetime.datetime.now()``, ``dt.date.today()`` after ``import datetime as dt``, ``mono()``
    after ``from time import monotonic as mono`` and a mere reference (``clock = time.time``) are
    all caught; so are the ``open`` builtin and its cousins and pathlib's read/write helpers.
    """
    tree = ast.parse(source, filename)
    aliases: dict[str, str] = {}  # local name -> what it stands for ("t" -> "time")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                # "import a.b" binds a; "import a.b as c" binds c to a.b
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def resolve(expr: ast.expr) -> str | None:
        name = _dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = aliases.get(head, head)
        return f"{full}.{rest}" if rest else full

    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute | ast.Name):
            name = resolve(node)
            if name is not None and "." in name and ".".join(name.split(".")[-2:]) in CLOCK_READS:
                found.append(f"{where}: clock read {name}")
            elif isinstance(node, ast.Attribute) and node.attr in FILE_METHODS:
                found.append(f"{where}: file access .{node.attr}()")
        if isinstance(node, ast.Call) and resolve(node.func) in FILE_CALLS:
            found.append(f"{where}: file access {resolve(node.func)}()")
    return sorted(set(found))


def _core_modules() -> list[Path]:
    return sorted(path for core in PURE_CORES for path in (REPO_ROOT / core).rglob("*.py"))


def test_pure_cores_read_no_clock_and_open_no_file() -> None:
    found = [
        hit
        for path in _core_modules()
        for hit in impure_calls(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))
    ]
    assert not found, "the pure cores take their clock and files as arguments:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "snippet",
    [
        "import time\nnow = time.time()",
        "import time\nnow = time.monotonic()",
        "import time as t\nclock = t.monotonic",
        "from time import monotonic\nnow = monotonic()",
        "from time import monotonic as mono\nnow = mono()",
        "import datetime\nnow = datetime.datetime.now()",
        "from datetime import datetime\nnow = datetime.utcnow()",
        "from datetime import datetime\nnow = datetime.today()",
        "import datetime as dt\nday = dt.date.today()",
        "from datetime import date\nday = date.today()",
        "data = open('policy.toml').read()",
        "import io\nf = io.open('x')",
        "from pathlib import Path\ntext = Path('x').read_text()",
        "def f(p):\n    p.write_bytes(b'')",
    ],
)
def test_scanner_finds_clock_reads_and_file_access(snippet: str) -> None:
    assert impure_calls(snippet), f"not caught:\n{snippet}"


@pytest.mark.parametrize(
    "snippet",
    [
        "def apply(event, now: float):\n    return now + 1.0",
        "from datetime import datetime, timedelta\ndef f(now: datetime):\n    return now + timedelta(1)",
        "def f(session):\n    session.open = True\n    return session.opened_at",
        "class Q:\n    def time(self):\n        return self.t",
        "import zoneinfo\ntz = zoneinfo.ZoneInfo('Asia/Shanghai')",
    ],
)
def test_scanner_leaves_pure_code_alone(snippet: str) -> None:
    assert impure_calls(snippet) == []


def _lint_imports(cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs import-linter in a child process (its graph building touches sys.path and caches)."""
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")]))
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(no_cache=True, no_logo=True))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_contracts_hold() -> None:
    result = _lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_contracts_catch_violations(tmp_path: Path) -> None:
    """A fake ``console`` package that breaks every contract once, checked with our config."""
    package = tmp_path / "console"
    for layer in LAYERS:
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "routing" / "clock.py").write_text("import time\n")
    (package / "reception" / "store.py").write_text("import sqlite3\n")
    (package / "protocol" / "wire.py").write_text("import websockets\n")
    (package / "server" / "gui.py").write_text("from PySide6 import QtCore\n")
    (package / "ui" / "embedded.py").write_text("import console.server\n")
    (package / "client" / "engine.py").write_text("import console.routing\n")
    # the SQL drivers' allowed homes (each ignored import must exist), and one module outside them
    (package / "server" / "repository").mkdir()
    (package / "server" / "repository" / "__init__.py").write_text("")
    (package / "server" / "repository" / "reception.py").write_text("import sqlite3\nimport psycopg\n")
    for allowed, drivers in (("store", "sqlite3"), ("pgstore", "psycopg"), ("backup", "sqlite3\nimport psycopg")):
        (package / "server" / f"{allowed}.py").write_text(f"import {drivers}\n")
    (package / "server" / "shop.py").write_text("import sqlite3\n")
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]
    (tmp_path / "pyproject.toml").write_text(tomli_w.dumps({"tool": {"importlinter": contracts}}))

    result = _lint_imports(tmp_path, extra_path=tmp_path)

    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    assert f"0 kept, {len(contracts['contracts'])} broken" in report, report
    for line in (
        "console.routing.clock -> time",
        "console.reception.store -> sqlite3",
        "console.protocol.wire -> websockets",
        "console.server.gui -> PySide6",
        "console.ui.embedded -> console.server",
        "console.client.engine -> console.routing",
        "console.server.shop -> sqlite3",
    ):
        assert line in report, report
