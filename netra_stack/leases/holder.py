"""Who holds an environment: a process, named by its pid and start time (a lease label), so that
a pid reused by another process is not mistaken for the holder. The start time is the kernel's
from /proc where there is one (Linux), else psutil's (macOS, Windows, the BSDs), so the watchdog
needs no /proc."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
POSIX = os.name == "posix"  # os.kill(pid, 0) probes there; on Windows it ends the process


def process_start(pid: int, proc: Path = PROC) -> str:
    """The start time of a process ('' if it is gone)."""
    if proc.is_dir():
        try:
            return (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19]
        except (OSError, IndexError):
            return ""
    import psutil  # a dependency where there is no /proc

    try:
        return f"{psutil.Process(pid).create_time():.3f}"
    except psutil.Error:
        return ""


def pid_alive(pid: int, proc: Path = PROC) -> bool:
    """Whether a process of that pid exists (whoever it is)."""
    if proc.is_dir():
        return (proc / str(pid)).is_dir()
    if POSIX:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # someone else's: alive
            return True
        return True
    import psutil

    return psutil.pid_exists(pid)


def lease_of(pid: int | None = None) -> str:
    """The lease label value naming a holder: pid and start time."""
    pid = pid or os.getpid()
    return f"{pid}:{process_start(pid)}"


def holder_alive(lease: str) -> bool:
    pid, _, start = lease.partition(":")
    return pid.isdigit() and process_start(int(pid)) == start
