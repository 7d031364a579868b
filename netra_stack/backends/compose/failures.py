"""The errors of the Docker engine and compose, as the conflict hook sees them."""

from __future__ import annotations

import re

from netra_stack.model.decisions import EngineFailure, FailureKind

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


def parse_failure(text: str) -> EngineFailure:
    """Compose's output of a failed `up`, recognised."""
    for kind, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            return EngineFailure(kind, text, {k: v for k, v in match.groupdict().items() if v})
    return EngineFailure("other", text)


# What an engine lacks, as its error says it, and what in the compose files needs it: said as a
# hint, since no conflict policy can resolve it. The ones found so far are Podman's.
_LACKING: list[tuple[re.Pattern, str]] = [
    (re.compile(r"container-init binary not found"),
     "`init: true` needs an init binary on the engine's machine, which this Podman lacks: install catatonit "
     "there (Debian: apt-get install catatonit), or remove `init: true`"),
    (re.compile(r"moby/buildkit|buildx-stable"),
     "a `build:` needs BuildKit, which this engine does not have: set DOCKER_BUILDKIT=0 to build with the "
     "engine's own builder"),
]


def lacking(text: str) -> str | None:
    """The hint for a failure that is a feature the engine lacks, if it is one."""
    return next((hint for pattern, hint in _LACKING if pattern.search(text)), None)
