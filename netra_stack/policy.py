"""The values that policy hooks exchange with the engine: decisions, failures, bindings.

Plain dataclasses, no Docker: plugins construct and return them.
"""

from __future__ import annotations

import re
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


@dataclass(frozen=True)
class PortBinding:
    """A container port bound on the host, as the engine reports it."""

    service: str
    container_port: int
    protocol: str
    host_ip: str
    host_port: int

    def as_dict(self) -> dict:
        return {"service": self.service, "container_port": self.container_port, "protocol": self.protocol,
                "host_ip": self.host_ip, "host_port": self.host_port}


FailureKind = Literal[
    "name_conflict", "port_allocated", "address_in_use", "network_active_endpoints",
    "network_wrong_labels", "dependency_failed", "other",
]

_PATTERNS: list[tuple[FailureKind, re.Pattern]] = [
    ("name_conflict", re.compile(
        r'container name "/?(?P<name>[^"]+)" is already in use by container "(?P<id>[0-9a-f]+)"')),
    ("port_allocated", re.compile(r"Bind for (?P<address>\S+?):(?P<port>\d+) failed: port is already allocated")),
    ("address_in_use", re.compile(
        r"(?:listen tcp\d?|bind)\s*(?:(?P<address>[\[\]0-9a-f.:]*?):(?P<port>\d+))?.*?address already in use", re.S)),
    ("network_active_endpoints", re.compile(r"network (?P<network>\S+)(?: id \S+)? has active endpoints")),
    ("network_wrong_labels", re.compile(
        r"network (?P<network>\S+) was found but has incorrect label (?P<label>\S+)")),
    ("dependency_failed", re.compile(r'service "(?P<service>[^"]+)" didn\'t complete successfully')),
]


@dataclass(frozen=True)
class EngineFailure:
    """An engine or compose error, recognised: what kind, and the names/ids/ports it mentions.

    kind is one of name_conflict (details: name, id of the holder), port_allocated and
    address_in_use (address, port), network_active_endpoints and network_wrong_labels (network),
    dependency_failed (service: a one-shot service another waits for exited non-zero), or
    other; text is compose's whole output."""

    kind: FailureKind
    text: str
    details: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> EngineFailure:
        for kind, pattern in _PATTERNS:
            match = pattern.search(text)
            if match:
                details = {k: v for k, v in match.groupdict().items() if v}
                return cls(kind, text, details)
        return cls("other", text)

    def summary(self) -> str:
        """The most telling line of compose's output."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        for line in reversed(lines):
            if "rror" in line or "failed" in line or "already" in line:
                return line
        return lines[-1] if lines else "(no output)"
