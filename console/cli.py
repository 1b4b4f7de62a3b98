"""The ``fenliu`` command: one sub-command per module in ``console/commands``.

Each module defines ``register(subparsers)`` that adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning the exit code. Modules import their heavy
dependencies (Qt, websockets, SQLite) inside that callable, so ``fenliu replay`` stays quick.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from console import __version__

COMMAND_MODULES = ("replay", "policy", "server", "shops", "accounts", "sim", "console", "demo", "report", "backup",
                   "catalog")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fenliu", description="Fenliu 分流 reception console and routing server")
    parser.add_argument("--version", action="version", version=f"fenliu {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"console.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"console.commands.{name}":
                continue  # that command is not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from console.stop_with_parent import watch_from_environment

    watch_from_environment()  # a child of `fenliu demo`: gone when the demo is, even a crashed one
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code = func(args)
    except BrokenPipeError:  # `fenliu replay x.json | head`: the reader left, not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
