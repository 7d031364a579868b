"""The seam between the lifecycle and an orchestrator: what a backend does for an environment.

The lifecycle (netra_stack.lifecycle) decides what happens and in which order: plan, build,
start in stages, wait, diagnose, tear down. A backend carries each step out on its orchestrator
and reports what runs as neutral records (netra_stack.model.instances). A backend registers
through the `netra_backends` hook; a profile chooses one with `backend = "NAME"` (default
"compose"), `--backend` overrides it. docs/plugins.md, "Writing a backend", walks through one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from netra_stack.model.decisions import EngineFailure, PortBinding
    from netra_stack.model.findings import Finding
    from netra_stack.model.instances import ImageInfo, Instance
    from netra_stack.model.usage import Usage
    from netra_stack.model.profiles import Profile
    from netra_stack.planning.plan import Plan

LineCallback = Callable[[str], None]
DEFAULT = "compose"


class Forwarding(Protocol):
    """Open port-forwards: `bindings`, the loopback ports that lead to each service's port; they
    last until `close`."""

    bindings: list[PortBinding]

    def close(self) -> None: ...


class Watch(Protocol):
    """An environment's events as a wake-up call: `wake` is set on every change of an instance
    (start, exit, health), so that a wait reacts at once instead of sleeping out its interval."""

    wake: threading.Event

    def close(self) -> None: ...


class UsageStream(Protocol):
    """An environment's resource use as its orchestrator samples it (Docker: once a second per
    container), kept up to date in the background until `close`; a context manager."""

    def latest(self) -> list[Usage]:
        """The newest sample of each instance; one that stopped: nothing in use, counters kept."""

    def ready(self, timeout: float) -> list[Usage]:
        """`latest()` once every instance has a complete sample (CPU needs two readings), or at
        the timeout."""

    def close(self) -> None: ...

    def __enter__(self) -> UsageStream: ...

    def __exit__(self, *exc_info: object) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """An orchestrator that runs environments. Every method that names an environment takes
    its name (the plan's `name`); `instances` and the methods on one instance take the records
    `instances` returned."""

    name: str
    environ: Mapping[str, str]  # the process environment the manager was given (DOCKER_HOST, ...)
    state: Path  # where this backend may keep files per environment (a cache, never the record)
    # The depends_on conditions the lifecycle must carry out by starting in stages: at least
    # service_healthy (netra-stack's checks pass before the engine's); all of them where the
    # orchestrator orders nothing itself.
    gate_conditions: frozenset[str]
    # Whether the orchestrator runs the profile's health checks itself (Kubernetes: as readiness
    # probes): an instance's `health` is then their verdict; netra-stack runs a check itself only
    # while the orchestrator has not yet found the instance healthy (its `healthcheck` command).
    runs_checks: bool

    # --- planning --------------------------------------------------------------------------------
    def read_model(self, profile: Profile, environ: Mapping[str, str]) -> dict[str, Any]:
        """The profile's compose files as one resolved model (compose's `config`), checked."""

    def check(self) -> None:
        """Fail with a clear error if the orchestrator cannot be reached."""

    def start(self, command: list[str] | None, timeout: float, on_line: LineCallback) -> None:
        """Start the orchestrator, which cannot be reached: `command` (argv, no shell), else this
        platform's way; return once it answers, within `timeout` seconds, or raise
        DockerUnavailableError saying what was tried."""

    def diagnose(self) -> list[Finding]:
        """`netra-stack doctor`'s look at the orchestrator: reachable (which one, its version), the
        tools netra-stack runs with it, limits really enforced. Never raises: what fails is a
        Finding with its fix."""

    def config(self, plan: Plan) -> str:
        """The plan as this backend renders it, for `netra-stack config`."""

    def notes(self, plan: Plan) -> list[str]:
        """What this backend runs differently from the files (keys it drops or changes), said once by `up`."""

    # --- lifecycle -------------------------------------------------------------------------------
    def prepare(self, plan: Plan) -> None:
        """Render the plan and keep what the next steps need (files in `state`)."""

    def build(self, plan: Plan, services: Sequence[str], *, no_cache: Iterable[str] = (),
              labels: Mapping[str, Mapping[str, str]] | None = None, start_meanwhile: Sequence[str] = (),
              on_line: LineCallback | None = None) -> dict[str, float]:
        """Build images side by side (those in `no_cache` without the layer cache), with `labels`;
        start `start_meanwhile` during the builds. Returns the seconds each build took."""

    def up(self, plan: Plan, services: Sequence[str] = (), *, first: bool = True,
           on_line: LineCallback | None = None) -> None:
        """Create and start services (default: all) without building. `first`: the environment's
        first start; a later one starts only `services`, not their dependencies again."""

    def down(self, environment: str, on_line: LineCallback | None = None, *, images: bool = False) -> list[str]:
        """Remove everything of the environment (instances, networks, volumes) and its files;
        `images`: also the images the backend copied to other engines for it (a swarm's nodes),
        where nothing uses them. Returns a line for each such image, removed or kept."""

    def forget(self, environment: str) -> None:
        """Drop the files kept for an environment that never started or is gone."""

    def restart(self, environment: str, services: Sequence[str]) -> None: ...

    def recreate(self, plan: Plan, services: Sequence[str]) -> None:
        """Replace the services' instances of the plan's environment with new ones, from their
        images as they are now (after `rebuild`, also where the image came out the same)."""

    def scale(self, environment: str, replicas: Mapping[str, int]) -> None:
        """Run that many instances of each service (a UsageError where the backend runs one)."""

    def failure(self, text: str) -> EngineFailure:
        """An error of `up` as the conflict hook sees it: its kind and the names it mentions."""

    # --- what runs -------------------------------------------------------------------------------
    def instances(self, environment: str | None = None, *, detail: bool = True) -> list[Instance]:
        """Instances of netra-stack (of one environment). `detail=False`: one cheap query, without
        health and healthcheck (what `status` needs)."""

    def foreign_instances(self, environment: str) -> list[Instance]:
        """Instances of a project of that name that are not netra-stack's (never touched)."""

    def instance(self, reference: str) -> Instance | None:
        """One instance by id or name, whoever owns it."""

    def exec(self, instance: Instance, argv: Sequence[str]) -> tuple[int, str, float]:
        """Run a command in an instance: (exit code, output, seconds), bounded by a timeout."""

    def logs(self, instance: Instance, *, tail: int | str = 20, since: float | None = None) -> str:
        """One instance's last log lines (or those written after `since`, a Unix time)."""

    def service_logs(self, environment: str, services: Sequence[str], *, tail: int | None = None,
                     follow: bool = False) -> Iterable[str]:
        """The log lines of services (all: empty), optionally following."""

    def events(self, environment: str | None) -> Watch:
        """Changes of the environment's instances (None: of every environment of netra-stack's)."""

    def forward(self, environment: str, bindings: Sequence[PortBinding]) -> Forwarding:
        """Ports of the host's loopback that lead to `bindings`, for an orchestrator whose own
        addresses the host may not reach (Kubernetes: port-forwards); a UsageError elsewhere."""

    def stats(self, environment: str) -> UsageStream:
        """The resource use of the environment's instances, streamed until closed."""

    def capacity(self) -> tuple[int, int]:
        """What one machine of the orchestrator offers: (CPUs, memory bytes)."""

    def exists(self, kind: str, name: str) -> bool:
        """Whether a volume or network of that name exists (external resources)."""

    def remove(self, instance: Instance, *, foreign: bool = False) -> None:
        """Remove one instance of netra-stack's (any with `foreign`: the user's --force)."""

    def networks(self, environment: str | None = None) -> list[dict[str, Any]]: ...

    def network(self, name: str) -> dict[str, Any] | None:
        """A network by its exact name, with what is attached to it, or None."""

    def remove_network(self, network: dict[str, Any], *, foreign: bool = False) -> bool: ...

    def volumes(self, environment: str | None = None) -> list[dict[str, Any]]: ...

    def remove_volume(self, volume: dict[str, Any]) -> bool: ...

    # --- images ----------------------------------------------------------------------------------
    def image(self, reference: str) -> ImageInfo | None: ...

    def remove_superseded_image(self, image_id: str) -> bool:
        """Remove an image a build replaced (untagged, netra-stack's, unused); True if removed."""


BackendFactory = Callable[[Mapping[str, str]], Backend]  # environ -> a backend
