"""Where netra-stack keeps its files: generated files per environment (a backend's, the health
memory) and port reservations. A cache, never the record: the engine's labels are."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

STATE_DIR_VAR = "NETRA_STACK_STATE_DIR"


def state_dir(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> Path:
    """$NETRA_STACK_STATE_DIR, else the platform's cache directory: $XDG_CACHE_HOME/netra-stack or
    ~/.cache/netra-stack (Linux, the BSDs), ~/Library/Caches/netra-stack (macOS),
    %LOCALAPPDATA%\\netra-stack (Windows), as `environ` (default: this process's environment) says."""
    environ = os.environ if environ is None else environ
    if environ.get(STATE_DIR_VAR):
        return Path(environ[STATE_DIR_VAR])
    if platform == "darwin":
        return Path.home() / "Library" / "Caches" / "netra-stack"
    if platform == "win32":
        return Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "netra-stack"
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netra-stack"
