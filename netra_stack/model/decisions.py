"""The values that policy hooks exchange with the lifecycle: decisions, failures, bindings.

Plain dataclasses, no orchestrator's types: plugins construct and return them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class BuildDecision:
    """Whether to build a service before it starts, and how; `labels` go on the built image
    (the built-in policy records the build's fingerprint there)."""

    build: bool
    no_cache: bool = False
    reason: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildOutcome:
    """What became of one service's build on `up` or `rebuild`: built or not, why, in how long."""

    service: str
    built: bool
    reason: str
    seconds: float = 0.0
    no_cache: bool = False

    def as_dict(self) -> dict:
        return {"service": self.service, "built": self.built, "reason": self.reason, "seconds": self.seconds,
                "no_cache": self.no_cache}


MAX_UP_ATTEMPTS = 3  # `up` is tried at most this often while the conflict policy says "retry"


@dataclass(frozen=True)
class ConflictResolution:
    """What to do about a conflict: retry (after what was done), or give up."""

    action: Literal["retry", "fail"]
    reason: str = ""
    replan_ports: bool = False  # choose host ports again before retrying
    removed: tuple[str, ...] = ()  # what was removed to clear the way (names or ids)


def is_loopback(host: str) -> bool:
    """Whether an address (or `localhost`) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        return False


@dataclass(frozen=True)
class PortBinding:
    """A container port bound on the host, as the engine reports it."""

    service: str
    container_port: int
    protocol: str
    host_ip: str
    host_port: int

    @property
    def address(self) -> str:
        """Where the port is reached from this machine: a port bound on every address, on loopback."""
        return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host_ip, self.host_ip)

    def as_dict(self) -> dict:
        return {"service": self.service, "container_port": self.container_port, "protocol": self.protocol,
                "host_ip": self.host_ip, "host_port": self.host_port}


FailureKind = Literal[
    "name_conflict", "port_allocated", "address_in_use", "network_active_endpoints",
    "network_wrong_labels", "dependency_failed", "other",
]

@dataclass(frozen=True)
class EngineFailure:
    """An orchestrator's error, recognised by its backend: what kind, and the names, ids and
    ports it mentions.

    kind is one of name_conflict (details: name, id of the holder), port_allocated and
    address_in_use (address, port), network_active_endpoints and network_wrong_labels (network),
    dependency_failed (service: a one-shot service another waits for exited non-zero), or
    other; text is compose's whole output."""

    kind: FailureKind
    text: str
    details: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """The most telling line of compose's output."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        for line in reversed(lines):
            if "rror" in line or "failed" in line or "already" in line:
                return line
        return lines[-1] if lines else "(no output)"


@dataclass(frozen=True)
class Recommendation:
    """`advise`'s limits for one service, from its recorded runs; the netra_adjust_recommendation
    hook may return a changed one, or one with `vetoed` set to keep the current limits."""

    service: str
    memory_bytes: int | None  # the recommended memory limit; None: no recommendation
    cpus: float | None  # the recommended CPU limit in cores; None: no recommendation
    current_memory_bytes: int | None  # the limit the runs had; None: none
    current_cpus: float | None
    peak_memory_bytes: int  # the highest of every run
    sustained_cpus: float  # cores: the 95th percentile of the CPU samples
    runs: int  # how many records it comes from
    flags: tuple[str, ...] = ()  # e.g. "OOM-killed in 2 of 3 runs", "throttled", "limit 8x its peak"
    vetoed: str = ""  # why the current limits stay (a plugin's reason)
