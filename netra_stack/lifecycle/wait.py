"""Waiting for an environment to be healthy: one probe of every service (side by side), the
wait loop woken by the backend's events, the checks that run while the code builds, and the
logs a failed wait shows."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from netra_stack.model.errors import NotHealthyError
from netra_stack.model.health import HealthReport, HealthState, ServiceHealth, combine, judge
from netra_stack.model.state import state_dir

if TYPE_CHECKING:
    from netra_stack.lifecycle.context import Context
    from netra_stack.model.instances import Instance
    from netra_stack.planning.plan import Plan


def wait(ctx: Context, plan: Plan, timeout: float | None, healthy: Mapping[str, ServiceHealth] | None = None,
         services: Iterable[str] | None = None) -> HealthReport:
    """Wait until `services` (default: all) are HEALTHY; fail fast on an exit, a crash loop or
    the orchestrator's `unhealthy`. `healthy`: services found HEALTHY before it began (early
    checks, an earlier stage of `up`)."""
    timeout = ctx.profile.wait_timeout if timeout is None else timeout
    seen_logs: dict[str, float] = {}
    known: dict[str, Instance] = {}

    def on_report(report: HealthReport) -> None:
        ctx.reporter.health(report)
        if ctx.reporter.stream_logs:
            stream_logs(ctx, report, seen_logs, known)

    last: dict[str, ServiceHealth] = dict(healthy or {})

    def probe_once(skip: set[str]) -> HealthReport:
        report = probe(ctx, plan, {s: last[s] for s in skip if s in last}, services)
        last.update({s.service: s for s in report.services})
        return report

    watch = ctx.backend.events(plan.name)
    try:
        report, outcome = wait_until_healthy(probe_once, timeout, on_report, wake=watch.wake, healthy=set(last))
    finally:
        watch.close()
    if outcome == "healthy":
        return report
    from netra_stack.graphs.picture import picture

    report = with_logs(ctx, report)
    cause = "failed" if outcome == "failed" else f"not healthy after {timeout:g}s"
    raise NotHealthyError(f"environment {plan.name} {cause}: {report.explain()}",
                          hint=f"`netra-stack logs --name {plan.name}` shows everything", report=report,
                          picture=picture(plan.name, plan.graph, plan.services, one_shot=plan.one_shot, report=report))


def probe(ctx: Context, plan: Plan, healthy: Mapping[str, ServiceHealth],
          services: Iterable[str] | None = None) -> HealthReport:
    """One report (of `services`, by default all). A service in `healthy` (HEALTHY at the last
    probe of this wait) keeps that result while its instance still runs the same way, without
    running its checks again. A service that has been HEALTHY in this run of its instance and
    fails now is UNHEALTHY, in this process or a later one (HealthMemory)."""
    latest: dict[str, list[Instance]] = {}  # service -> its containers (replicas: several)
    for instance in ctx.backend.instances(plan.name):
        if not instance.one_off:
            latest.setdefault(instance.service, []).append(instance)
    memory = HealthMemory(plan.name, ctx.backend.state)

    def check_one(service: str, instance: Instance | None, before: ServiceHealth | None) -> ServiceHealth:
        if (before and instance is not None and instance.running and instance.health != "unhealthy"
                and before.container_state == "running"):
            result = replace(before, docker_health=instance.health, docker_probe=instance.health_output)
        else:
            result = (ctx.plugins.check_health(service, instance, plan, ctx.backend)
                      or judge(service, instance, None, one_shot=plan.is_one_shot(service)))
        return memory.judged(result, instance)

    def check(service: str) -> ServiceHealth:
        previous = {r.container: r for r in healthy[service].each} if service in healthy else {}
        found = sorted(latest.get(service, []), key=lambda i: i.name) or [None]
        return combine([check_one(service, i, previous.get(i.name) if i else None) for i in found])

    # Services are checked side by side: a round takes as long as the slowest check, not their sum.
    services = plan.services if services is None else [s for s in plan.services if s in services]
    with ThreadPoolExecutor(max_workers=max(1, len(services))) as pool:
        results = list(pool.map(check, services))
    memory.save()
    return HealthReport(plan.name, plan.profile.name, results, plan.graph.as_lists())


def with_logs(ctx: Context, report: HealthReport) -> HealthReport:
    """The report with the last log lines of every service that is not HEALTHY (secrets masked)."""
    redactor = ctx.redactor()
    found = {i.name: i for i in ctx.backend.instances(report.environment)}
    services = [
        replace(s, logs=redactor.redact(ctx.backend.logs(found[s.container])))
        if s.state is not HealthState.HEALTHY and s.container in found else s
        for s in report.services
    ]
    return replace(report, services=services)


def stream_logs(ctx: Context, report: HealthReport, seen: dict[str, float], known: dict[str, Instance]) -> None:
    """New log lines of the services that are not healthy yet (`up --verbose`); `seen`: when
    each instance's log was last read, `known`: the instances by name (looked up once, not per report)."""
    redactor = ctx.redactor()
    waiting = [s for s in report.not_healthy() if s.container]
    if any(s.container not in known for s in waiting):
        known.update({i.name: i for i in ctx.backend.instances(report.environment, detail=False)})
    for s in waiting:
        if s.container not in known:
            continue
        now = time.time()
        text = ctx.backend.logs(known[s.container], tail="all", since=seen.get(s.container))
        seen[s.container] = now
        for line in text.splitlines():
            ctx.reporter.log_line(s.service, redactor.redact(line))


class EarlyChecks:
    """Health checks while the code builds: the services of the head start (a database, a cache)
    are checked once their instances run, so the wait after `up` has only the last ones left.
    None run during the backend's `up`: checks while compose starts containers, level after
    level, would compete with it for the CPU and slow it down more than they save (the stages of
    `up` check what a stage waits for). Only HEALTHY results are handed on; the wait checks
    everything else itself."""

    INTERVAL = 0.25  # seconds between rounds when no event wakes them sooner

    def __init__(self, ctx: Context, plan: Plan) -> None:
        self.healthy: dict[str, ServiceHealth] = {}
        self._stopped = threading.Event()
        self._watch = ctx.backend.events(plan.name)
        threading.Thread(target=self._run, args=(ctx, plan), name=f"netra-early-{plan.name}", daemon=True).start()

    def _run(self, ctx: Context, plan: Plan) -> None:
        try:
            while True:  # nothing runs yet: the first round waits for an event (or the interval)
                self._watch.wake.wait(self.INTERVAL)
                self._watch.wake.clear()
                if self._stopped.is_set():
                    break
                checked = {s.service: s for s in probe(ctx, plan, self.healthy).services}
                self.healthy = {service: health for service, health in {**self.healthy, **checked}.items()
                                if health.state is HealthState.HEALTHY}
        except Exception:  # e.g. instances removed under it (a failed `up`): the wait checks again
            pass
        finally:
            self._watch.close()

    def stop(self) -> dict[str, ServiceHealth]:
        """Stop checking; the services found HEALTHY so far."""
        self._stopped.set()
        self._watch.wake.set()
        return self.healthy


class HealthMemory:
    """Which containers have been HEALTHY in their current run, recorded in the
    state directory (ENV/healthy.json), so that a check failing after a success reads UNHEALTHY,
    not STARTING, also in a later process (`netra-stack health`). Docker's health log cannot say
    it: it keeps five probes of Docker's own healthcheck, and knows nothing of the service-level
    checks. A run is the container's id and start time: after a restart or a recreate, its
    service is STARTING again until its first success. Like every state file, a cache: without it the
    report is as if nothing had been healthy yet."""

    FILE = "healthy.json"

    def __init__(self, environment: str, state: Path | None = None) -> None:
        self._path = (state or state_dir()) / environment / self.FILE
        try:
            self._runs: dict[str, str] = json.loads(self._path.read_text())
        except (OSError, ValueError):
            self._runs = {}
        self._changed = False

    def judged(self, health: ServiceHealth, container: Instance | None) -> ServiceHealth:
        """Remember the run of a container found HEALTHY; a run that was HEALTHY and is STARTING again is UNHEALTHY."""
        if container is None or not container.running:
            return health
        run = f"{container.id}@{container.started}"
        if health.state is HealthState.HEALTHY and self._runs.get(container.name) != run:
            self._runs[container.name] = run
            self._changed = True
        elif health.state is HealthState.STARTING and self._runs.get(container.name) == run:
            return replace(health, state=HealthState.UNHEALTHY, detail=f"{health.detail} after being HEALTHY")
        return health

    def save(self) -> None:
        if not self._changed:
            return
        if not self._path.parent.is_dir():  # the environment's state is gone (`down`): a late probe records nothing
            return
        try:
            partial = self._path.with_name(f".{self.FILE}.{os.getpid()}.{threading.get_ident()}")
            partial.write_text(json.dumps(self._runs))
            os.replace(partial, self._path)  # whole or not at all, for a reader in another process
        except OSError:  # a read-only state directory: the report stays as if nothing had been healthy
            return
        self._changed = False


FAST_PHASE = 20.0  # seconds during which probes stay frequent (most services are ready by then)


def next_interval(interval: float, waited: float) -> float:
    """Probe often while a stack is likely to become ready, then back off (no busy polling)."""
    return min(interval * 1.25, 0.1 if waited < FAST_PHASE else 2.0)


def wait_until_healthy(
    probe: Callable[[set[str]], HealthReport],
    timeout: float,
    on_report: Callable[[HealthReport], None] | None = None,
    wake: threading.Event | None = None,
    healthy: Iterable[str] = (),
) -> tuple[HealthReport, str]:
    """Probe until the report is HEALTHY, a service failed, or the timeout passes.

    `probe(skip)` builds a report; services in `skip` were HEALTHY last time (or, at first, are in
    `healthy`: found so before the wait) and may be judged from their container alone. Returns
    (last report, outcome) with outcome "healthy", "failed" or "timeout". Between probes it sleeps
    on `wake` (set by the engine's events: a start, an exit, a health status) for at most the
    current interval, which starts at 50 ms and grows.
    """
    started = time.monotonic()
    deadline = started + timeout
    interval, healthy = 0.05, set(healthy)
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
        if wake is not None:
            wake.wait(min(interval, remaining))
            wake.clear()
        else:
            time.sleep(min(interval, remaining))
        interval = next_interval(interval, time.monotonic() - started)
