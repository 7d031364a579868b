"""The health model: states, per-service results, the environment's report, and the verdict.

Three levels (the seed's): container (Docker's own healthcheck), service (the profile's health
check, run by the health hook: a command inside the container, or an http, tcp or log check
from the host), system (the whole environment).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netra_stack.model.instances import Instance


class HealthState(str, Enum):
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    STARTING = "STARTING"
    STOPPED = "STOPPED"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one service-level check: a command in the container, or a check from the host."""

    ok: bool
    output: str  # the command's output tail, or what the host saw: "HTTP 503", "connection refused"
    latency_ms: float
    exit_code: int | None = None  # a command's; None for host-side checks
    kind: str = "command"  # command | http | tcp | log | readiness (the orchestrator's probe)

    @property
    def title(self) -> str:
        return "health command" if self.kind == "command" else f"{self.kind} check"

    @property
    def reason(self) -> str:
        """Why it failed, in a few words."""
        return f"exit {self.exit_code}" if self.kind == "command" else self.output


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
    container_check: CheckResult | None = None  # Docker's healthcheck run by netra-stack before Docker did
    logs: str = ""  # recent log lines, filled in when a wait fails
    node: str = ""  # the machine that runs the container, where the backend spans several
    replicas: tuple[ServiceHealth, ...] = ()  # each container's own result, for a service with several

    @property
    def each(self) -> tuple[ServiceHealth, ...]:
        """The results of the service's containers one by one (itself, for a service with one)."""
        return self.replicas or (self,)

    @property
    def failed(self) -> bool:
        """A state that waiting longer will not fix: an exit, or Docker's own verdict of unhealthy."""
        return self.state is HealthState.STOPPED or self.docker_health == "unhealthy"

    def as_dict(self) -> dict:
        return {
            "service": self.service, "state": self.state.value, "detail": self.detail,
            "container": self.container, "container_state": self.container_state, "exit_code": self.exit_code,
            "docker_health": self.docker_health, "docker_probe": self.docker_probe,
            "check": _check_dict(self.check),
            "container_check": _check_dict(self.container_check),
            "logs": self.logs, "node": self.node,
            "replicas": [r.as_dict() for r in self.replicas],
        }


def _check_dict(check: CheckResult | None) -> dict | None:
    if check is None:
        return None
    return {"kind": check.kind, "ok": check.ok, "output": check.output, "latency_ms": round(check.latency_ms, 1),
            "exit_code": check.exit_code}


@dataclass(frozen=True)
class HealthReport:
    environment: str
    profile: str
    services: list[ServiceHealth] = field(default_factory=list)
    depends_on: dict[str, list[str]] = field(default_factory=dict)  # service -> services it depends on

    def held_up_by(self, service: str) -> list[str]:
        """The dependencies of a service that are not HEALTHY (yet, or any more)."""
        states = {s.service: s.state for s in self.services}
        return [d for d in self.depends_on.get(service, []) if states.get(d) not in (None, HealthState.HEALTHY)]

    def cause(self, service: str) -> str:
        """'held up by db (STOPPED)': the likely cause of a service not being HEALTHY (its
        dependencies that are not), for its line in a report; '' when it is HEALTHY."""
        states = {s.service: s.state for s in self.services}
        waiting = self.held_up_by(service) if states.get(service) is not HealthState.HEALTHY else []
        return "held up by " + ", ".join(f"{d} ({states[d].value})" for d in waiting) if waiting else ""

    def _meant_to_run(self) -> list[ServiceHealth]:
        """Services that should have a running container: all but one-shots that completed."""
        return [s for s in self.services if not (s.state is HealthState.HEALTHY and s.container_state != "running")]

    @property
    def running(self) -> str:
        """'2/3': services whose container runs, of those meant to run."""
        meant = self._meant_to_run()
        return f"{sum(s.container_state == 'running' for s in meant)}/{len(meant)}"

    @property
    def state(self) -> HealthState:
        """The system level: HEALTHY only when every service is; STOPPED only when nothing runs or
        starts; an environment partly down is UNHEALTHY (its `running` says how much runs)."""
        states = {s.state for s in self.services}
        if states == {HealthState.HEALTHY}:
            return HealthState.HEALTHY
        if all(s.state is HealthState.STOPPED for s in self._meant_to_run()):  # no services at all, too
            return HealthState.STOPPED
        if states & {HealthState.UNHEALTHY, HealthState.STOPPED}:
            return HealthState.UNHEALTHY
        return HealthState.STARTING

    @property
    def healthy(self) -> bool:
        return self.state is HealthState.HEALTHY

    def not_healthy(self) -> list[ServiceHealth]:
        return [s for s in self.services if s.state is not HealthState.HEALTHY]

    def as_dict(self) -> dict:
        return {"environment": self.environment, "profile": self.profile, "state": self.state.value,
                "running": self.running,
                "services": [{**s.as_dict(), "held_up_by": self.held_up_by(s.service)} for s in self.services]}

    def explain(self) -> str:
        """Each service that is not healthy: its state, why, and which dependency holds it up."""
        parts = []
        for s in self.not_healthy():
            cause = self.cause(s.service)
            parts.append(f"{s.service}: {s.state.value} ({s.detail}" + (f"; {cause}" if cause else "") + ")")
        return "; ".join(parts)


_WORST_FIRST = (HealthState.STOPPED, HealthState.UNHEALTHY, HealthState.STARTING, HealthState.HEALTHY)


def combine(results: list[ServiceHealth]) -> ServiceHealth:
    """One service's state from its containers' (replicas): HEALTHY only when each is, else the
    worst of them, named; the replicas' results kept, to show each with its node."""
    if len(results) == 1:
        return results[0]
    worst = min(results, key=lambda r: _WORST_FIRST.index(r.state))
    healthy = sum(r.state is HealthState.HEALTHY for r in results)
    detail = (f"{len(results)} replicas, {worst.detail}" if healthy == len(results)
              else f"{healthy}/{len(results)} replicas HEALTHY; {worst.container}: {worst.detail}")
    return replace(worst, detail=detail, replicas=tuple(results))


CRASH_LOOP_RESTARTS = 2  # restarts after which a restarting container counts as failed
STEADY_SECONDS = 1.0  # a service with no check at all counts once it has run this long


def _running_for(container: Instance) -> float:
    if container.started is None:
        return 0.0
    return (datetime.now(timezone.utc) - container.started).total_seconds()


def judge(service: str, container: Instance | None, check: CheckResult | None, *, one_shot: bool,
          container_check: CheckResult | None = None) -> ServiceHealth:
    """Combine the container level and the service level into one state.

    The container level is the orchestrator's healthcheck (Docker's; the kubelet's readiness
    probe); while it still says `starting` (Docker's first probe comes one interval after start,
    the kubelet's at a random moment of its period), `container_check` — the same test, run by
    netra-stack — stands in for it, so readiness is seen when it happens.
    """
    if container is None:
        return ServiceHealth(service, HealthState.STOPPED, "no container")
    base = dict(container=container.name, container_state=container.status, exit_code=container.exit_code,
                docker_health=container.health, docker_probe=container.health_output, check=check,
                container_check=container_check, node=container.node)
    if not container.running:
        if one_shot and container.status == "exited" and container.exit_code == 0:
            return ServiceHealth(service, HealthState.HEALTHY, "completed (exit 0)", **base)
        # Docker shows a looping container as `restarting`; Podman restarts it at once, and it
        # is seen `exited` between runs.
        if container.status in ("restarting", "exited") and container.restart_count >= CRASH_LOOP_RESTARTS:
            return ServiceHealth(service, HealthState.STOPPED, f"crash-looping ({container.restart_count} restarts, "
                                 f"last exit {container.exit_code})", **base)
        if container.status in ("created", "restarting"):
            return ServiceHealth(service, HealthState.STARTING, container.status, **base)
        return ServiceHealth(service, HealthState.STOPPED, f"{container.status} (exit {container.exit_code})", **base)
    if container.health == "unhealthy":
        return ServiceHealth(service, HealthState.UNHEALTHY, "Docker healthcheck failing", **base)
    if check is not None and not check.ok:
        # Both levels must agree: a service-level failure after Docker says healthy is UNHEALTHY;
        # before that the service is still coming up (unless HealthMemory knows it has been HEALTHY).
        state = HealthState.UNHEALTHY if container.health == "healthy" else HealthState.STARTING
        return ServiceHealth(service, state, f"{check.title} failing ({check.reason})", **base)
    if container.health == "starting" and not (container_check and container_check.ok):
        return ServiceHealth(service, HealthState.STARTING, "Docker healthcheck starting", **base)
    if one_shot:
        return ServiceHealth(service, HealthState.STARTING, "running to completion", **base)
    unchecked = check is None and not container.health and container_check is None
    if unchecked and _running_for(container) < STEADY_SECONDS:
        # nothing to ask but the container itself: make sure it stays up (a crash loop would not)
        return ServiceHealth(service, HealthState.STARTING, "just started", **base)
    how = "running" if check is None else f"{check.title} passes"
    if container.health == "starting":
        how += " (its healthcheck passes when run now)"
    return ServiceHealth(service, HealthState.HEALTHY, how, **base)
