"""Where netra-stack keeps its files: generated files per environment (a backend's, the health
memory) and port reservations. A cache, never the record: the engine's labels are."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STATE_DIR_VAR = "NETRA_STACK_STATE_DIR"


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$NETRA_STACK_STATE_DIR, else $XDG_CACHE_HOME/netra-stack, else ~/.cache/netra-stack, as
    `environ` (default: this process's environment) says."""
    environ = os.environ if environ is None else environ
    base = environ.get(STATE_DIR_VAR) or Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netra-stack"
    return Path(base)
