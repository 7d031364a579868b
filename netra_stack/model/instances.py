"""What runs, as every backend reports it: instances (a container, a task, a pod) and images
(resource use: usage.py). Plain records: hooks receive these, never an orchestrator's own types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from netra_stack.model import labels as L
from netra_stack.model.decisions import PortBinding


@dataclass(frozen=True)
class Instance:
    """One running (or stopped) instance of a service, as its backend inspected it."""

    id: str
    name: str
    labels: dict[str, str]
    status: str  # created | running | restarting | exited | dead | paused | removing
    exit_code: int | None
    health: str | None  # the orchestrator's healthcheck: starting | healthy | unhealthy | None (none)
    health_output: str  # its last probe's output
    ports: list[PortBinding] = field(default_factory=list)
    created: datetime | None = None
    started: datetime | None = None
    restart_count: int = 0
    healthcheck: tuple[str, ...] = ()  # the healthcheck test, e.g. ("CMD-SHELL", "pg_isready")
    addresses: dict[str, str] = field(default_factory=dict)  # network -> the instance's IP on it
    node: str = ""  # the machine that runs it, where the backend spans several (a swarm node's hostname)

    @property
    def service(self) -> str:
        return L.service_of(self.labels)

    @property
    def environment(self) -> str:
        return self.labels.get(L.ENVIRONMENT) or self.labels.get(L.COMPOSE_PROJECT, "")

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def one_off(self) -> bool:
        """A `compose run` container, not one of the service's own."""
        return self.labels.get(L.COMPOSE_ONEOFF, "False") != "False"

    def healthcheck_argv(self) -> list[str] | None:
        """The healthcheck test as a command to run in the instance, or None."""
        return healthcheck_argv(self.healthcheck)


def healthcheck_argv(test: Sequence[str] | None) -> list[str] | None:
    """A healthcheck test (["CMD", ...], ["CMD-SHELL", "..."]) as a command to run, or None."""
    kind, *rest = test or ("NONE",)
    if kind == "CMD" and rest:
        return list(rest)
    if kind == "CMD-SHELL" and rest:
        return ["/bin/sh", "-c", rest[0]]
    return None


@dataclass(frozen=True)
class ImageInfo:
    id: str
    tags: tuple[str, ...]
    labels: dict[str, str]
