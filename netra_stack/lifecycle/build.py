"""Builds, decided before `up`: the build-cache hook is asked about each service that builds,
what it says is built (side by side, in dependency order), and each outcome is reported."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from netra_stack.model import labels as L
from netra_stack.model.decisions import BuildDecision, BuildOutcome

if TYPE_CHECKING:
    from netra_stack.lifecycle.context import Context
    from netra_stack.planning.plan import Plan


@dataclass
class Builds:
    """What the last build run built, and why; `replaced`: service -> the image id its build
    replaced, until that image is removed (once no instance uses it)."""

    outcomes: list[BuildOutcome] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)


def build(ctx: Context, plan: Plan, services: list[str] | None = None, *, forced: bool = False,
          no_cache: bool = False, head_start: bool = False) -> Builds:
    """Ask the build-cache policy about each service that builds, build what it says and report,
    per service, whether it was built, why, and how long it took. `forced` builds every one
    (`rebuild`); `no_cache` without the cache. `head_start`: start the services that need no
    build meanwhile (a database gets ready while the code builds)."""
    decisions: dict[str, BuildDecision] = {}
    for service, spec in ctx.base_model().get("services", {}).items():
        if "build" not in (spec or {}) or (services and service not in services):
            continue
        decision = ctx.plugins.build_decision(service, spec["build"], plan, ctx.backend)
        if decision is not None and forced:
            decision = replace(decision, build=True, no_cache=no_cache or decision.no_cache,
                               reason="forced: rebuild" + (" --no-cache" if no_cache else ""))
        if decision is not None:
            decisions[service] = decision
    outcomes = [BuildOutcome(s, False, d.reason) for s, d in decisions.items() if not d.build]
    for outcome in outcomes:
        ctx.reporter.event(f"{outcome.service}: not built ({outcome.reason})")
    wanted = [s for s, d in decisions.items() if d.build]
    previous = {s: _image_id(ctx, plan.images[s]) for s in wanted if s in plan.images}
    # The head start: what needs no build and waits for no gate (those start in their stage).
    meanwhile = [s for s in plan.graph.startable_while_building(plan.services, wanted)
                 if not plan.holds(s)] if head_start else []
    for number, wave in enumerate(plan.graph.build_waves(wanted)):
        uncached = [s for s in wave if decisions[s].no_cache]
        starting = meanwhile if number == 0 else []  # with the first wave, the others wait for it
        ctx.reporter.event(f"building {', '.join(wave)}" + (f" ({', '.join(uncached)} without the layer cache)"
                                                             if uncached else "")
                           + (f"; starting {', '.join(starting)} meanwhile" if starting else ""))
        took = ctx.backend.build(plan, wave, no_cache=uncached,
                                 labels={s: {L.MANAGED: "true", **decisions[s].labels} for s in wave},
                                 start_meanwhile=starting, on_line=ctx.reporter.compose_line)
        for service in wave:
            decision = decisions[service]
            seconds = round(took[service], 2)  # the report and the message say the same
            outcomes.append(BuildOutcome(service, True, decision.reason, seconds, decision.no_cache))
            ctx.reporter.event(f"{service}: built in {seconds:.1f}s ({decision.reason})")
    done = Builds(outcomes, {s: old for s, old in previous.items() if old and _image_id(ctx, plan.images[s]) != old})
    remove_replaced(ctx, done)
    return done


def remove_replaced(ctx: Context, builds: Builds) -> None:
    """A rebuilt image leaves its predecessor untagged: remove it once no instance uses it
    (after `rebuild` that is once the services were recreated)."""
    for service, old in list(builds.replaced.items()):
        if ctx.backend.remove_superseded_image(old):
            ctx.reporter.event(f"{service}: removed the image it replaced, {old.removeprefix('sha256:')[:12]}")
            del builds.replaced[service]


def _image_id(ctx: Context, reference: str) -> str | None:
    found = ctx.backend.image(reference)
    return found.id if found else None
