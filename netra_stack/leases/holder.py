"""Who holds an environment: a process, named by its pid and start time (a lease label), so that
a pid reused by another process is not mistaken for the holder."""

from __future__ import annotations

import os
from pathlib import Path


def process_start(pid: int) -> str:
    """The kernel's start time of a process ('' if it is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def lease_of(pid: int | None = None) -> str:
    """The lease label value naming a holder: pid and start time."""
    pid = pid or os.getpid()
    return f"{pid}:{process_start(pid)}"


def holder_alive(lease: str) -> bool:
    pid, _, start = lease.partition(":")
    return pid.isdigit() and process_start(int(pid)) == start
