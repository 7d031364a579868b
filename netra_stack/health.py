"""The health model: states, per-service results, the environment's report, and the wait loop.

Three levels (the seed's): container (Docker's own healthcheck), service (the profile's health
command, run inside the container by the health hook), system (the whole environment).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import ContainerInfo


class HealthState(str, Enum):
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    STARTING = "STARTING"
    STOPPED = "STOPPED"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one service-level health command."""

    ok: bool
    output: str
    latency_ms: float
    exit_code: int | None = None


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    state: HealthState
    detail: str = ""  # why, in a few words
    container: str = ""  # container name
    container_state: str = "missing"  # the engine's status: running, exited, ...
    exit_code: int | None = None
    docker_health: str | None = None  # starting | healthy | unhealthy | None (no healthcheck)
    docker_probe: str = ""  # Docker's last probe output
    check: CheckResult | None = None  # the service-level command's last result
    logs: str = ""  # recent log lines, filled in when a wait fails

    @property
    def failed(self) -> bool:
        """A state that waiting longer will not fix: an exit, or Docker's own verdict of unhealthy."""
        return self.state is HealthState.STOPPED or self.docker_health == "unhealthy"

    def as_dict(self) -> dict:
        return {
            "service": self.service, "state": self.state.value, "detail": self.detail,
            "container": self.container, "container_state": self.container_state, "exit_code": self.exit_code,
            "docker_health": self.docker_health, "docker_probe": self.docker_probe,
            "check": None if self.check is None else {
                "ok": self.check.ok, "output": self.check.output, "latency_ms": round(self.check.latency_ms, 1),
                "exit_code": self.check.exit_code},
            "logs": self.logs,
        }


@dataclass(frozen=True)
class HealthReport:
    environment: str
    profile: str
    services: list[ServiceHealth] = field(default_factory=list)

    @property
    def state(self) -> HealthState:
        """The system level: HEALTHY only when every service is."""
        states = {s.state for s in self.services}
        if not self.services or HealthState.STOPPED in states:
            return HealthState.STOPPED
        if HealthState.UNHEALTHY in states:
            return HealthState.UNHEALTHY
        if HealthState.STARTING in states:
            return HealthState.STARTING
        return HealthState.HEALTHY

    @property
    def healthy(self) -> bool:
        return self.state is HealthState.HEALTHY

    def not_healthy(self) -> list[ServiceHealth]:
        return [s for s in self.services if s.state is not HealthState.HEALTHY]

    def as_dict(self) -> dict:
        return {"environment": self.environment, "profile": self.profile, "state": self.state.value,
                "services": [s.as_dict() for s in self.services]}

    def explain(self) -> str:
        """One line per service that is not healthy: what state, and why."""
        return "; ".join(f"{s.service}: {s.state.value} ({s.detail})" for s in self.not_healthy())


def judge(service: str, container: ContainerInfo | None, check: CheckResult | None, *, one_shot: bool) -> ServiceHealth:
    """Combine the container level and the service level into one state."""
    if container is None:
        return ServiceHealth(service, HealthState.STOPPED, "no container")
    base = dict(container=container.name, container_state=container.status, exit_code=container.exit_code,
                docker_health=container.health, docker_probe=container.health_output, check=check)
    if not container.running:
        if one_shot and container.status == "exited" and container.exit_code == 0:
            return ServiceHealth(service, HealthState.HEALTHY, "completed (exit 0)", **base)
        if container.status in ("created", "restarting"):
            return ServiceHealth(service, HealthState.STARTING, container.status, **base)
        return ServiceHealth(service, HealthState.STOPPED, f"{container.status} (exit {container.exit_code})", **base)
    if container.health == "unhealthy":
        return ServiceHealth(service, HealthState.UNHEALTHY, "Docker healthcheck failing", **base)
    if check is not None and not check.ok:
        # Both levels must agree: a service-level failure after Docker says healthy is UNHEALTHY;
        # before that the service is still coming up.
        state = HealthState.UNHEALTHY if container.health == "healthy" else HealthState.STARTING
        return ServiceHealth(service, state, f"health command failing (exit {check.exit_code})", **base)
    if container.health == "starting":
        return ServiceHealth(service, HealthState.STARTING, "Docker healthcheck starting", **base)
    if one_shot:
        return ServiceHealth(service, HealthState.STARTING, "running to completion", **base)
    return ServiceHealth(service, HealthState.HEALTHY, "running" if check is None else "health command passes", **base)


def wait_until_healthy(
    probe: Callable[[set[str]], HealthReport],
    timeout: float,
    on_report: Callable[[HealthReport], None] | None = None,
) -> tuple[HealthReport, str]:
    """Probe until the report is HEALTHY, a service failed, or the timeout passes.

    `probe(skip)` builds a report; services in `skip` were HEALTHY last time and may be judged
    from their container alone. Returns (last report, outcome) with outcome "healthy", "failed"
    or "timeout". The interval starts short and grows, so a fast stack is seen ready quickly
    without busy polling a slow one.
    """
    deadline = time.monotonic() + timeout
    interval, healthy = 0.1, set()
    while True:
        report = probe(healthy)
        healthy = {s.service for s in report.services if s.state is HealthState.HEALTHY}
        if on_report:
            on_report(report)
        if report.healthy:
            return report, "healthy"
        if any(s.failed for s in report.services):
            return report, "failed"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return report, "timeout"
        time.sleep(min(interval, remaining))
        interval = min(interval * 1.5, 1.0)
