"""Changing what runs: restarting services, scaling them, and building again (`rebuild`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from netra_stack.lifecycle import inventory
from netra_stack.lifecycle.build import Builds, build, remove_replaced
from netra_stack.lifecycle.up import start
from netra_stack.lifecycle.wait import wait
from netra_stack.model.errors import UsageError

if TYPE_CHECKING:
    from netra_stack.lifecycle.context import Context
    from netra_stack.model.health import HealthReport


def restart(ctx: Context, name: str, services: list[str], *, wait_healthy: bool = True,
            timeout: float | None = None) -> HealthReport | None:
    inventory.check_services(ctx, services)
    ctx.reporter.event(f"restarting {', '.join(services)} in {name}")
    ctx.backend.restart(name, services)
    return wait(ctx, inventory.plan_of(ctx, name), timeout) if wait_healthy else None


def scale(ctx: Context, name: str, replicas: Mapping[str, int], *, wait_healthy: bool = True,
          timeout: float | None = None) -> HealthReport | None:
    """Run `replicas[service]` instances of each service, then wait until they are healthy."""
    inventory.check_services(ctx, replicas)
    ctx.reporter.event(f"scaling {', '.join(f'{s} to {n}' for s, n in replicas.items())} in {name}")
    ctx.backend.scale(name, replicas)
    return wait(ctx, inventory.plan_of(ctx, name), timeout) if wait_healthy else None


def rebuild(ctx: Context, name: str | None, services: list[str] | None = None, *, no_cache: bool = False) -> Builds:
    """Build images again (the policy decides the cache, `no_cache` forces it) and, where an
    environment `name` runs, recreate what runs of the services built and wait for it. A build
    whose image came out the same (every layer from the cache) is recreated too: `start` alone
    leaves an unchanged service as it is."""
    if services:
        inventory.check_services(ctx, services)
    plan = inventory.plan_of(ctx, name) if name else ctx.plan()
    try:
        if plan.uses_production_images:
            raise UsageError("USE_PRODUCTION_IMAGES is set: production images are used as they are, never rebuilt",
                             hint="unset USE_PRODUCTION_IMAGES to build the images")
        ctx.backend.prepare(plan)
        built = build(ctx, plan, services, forced=True, no_cache=no_cache)
        if name:
            rebuilt = {o.service for o in built.outcomes if o.built}
            before = _running(ctx, name, rebuilt)
            plan, _ = start(ctx, plan)  # delivers the images; compose recreates the services whose image changed
            if unchanged := sorted(s for s, ids in _running(ctx, name, rebuilt).items() if ids & before.get(s, set())):
                ctx.reporter.event(f"recreating {', '.join(unchanged)}")
                ctx.backend.recreate(plan, unchanged)
            remove_replaced(ctx, built)  # the recreated services no longer use them
            wait(ctx, inventory.plan_of(ctx, name), None)
        return built
    finally:
        plan.reservations.release()
        if not name:
            ctx.backend.forget(plan.name)


def _running(ctx: Context, name: str, services: set[str]) -> dict[str, set[str]]:
    """Service -> the ids of its running instances, for `services`."""
    found: dict[str, set[str]] = {}
    for i in ctx.backend.instances(name, detail=False):
        if i.service in services and i.running:
            found.setdefault(i.service, set()).add(i.id)
    return found
