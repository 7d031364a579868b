"""Built-in port policy: choose host ports by strategy; discover them from the engine."""

from __future__ import annotations

import random
import socket

from ..errors import NetraError
from ..hookspecs import hookimpl
from ..plan import EPHEMERAL


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
        if port not in taken and is_free(port, profile.ports.host_ip):
            return port
    raise NetraError(
        f"{profile.source}: ports.range = [{low}, {high}]: no free host port for {request.key}",
        hint="widen the range or stop what holds those ports",
    )


@hookimpl(trylast=True)
def netra_discover_ports(environment, containers):
    return [binding for container in containers for binding in container.ports]
