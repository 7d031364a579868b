"""Built-in port policy: choose host ports by strategy; discover them from the engine.

A port chosen from a range is reserved for the plan (netra_stack.leases.reservations) until its
environment is up or gone, so that parallel runs on one machine never pick the same port in the
window between choosing and binding.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

from netra_stack.model.errors import NetraError
from netra_stack.planning.plan import EPHEMERAL
from netra_stack.plugins.hookspecs import hookimpl


def port_holder(port: int, proc: Path = Path("/proc")) -> str | None:
    """Which process listens on a TCP port, where this machine lets us know (Linux /proc); None
    elsewhere (the callers say "another process")."""
    inodes = set()
    for table in (proc / "net" / "tcp", proc / "net" / "tcp6"):
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for process in proc.iterdir() if inodes else ():
        if not process.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (process / "fd").iterdir()):
                return f"pid {process.name} ({(process / 'comm').read_text().strip()})"
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
def netra_allocate_port(request, profile, taken, reservations):
    if request.strategy == "fixed":
        return request.host
    if request.strategy == "ephemeral":
        return EPHEMERAL
    low, high = profile.ports.range
    candidates = list(range(low, high + 1))
    random.shuffle(candidates)  # parallel runs start from different places
    for port in candidates[:2000]:
        if port not in taken and is_free(port, profile.ports.host_ip) and reservations.reserve(port):
            return port
    raise NetraError(
        f"{profile.source}: ports.range = [{low}, {high}]: no free host port for {request.key}",
        hint="widen the range or stop what holds those ports",
    )


@hookimpl(trylast=True)
def netra_discover_ports(environment, containers):
    return [binding for container in containers for binding in container.ports]
