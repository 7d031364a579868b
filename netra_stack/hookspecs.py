"""Every hook netra-stack calls, grouped by the stage of an environment's life.

These docstrings are the plugin reference. Decision hooks are `firstresult`: the first
implementation that returns something other than None decides, and None means "no opinion".
The built-in policies are ordinary plugins registered `trylast`, so any plugin overrides them.

Write an implementation with `from netra_stack import hookimpl` and a function of the same
name taking any subset of the arguments listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .engine import ContainerInfo
    from .health import ServiceHealth
    from .plan import Plan, PortRequest
    from .policy import BuildDecision, ConflictResolution, EngineFailure, PortBinding
    from .profiles import Profile

PROJECT = "netra_stack"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- planning: before anything touches the engine ------------------------------------------------


@hookspec(firstresult=True)
def netra_allocate_port(request: PortRequest, profile: Profile, taken: set[int]) -> int | None:
    """Choose the host port for one container port while the plan is resolved.

    ``request`` names the service, container port, protocol, strategy (range, fixed or ephemeral)
    and, for fixed, the host port; ``taken`` holds the host ports already chosen for this plan.
    Return the host port, 0 to let the engine pick one, or None for no opinion.
    The built-in picks a port nobody listens on from ``profile.ports.range`` for `range`.
    """


@hookspec(firstresult=True)
def netra_build_decision(service: str, build: dict[str, Any], plan: Plan) -> BuildDecision | None:
    """Decide whether and how to build one service before it starts (the build-cache policy).

    Called for each service that has a ``build`` section; ``build`` is that section from the
    resolved compose model. Return a BuildDecision (build or not, with or without Docker's layer
    cache, and why) or None for no opinion. The built-in follows ``profile.build_cache`` and skips
    building when USE_PRODUCTION_IMAGES is true.
    """


# --- starting: conflicts --------------------------------------------------------------------------


@hookspec(firstresult=True)
def netra_resolve_conflict(plan: Plan, failure: EngineFailure | None, attempt: int) -> ConflictResolution | None:
    """Clear the way for an environment: before `up` (``failure`` is None, ``attempt`` 0) and after
    each failed `up` (``failure`` says what the engine refused, ``attempt`` counts from 1).

    Remove only what netra-stack owns. Return a ConflictResolution saying whether to retry, or None
    for no opinion (the run then fails with the engine's error).
    """


# --- running: health and ports --------------------------------------------------------------------


@hookspec(firstresult=True)
def netra_check_health(service: str, container: ContainerInfo, plan: Plan) -> ServiceHealth | None:
    """Judge one service's health from its container and the service-level check.

    Called repeatedly while waiting and once per report. ``container`` is the engine's view
    (state, Docker health, last probe output, exit code). Return a ServiceHealth, or None for no
    opinion. The built-in runs the profile's ``health`` command inside the container.
    """


@hookspec(firstresult=True)
def netra_discover_ports(environment: str, containers: list[ContainerInfo]) -> list[PortBinding] | None:
    """Report the host ports really bound for an environment, after it is up.

    ``containers`` are the environment's containers as the engine inspected them. Return every
    binding (IPv4 and IPv6) or None for no opinion. The built-in reads the containers' port maps.
    """
