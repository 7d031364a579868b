"""Bringing an environment up: clear the way, build (with a head start), start in stages behind
healthy gates, retry what the conflict policy resolves, wait, and on any failure or interruption
diagnose and remove what this run made."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from netra_stack.leases import watchdog
from netra_stack.leases.holder import lease_of
from netra_stack.lifecycle import inventory
from netra_stack.lifecycle.build import Builds, build
from netra_stack.lifecycle.down import teardown
from netra_stack.lifecycle.wait import EarlyChecks, wait
from netra_stack.metrics import recorder
from netra_stack.model import labels as L
from netra_stack.model.decisions import MAX_UP_ATTEMPTS
from netra_stack.model.errors import DockerUnavailableError, EngineError, NetraError, PluginError
from netra_stack.model.profiles import ENGINE_START_COMMAND_VAR, START_ENGINE_VAR, truthy

if TYPE_CHECKING:
    from netra_stack.lifecycle.context import Context
    from netra_stack.model.health import ServiceHealth
    from netra_stack.planning.plan import Plan


def reach(ctx: Context) -> None:
    """The orchestrator, reachable: started first where the profile (engine.start) or
    NETRA_STACK_START_ENGINE=1 asks; NETRA_STACK_ENGINE_START_COMMAND, else the profile's
    engine.start_command, else the platform's way starts it."""
    try:
        ctx.backend.check()
    except DockerUnavailableError:
        settings = ctx.profile.engine
        if not (settings.start or truthy(ctx.environ.get(START_ENGINE_VAR))):
            raise
        configured = ctx.environ.get(ENGINE_START_COMMAND_VAR)
        command = shlex.split(configured) if configured else settings.start_command or None
        ctx.backend.start(command, settings.start_timeout, ctx.reporter.event)


def acquire(ctx: Context, *, wait_healthy: bool = True, timeout: float | None = None, keep_on_failure: bool = False,
            build_images: bool = True, hold: bool = False, record: bool = False,
            named: Callable[[str], None] = lambda name: None) -> tuple[str, dict[str, int], Builds]:
    """A new environment, up (and healthy, unless not `wait_healthy`), or the running one that
    COMPOSE_PROJECT_NAME names; its name, ports and what was built. `named` hears the name as
    soon as it is known (a failure kept with keep_on_failure is still this one's). See
    StackManager.acquire_environment."""
    ctx.reading_model()  # the backend reads the files on another core meanwhile
    reach(ctx)
    inventory.check_external(ctx)
    inventory.warn_shared_mounts(ctx)
    name = ctx.new_name()
    named(name)
    foreign = ctx.backend.foreign_instances(name)
    if foreign:
        raise EngineError(f"compose project {name} exists and is not netra-stack's (containers: "
                          f"{', '.join(i.name for i in foreign[:3])})",
                          hint="choose another COMPOSE_PROJECT_NAME; netra-stack never touches it")
    if any(i.running for i in ctx.backend.instances(name, detail=False)):  # a live environment: reuse it
        ctx.reporter.event(f"reusing environment {name}, which is already up")
        if wait_healthy:
            wait(ctx, inventory.plan_of(ctx, name), timeout)
        return name, inventory.primary_ports(inventory.bindings(ctx, name)), Builds()
    plan = ctx.plan(name, lease=lease_of() if hold else "")
    if hold:
        watchdog.spawn(name, ctx.backend.name, ctx.environ)
    if record:  # from the first container on, so that what `up` itself uses is in the record
        recorder.spawn(name, str(ctx.profile.source), ctx.backend.name, ctx.environ)
    try:
        ctx.backend.prepare(plan)
        ctx.reporter.event(f"environment {name} (profile {ctx.profile.name})")
        for note in ctx.backend.notes(plan):
            ctx.reporter.event(f"{ctx.backend.name}: {note}")
        resolution = ctx.plugins.resolve_conflict(plan, None, 0, ctx.backend)
        if resolution and resolution.removed:
            ctx.reporter.event(f"removed leftovers: {', '.join(resolution.removed)}")
        if resolution and resolution.action == "fail":
            raise EngineError(f"{name} cannot start: {resolution.reason}",
                              hint=f"plugin {ctx.plugins.deciders['netra_resolve_conflict']!r} refused it")
        ctx.plugins.before_up(plan)
        early = EarlyChecks(ctx, plan) if wait_healthy and build_images else None
        try:
            built = build(ctx, plan, head_start=True) if build_images else Builds()
        finally:
            healthy = early.stop() if early else {}
        started, healthy = start(ctx, plan, healthy, timeout)
        plan = started
        if wait_healthy:  # what was checked before holds for the plan it checked, not after new ports
            wait(ctx, plan, timeout, healthy)
        ports = inventory.primary_ports(inventory.bindings(ctx, name))
        plan.reservations.release()  # the engine holds the ports now
        ctx.plugins.after_up(plan, ports)
        return name, ports, built
    except BaseException as error:
        if isinstance(error, NetraError):
            diagnose(ctx, name, error)
        if not keep_on_failure:
            teardown(ctx, name)
        raise
    finally:
        plan.reservations.release()


def start(ctx: Context, plan: Plan, healthy: Mapping[str, ServiceHealth] | None = None,
          timeout: float | None = None) -> tuple[Plan, dict[str, ServiceHealth]]:
    """Start the plan's services, retrying after a conflict the policy resolves. Returns the plan
    that started (ports may have been chosen again) and the services found HEALTHY on the way
    (`healthy`: those found so before)."""
    first = plan
    try:
        for attempt in range(1, MAX_UP_ATTEMPTS + 1):
            try:
                return plan, _staged(ctx, plan, dict(healthy or {}), timeout)
            except EngineError as error:
                failure = ctx.backend.failure(error.stderr)
                if failure.kind == "dependency_failed":  # a health failure, reported as one (with its logs)
                    wait(ctx, plan, 0, services=[failure.details["service"]])
                resolution = ctx.plugins.resolve_conflict(plan, failure, attempt, ctx.backend)
                why = resolution.reason if resolution else "no plugin resolves it"
                ctx.reporter.event(f"attempt {attempt}/{MAX_UP_ATTEMPTS}: {failure.summary()} -> {why}")
                if resolution is None or resolution.action != "retry" or attempt == MAX_UP_ATTEMPTS:
                    raise EngineError(f"starting {plan.name} failed: {failure.summary()}",
                                      hint=why if resolution else (
                                          error.hint or "see `netra-stack logs`; the output above has the details"),
                                      stderr=error.stderr) from None
                time.sleep(0.5 * 2 ** (attempt - 1))
                if resolution.replan_ports:
                    plan.reservations.release()
                    plan = ctx.plan(plan.name, lease=plan.labels.get(L.LEASE, ""))
                    ctx.backend.prepare(plan)
                    healthy = {}
    except BaseException:
        if plan is not first:  # chosen again here: the caller holds only the first
            plan.reservations.release()
        raise
    return plan, dict(healthy or {})


def _staged(ctx: Context, plan: Plan, healthy: dict[str, ServiceHealth],
            timeout: float | None) -> dict[str, ServiceHealth]:
    """The backend's `up`, in stages where services wait for a healthy dependency: each stage
    starts what no unhealthy dependency holds back, and the next begins as soon as netra-stack's
    own checks pass, not when Docker's healthcheck next runs (one `interval` after start). The
    plan lets the backend start such dependents at once; every other condition
    (service_completed_successfully, required) stays the backend's."""
    if not plan.gates:
        ctx.backend.up(plan, on_line=ctx.reporter.compose_line)
        return healthy
    holds = {s: plan.holds(s) for s in plan.services}
    started: set[str] = set()
    while len(started) < len(plan.services):
        ready = [s for s in plan.services if s not in started and holds[s] <= healthy.keys()]
        if not ready:  # a cycle of gates: let the backend sort the rest out
            ready = [s for s in plan.services if s not in started]
        ctx.reporter.event(f"starting {', '.join(ready)}")
        # Later stages only start their own services, or one-shot services that already ran would run again.
        ctx.backend.up(plan, ready, first=not started, on_line=ctx.reporter.compose_line)
        started.update(ready)
        awaited = {g for s in plan.services if s not in started for g in holds[s]} & started - healthy.keys()
        if awaited:  # what the next stage needs, each wait bounded by the timeout of waits
            report = wait(ctx, plan, timeout, healthy, services=awaited)
            healthy.update({s.service: s for s in report.services})
    return healthy


def diagnose(ctx: Context, name: str, error: NetraError) -> None:
    """Let plugins attach diagnostics to a failure, while the environment still exists."""
    report = getattr(error, "report", None)
    try:
        error.diagnostics.extend(ctx.plugins.on_failure(name, error, report))
    except PluginError as broken:  # a broken diagnostic plugin must not hide the failure itself
        error.diagnostics.append(broken.line)
