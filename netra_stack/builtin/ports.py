"""Built-in port policy: choose host ports by strategy; discover them from the engine.

Across processes, a port chosen from a range is reserved (a file created exclusively under the
state directory, naming the process) from the moment it is chosen until the engine holds it
(after up) or the environment is gone, so that parallel runs on one machine never pick the same
port in the window between choosing and binding. A reservation whose process has died, or that
is older than RESERVATION_TTL, is taken over.
"""

from __future__ import annotations

import atexit
import os
import random
import socket
import time
from pathlib import Path

from ..errors import NetraError
from ..hookspecs import hookimpl
from ..plan import EPHEMERAL
from ..state import state_dir

RESERVATION_TTL = 600.0  # seconds
_reserved: set[Path] = set()  # this process's reservations


def _reservations() -> Path:
    folder = state_dir() / "ports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stale(path: Path) -> bool:
    try:
        pid = int(path.read_text().split()[0])
        if time.time() - path.stat().st_mtime > RESERVATION_TTL:
            return True
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError, IndexError):  # gone meanwhile, or unreadable: leave it to its owner
        return False
    return False


def reserve(port: int) -> bool:
    """Reserve a host port for this process; False if another live process holds it."""
    path = _reservations() / str(port)
    for _ in range(2):
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if path in _reserved:
                return True
            if not _stale(path):
                return False
            path.unlink(missing_ok=True)
            continue
        os.write(handle, f"{os.getpid()} {time.time():.0f}\n".encode())
        os.close(handle)
        _reserved.add(path)
        return True
    return False


@atexit.register
def release_reservations() -> None:
    for path in list(_reserved):
        path.unlink(missing_ok=True)
    _reserved.clear()


def port_holder(port: int) -> str | None:
    """Which process listens on a TCP port, where this machine lets us know (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir() if inodes else ():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return f"pid {proc.name} ({(proc / 'comm').read_text().strip()})"
        except OSError:
            continue
    return None


def is_free(port: int, host_ip: str = "127.0.0.1") -> bool:
    """Nobody listens on the port: binding it succeeds, on the profile's address and on all."""
    for address in {host_ip, "0.0.0.0"}:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, port))
            except OSError:
                return False
    return True


@hookimpl(trylast=True)
def netra_allocate_port(request, profile, taken):
    if request.strategy == "fixed":
        return request.host
    if request.strategy == "ephemeral":
        return EPHEMERAL
    low, high = profile.ports.range
    candidates = list(range(low, high + 1))
    random.shuffle(candidates)  # parallel runs start from different places
    for port in candidates[:2000]:
        if port not in taken and is_free(port, profile.ports.host_ip) and reserve(port):
            return port
    raise NetraError(
        f"{profile.source}: ports.range = [{low}, {high}]: no free host port for {request.key}",
        hint="widen the range or stop what holds those ports",
    )


@hookimpl(trylast=True)
def netra_after_up(plan, ports):
    release_reservations()  # the engine holds the ports now


@hookimpl(trylast=True)
def netra_after_down(environment):
    release_reservations()


@hookimpl(trylast=True)
def netra_discover_ports(environment, containers):
    return [binding for container in containers for binding in container.ports]
