"""Every hook netra-stack calls, grouped by the stage of an environment's life.

These docstrings are the plugin reference (docs/plugins.md is generated from them).

Decision hooks are *first-result*: implementations are asked in call order and the first one
that returns something other than None decides; None means "no opinion". Contribution hooks are
*collected*: every implementation is called and the non-None results are gathered. The built-in
policies are ordinary plugins registered `trylast`, so any other plugin is asked before them.

Write an implementation with `from netra_stack import hookimpl` and a function of the hook's
name taking any subset of the arguments listed. netra-stack calls each implementation itself, so
that an error names the plugin that raised it; wrapper implementations are therefore refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from netra_stack.backends.base import Backend, BackendFactory
    from netra_stack.leases.reservations import PortReservations
    from netra_stack.model.instances import Instance
    from netra_stack.model.errors import NetraError
    from netra_stack.model.health import HealthReport, ServiceHealth
    from netra_stack.planning.plan import Plan, PortRequest
    from netra_stack.metrics.records import RunRecord
    from netra_stack.model.decisions import BuildDecision, ConflictResolution, EngineFailure, PortBinding, Recommendation
    from netra_stack.model.profiles import Profile

PROJECT = "netra_stack"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- planning: before anything touches the engine ---------------------------------------------


@hookspec
def netra_backends() -> dict[str, BackendFactory] | None:
    """Register backends: the orchestrators an environment can run on.

    Called once per manager, before its profile's ``backend`` is looked up. Collected. Where two
    plugins register one name, the one asked first wins (a plugin before the built-ins). The
    built-in registers ``compose``. An unknown name in a profile is an error naming the known ones.

    :returns: a dict of backend name -> factory, a callable taking the process environment (a
        mapping) and returning an object with the operations of
        ``netra_stack.backends.base.Backend``; or None.
    """


@hookspec(firstresult=True)
def netra_compose_files(profile: Profile, environ: Mapping[str, str]) -> list[str] | None:
    """Choose the compose files of an environment.

    Called once when a manager is made for ``profile``. The built-in returns the profile's
    ``compose_files``.

    :param profile: the profile the manager was made for.
    :param environ: the process environment the manager was given.
    :returns: the compose files (paths relative to the profile's project_dir), or None for no
        opinion.
    """


@hookspec(firstresult=True)
def netra_environment_name(profile: Profile, environ: Mapping[str, str]) -> str | None:
    """Name a new environment (its compose project name).

    Called once per ``acquire_environment()``. The built-in returns COMPOSE_PROJECT_NAME when it
    is set, else renders the profile's ``project_name`` template (default ``{profile}-{id}``).

    :param profile: the environment's profile.
    :param environ: the process environment the manager was given.
    :returns: a name (lowercase letters, digits, '-' and '_'), or None for no opinion.
    """


@hookspec(firstresult=True)
def netra_allocate_port(request: PortRequest, profile: Profile, taken: set[int],
                        reservations: PortReservations) -> int | None:
    """Choose the host port for one container port while the plan is resolved.

    Called for each published port of each new environment, and again after a port clash. The
    built-in returns the fixed port, 0 for ephemeral, and for range a port of
    ``profile.ports.range`` that nobody listens on.

    :param request: the service, container port, protocol, strategy (range, fixed or ephemeral)
        and, for fixed, the host port.
    :param profile: the environment's profile.
    :param taken: the host ports already chosen for this plan.
    :param reservations: the plan's port reservations across processes (``reserve(port)`` is
        False when another process or plan holds the port), released once the environment is up
        or gone.
    :returns: the host port, 0 to let the engine pick one, or None for no opinion.
    """


@hookspec(firstresult=True)
def netra_build_decision(service: str, build: dict[str, Any], plan: Plan, backend: Backend) -> BuildDecision | None:
    """Decide whether and how to build one service before the environment starts (the
    build-cache policy).

    Called for each service that has a ``build`` section, on `up` and on `rebuild`; `rebuild`
    builds in any case, keeping the cache choice and labels. The built-in follows
    ``[services.X] build_cache`` or ``profile.build_cache``: content-hash (the default) builds
    only when the fingerprint of the build's inputs differs from the one on the image, no-cache
    and layer-cache always build; USE_PRODUCTION_IMAGES=true builds nothing.

    :param service: the service to build.
    :param build: its ``build`` section of the resolved compose model, with an absolute context.
    :param plan: the environment's plan; ``plan.images[service]`` is the image the build produces.
    :param backend: the environment's backend; ``backend.image(reference)`` finds an existing image.
    :returns: a BuildDecision (build or not, with or without Docker's layer cache, why, and labels
        for the built image), or None for no opinion.
    """


# --- starting ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def netra_resolve_conflict(plan: Plan, failure: EngineFailure | None, attempt: int,
                           backend: Backend) -> ConflictResolution | None:
    """Clear the way for an environment, or say that it cannot start.

    Called before `up` (pre-emptive cleanup) and after each failed `up`. Remove only what
    netra-stack owns. The built-in removes stopped containers of the same environment before
    up, removes an own stale container holding a name, re-plans ports after a clash unless the
    port was fixed, and refuses anything that is not netra-stack's.

    :param plan: the environment's plan.
    :param failure: the failed `up`'s error as the backend recognised it; None before `up`.
    :param attempt: 0 before `up`, then the attempt that failed (1 to ``decisions.MAX_UP_ATTEMPTS``).
    :param backend: the environment's backend, which finds and removes what is in the way.
    :returns: a ConflictResolution, ``"retry"`` (optionally choosing host ports again) or
        ``"fail"`` with a reason, which stops the run before anything (more) starts; or None for
        no opinion (before up: go on; after an error: fail with the engine's message).
    """


@hookspec
def netra_before_up(plan: Plan) -> None:
    """Called once the plan is resolved and the way is clear, before building and starting.

    Collected. Raising stops the run (and removes what it made).

    :param plan: the environment's plan.
    :returns: nothing (ignored).
    """


@hookspec
def netra_after_up(plan: Plan, ports: dict[str, int]) -> None:
    """Called when a new environment is up (and healthy, when waited for). Collected.

    :param plan: the environment's plan.
    :param ports: service -> host port.
    :returns: nothing (ignored).
    """


# --- running: health and ports ----------------------------------------------------------------


@hookspec(firstresult=True)
def netra_check_health(service: str, container: Instance | None, plan: Plan, backend: Backend) -> ServiceHealth | None:
    """Judge one service's health from its container and the service-level check.

    Called for every service on each probe while waiting (a service already HEALTHY is not
    probed again during the same wait), from a thread of its own while `up` still builds (so
    that the wait finds the early ones done), while a stage of `up` waits for the healthy
    dependencies of the next, and for each report. It may run in several threads at once. The
    built-in runs the profile's ``health`` check (a command inside the container, or an http,
    tcp or log check from the host) and combines it with Docker's verdict.

    :param service: the service to judge.
    :param container: the backend's view of the service's instance (state, the orchestrator's
        health and its last probe output, exit code), or None when it has none.
    :param plan: the environment's plan.
    :param backend: the environment's backend; ``backend.exec`` runs a command in the instance.
    :returns: a ServiceHealth, or None for no opinion.
    """


@hookspec(firstresult=True)
def netra_discover_ports(environment: str, containers: list[Instance]) -> list[PortBinding] | None:
    """Report the host ports really bound for an environment.

    Called after `up` and for `ports`, `status` and reports. The built-in reads the containers'
    port maps.

    :param environment: the environment's name.
    :param containers: its instances, as its backend inspected them.
    :returns: every binding (IPv4 and IPv6), or None for no opinion.
    """


# --- measuring: stats, run records, advise -----------------------------------------------------


@hookspec
def netra_collect_samples(environment: str, instances: list[Instance]) -> dict[str, dict[str, float]] | None:
    """Contribute measurements from other sources than the engine (a database's own statistics,
    an application's metrics endpoint) to each round of samples.

    Called for every round of ``stats``, ``stats --watch`` and a run's recording (once a second
    by default), from the sampling thread, so it should answer quickly. Collected; the values
    are shown with the service's row (``--json``: its ``extra``) and each one's highest value is
    kept in the run record (``extra_peaks``).

    :param environment: the environment's name.
    :param instances: its instances, as its backend inspected them.
    :returns: service -> {metric name: value}, or None.
    """


@hookspec(firstresult=True)
def netra_adjust_recommendation(recommendation: Recommendation, runs: list[RunRecord],
                                profile: Profile) -> Recommendation | None:
    """Adjust or veto ``advise``'s limits for one service.

    Called by ``advise`` for each service it has a recommendation for, before it is shown or
    written. Return a changed copy (``dataclasses.replace``) to adjust it, one with ``vetoed``
    set to a reason to keep the current limits, or None to leave it as it is.

    :param recommendation: the built-in recommendation: limits, peaks, sustained CPU, flags.
    :param runs: the run records it comes from, oldest first.
    :param profile: the profile advised.
    :returns: a Recommendation, or None for no opinion.
    """


# --- stopping ---------------------------------------------------------------------------------


@hookspec
def netra_before_down(environment: str) -> None:
    """Called before an environment is removed (down, release, clean, or cleanup after a
    failure). Collected.

    :param environment: the environment's name.
    :returns: nothing (ignored).
    """


@hookspec
def netra_after_down(environment: str) -> None:
    """Called after an environment was removed (down, release, clean, or cleanup after a
    failure), once its containers, networks and volumes are gone. Collected.

    :param environment: the environment's name.
    :returns: nothing (ignored).
    """


# --- failure ----------------------------------------------------------------------------------


@hookspec
def netra_on_failure(environment: str, error: NetraError, report: HealthReport | None) -> str | None:
    """Attach diagnostics when bringing an environment up or waiting for it fails.

    Called before the failed environment is removed. Collected; the texts are shown after the
    report and kept in ``error.diagnostics``.

    :param environment: the environment's name.
    :param error: what failed.
    :param report: when the failure is about health, the report (failing services, probe
        output, last log lines); else None.
    :returns: a text to add to the failure's diagnostics, or None.
    """


# --- the command line -------------------------------------------------------------------------


@hookspec
def netra_cli_commands() -> list[click.Command] | None:
    """Contribute commands to the `netra-stack` command line.

    Called by `netra-stack` for its commands. Collected from the built-in plugin
    ``netra.commands`` (every built-in command) and, for a name that is not built in, from
    installed plugins (entry-point group ``netra_stack``; a profile's own plugins are not loaded
    before a command runs). A built-in name cannot be taken over.

    :returns: a list of click commands, or None.
    """


# The stages of an environment's life, each with its hooks in the order the reference lists them.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("planning: before anything touches the engine",
     ("netra_backends", "netra_compose_files", "netra_environment_name", "netra_allocate_port", "netra_build_decision")),
    ("starting", ("netra_resolve_conflict", "netra_before_up", "netra_after_up")),
    ("running: health and ports", ("netra_check_health", "netra_discover_ports")),
    ("measuring: stats, run records, advise", ("netra_collect_samples", "netra_adjust_recommendation")),
    ("stopping", ("netra_before_down", "netra_after_down")),
    ("failure", ("netra_on_failure",)),
    ("the command line", ("netra_cli_commands",)),
)
