"""The fault injector (``bench/faults.py``) as a module for the reliability tests.

The tests run the same scenario functions as ``bench/faults.py --json``, with fewer faults, so
the suite and the long run check exactly the same guarantees (docs/RELIABILITY.md).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FAULTS_FILE = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


def load_faults() -> ModuleType:
    module = sys.modules.get("fenliu_faults")
    if module is None:
        spec = importlib.util.spec_from_file_location("fenliu_faults", FAULTS_FILE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["fenliu_faults"] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def faults() -> ModuleType:
    return load_faults()
