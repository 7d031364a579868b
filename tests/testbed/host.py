"""What the test beds share on the host: ending the processes they started, by pid, and
unmounting what those left under a folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path


def state(pid: int) -> str:
    """The process's state letter from /proc (Z: a zombie), or X when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not a child of this process, or already reaped
        pass


def _running(pid: int) -> bool:
    _reap(pid)
    return state(pid) not in ("Z", "X")


def _send(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # ended
        pass


def end(pids: Iterable[int], grace: float = 30.0) -> None:
    """SIGTERM each process, SIGKILL those still running after `grace` seconds; children reaped."""
    pids = list(pids)
    for pid in pids:
        _send(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _running(pid):
            _send(pid, signal.SIGKILL)
        _reap(pid)


def unmount_under(folder: Path) -> None:
    """Lazily unmount every mount point in `folder`, deepest first."""
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for point in sorted((p for p in points if p.startswith(f"{folder}/")), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
