"""Who holds an environment: a process, named by its pid, start time and machine (a lease label,
`pid:start@host`), so that a pid reused by another process is not mistaken for the holder, and a
holder on another machine (several machines may share a remote engine) is never judged from this
one: only the watchdog beside it, on its machine, reaps its environments. The start time is the kernel's
from /proc where there is one (Linux), else psutil's (macOS, Windows, the BSDs), so the watchdog
needs no /proc."""

from __future__ import annotations

import os
import socket
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
    """The lease label value naming a holder: pid, start time and this machine."""
    pid = pid or os.getpid()
    return f"{pid}:{process_start(pid)}@{socket.gethostname()}"


def holder_alive(lease: str) -> bool:
    """Whether the holder runs; a holder on another machine is taken as alive (its own watchdog
    judges it). A lease without a machine is this one's."""
    holder, _, host = lease.partition("@")
    if host and host != socket.gethostname():
        return True
    pid, _, start = holder.partition(":")
    return pid.isdigit() and process_start(int(pid)) == start
