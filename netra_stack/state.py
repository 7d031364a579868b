"""Where netra-stack keeps its files: generated override and env files per environment, and port
reservations. A cache, never the record: the engine's labels are."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_VAR = "NETRA_STACK_STATE_DIR"


def state_dir() -> Path:
    """$NETRA_STACK_STATE_DIR, else $XDG_CACHE_HOME/netra-stack, else ~/.cache/netra-stack."""
    base = os.environ.get(STATE_DIR_VAR) or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netra-stack"
    return Path(base)
