"""Host ports reserved for one plan, across processes, in the window between choosing a port and
the engine binding it: an exclusively created file per port under the state directory
(`ports/<port>`, holding the pid). A plan's reservations are released once its environment is up
(the engine holds the ports then) or gone; those of dead processes, or older than
RESERVATION_TTL, are taken over."""

from __future__ import annotations

import atexit
import os
import time
import weakref
from pathlib import Path

from netra_stack.leases.holder import pid_alive

RESERVATION_TTL = 600.0  # seconds


def _stale(path: Path) -> bool:
    try:
        pid = int(path.read_text().split()[0])
        return time.time() - path.stat().st_mtime > RESERVATION_TTL or not pid_alive(pid)
    except (OSError, ValueError, IndexError):  # gone meanwhile, or unreadable: leave it to its owner
        return False


class PortReservations:
    """The host ports one plan has reserved."""

    def __init__(self, state: Path) -> None:
        self.folder = state / "ports"
        self.held: set[int] = set()
        _open.add(self)

    def reserve(self, port: int) -> bool:
        """Reserve a host port for this plan; False if another live process (or plan) holds it."""
        if port in self.held:
            return True
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / str(port)
        for _ in range(2):
            try:
                handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not _stale(path):
                    return False
                path.unlink(missing_ok=True)
                continue
            os.write(handle, f"{os.getpid()} {time.time():.0f}\n".encode())
            os.close(handle)
            self.held.add(port)
            return True
        return False

    def release(self) -> None:
        for port in self.held:
            (self.folder / str(port)).unlink(missing_ok=True)
        self.held.clear()


_open: weakref.WeakSet[PortReservations] = weakref.WeakSet()  # a process that ends holds nothing


@atexit.register
def _release_all() -> None:
    for reservations in list(_open):
        reservations.release()
