"""Where Fenliu's bundled resources (policy example, FAQ, styles, translations, icons) live."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """``$FENLIU_RESOURCES``; inside a frozen desktop build, the bundle's copy; else the repo's."""
    override = os.environ.get("FENLIU_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
