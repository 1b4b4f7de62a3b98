"""Reading a shop policy file from disk (the routing core itself does no I/O)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from console.routing.policy import Policy, PolicyError, load_policy_toml


def load_policy_file(path: str | PathLike[str]) -> Policy:
    """Read and validate a policy file (TOML). An unreadable file is a PolicyError naming it."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError("", f"cannot read policy file {file}: {exc}") from None
    return load_policy_toml(text)
