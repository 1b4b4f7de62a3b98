"""The fault harness (``tests/faults``) for the reliability tests.

The tests run the same scenario functions as ``bench/faults.py --json``, with fewer faults, so
the suite and the long run check exactly the same guarantees (docs/RELIABILITY.md).
"""

from __future__ import annotations

from types import ModuleType

import pytest

import tests.faults


@pytest.fixture(scope="session")
def faults() -> ModuleType:
    return tests.faults
