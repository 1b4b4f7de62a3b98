"""The desktop bundle's entry point: ``dist/fenliu/fenliu`` is ``console.cli.main()``.

PyInstaller freezes this file (packaging/fenliu.spec). With ``FENLIU_BUNDLE_CHECK=1`` in the
environment it runs the bundle's own completeness check instead (packaging/fenliu_bundle_check.py),
which ``tests/packaging`` uses; any other value, or none, runs ``fenliu`` as usual.

On Windows the bundle has a second launcher, ``fenliuw.exe``, built without a console window for
the Start menu: with no arguments it opens the console (``fenliu console``), and since such a
program has no standard streams, its output goes to nowhere and its errors to a log file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

WINDOWED = "fenliuw"


def _windowed_streams() -> None:
    """A program without a console gets None for sys.stdout/sys.stderr; give it real files."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        import platformdirs

        logs = Path(platformdirs.user_log_dir("fenliu", appauthor=False))
        logs.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(logs / f"{WINDOWED}.log", "a", encoding="utf-8")  # noqa: SIM115


def main() -> int:
    if os.environ.get("FENLIU_BUNDLE_CHECK") == "1":
        from fenliu_bundle_check import main as check

        return check()
    from console.cli import main as fenliu

    argv = sys.argv[1:]
    if Path(sys.executable).stem.lower() == WINDOWED:
        _windowed_streams()
        if not argv:
            argv = ["console"]
    return fenliu(argv)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # a spawned child (the what-if, console/server/whatif.py) runs its target
    sys.exit(main())
