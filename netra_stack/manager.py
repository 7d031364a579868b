"""StackManager: the Python API. The CLI and the pytest plugin are thin layers over it, and it
is a thin layer over the lifecycle (netra_stack.lifecycle), which does the work.

    manager = get_default_manager()
    env_name, ports = manager.acquire_environment()     # up, healthy, {"postgres": 35001, ...}
    manager.get_health_report()
    manager.release_environment(env_name)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from netra_stack.lifecycle import clean, down, inventory, restart, up
from netra_stack.lifecycle import wait as waiting
from netra_stack.lifecycle.build import Builds
from netra_stack.lifecycle.context import Reporter, open_context
from netra_stack.lifecycle.inventory import Environment, primary_ports
from netra_stack.model.decisions import PortBinding
from netra_stack.model.health import HealthReport
from netra_stack.planning.graph import HEALTHY
from netra_stack.planning.plan import Plan


class StackManager:
    def __init__(self, profile: str | None = None, *, use_alpine: bool | None = None,
                 no_cache_app_code: bool | None = None, environ: Mapping[str, str] | None = None,
                 reporter: Reporter | None = None, force: bool = False, keep: bool = False,
                 compose_profiles: Iterable[str] = (), backend: str | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.ctx = open_context(profile, self.environ, use_alpine=use_alpine, no_cache_app_code=no_cache_app_code,
                                compose_profiles=compose_profiles, backend=backend, reporter=reporter, force=force)
        self.keep = keep  # as a context manager: hold no lease and release nothing (debugging)
        self.env_name: str | None = None  # the environment this manager acquired or works on
        self._built = Builds()  # what the last up or rebuild built, and why

    builds = property(lambda self: self._built.outcomes,
                      doc="What the last up or rebuild built, and why (BuildOutcome records).")
    profile = property(lambda self: self.ctx.profile)
    plugins = property(lambda self: self.ctx.plugins)
    backend = property(lambda self: self.ctx.backend)
    reporter = property(lambda self: self.ctx.reporter)

    def base_model(self) -> dict[str, Any]:
        """The profile's compose files as compose reads them (without netra-stack's additions)."""
        return self.ctx.base_model()

    graph = property(lambda self: self.ctx.graph, doc="The services' dependency graph.")
    awaited_healthy = property(lambda self: self.graph.awaited(HEALTHY),
                               doc="The services another one waits for with `condition: service_healthy`.")

    def plan(self, name: str | None = None, bound: Mapping[str, int] | None = None) -> Plan:
        return self.ctx.plan(name, bound)  # `bound`: host ports an existing environment has bound

    def resolved_config(self, *, reveal: bool = False, env_name: str | None = None) -> str:
        return inventory.resolved_config(self.ctx, reveal=reveal, env_name=env_name)

    def acquire_environment(self, *, wait: bool = True, timeout: float | None = None,
                            keep_on_failure: bool = False, build: bool = True,
                            hold: bool = False, record: bool = False) -> tuple[str, dict[str, int]]:
        """Bring a new environment up (or reuse the one COMPOSE_PROJECT_NAME names) and wait for it.

        Returns (env_name, {service: host port}). On failure or interruption the environment this
        call created is removed again (unless keep_on_failure) and the error says why. With
        build=False the images are used as they are (no build-cache decision is asked). With
        hold=True the environment belongs to this process: a watchdog removes it if the process
        dies without releasing it (SIGKILL included); see leases/watchdog.py. Otherwise it
        outlives the process, as `netra-stack up` does, until released or cleaned. With
        record=True a detached recorder keeps what it uses, from its first container until it
        is gone, as a run record for `advise` (metrics/recorder.py).
        """
        name, ports, self._built = up.acquire(self.ctx, wait_healthy=wait, timeout=timeout,
                                              keep_on_failure=keep_on_failure, build_images=build, hold=hold,
                                              record=record, named=lambda found: setattr(self, "env_name", found))
        return name, ports

    def release_environment(self, env_name: str | None = None, *, images: bool = False) -> None:
        """Stop and remove an environment: containers, networks, volumes, state files; `images`:
        also the images loaded into a swarm's nodes for it, where nothing else uses them."""
        name = env_name or self.current_environment()
        inventory.check_exists(self.ctx, name)
        down.teardown(self.ctx, name, images=images)
        if self.env_name == name:
            self.env_name = None

    def restart_service(self, services: str | list[str], env_name: str | None = None, *, wait: bool = True,
                        timeout: float | None = None) -> HealthReport | None:
        wanted = [services] if isinstance(services, str) else list(services)
        return restart.restart(self.ctx, env_name or self.current_environment(), wanted, wait_healthy=wait,
                               timeout=timeout)

    def scale(self, replicas: Mapping[str, int], env_name: str | None = None, *, wait: bool = True,
              timeout: float | None = None) -> HealthReport | None:
        """Run that many instances of each service ({"web": 3}) and wait until they are healthy."""
        return restart.scale(self.ctx, env_name or self.current_environment(), dict(replicas), wait_healthy=wait,
                             timeout=timeout)

    def rebuild(self, services: list[str] | None = None, *, no_cache: bool | None = None,
                env_name: str | None = None) -> None:
        """Build images again (the policy decides the cache, `no_cache` forces it) and recreate what runs."""
        self._built = restart.rebuild(self.ctx, env_name or self.current_environment(required=False), services,
                                      no_cache=bool(no_cache))

    def __enter__(self) -> tuple[str, dict[str, int]]:
        """`with StackManager("alpine-test") as (name, ports):` held by this process (see hold=True)."""
        return self.acquire_environment(hold=not self.keep)

    def __exit__(self, *exc_info: object) -> None:
        if self.env_name and not self.keep:
            self.release_environment(self.env_name)

    def get_health_report(self, env_name: str | None = None, *, with_logs: bool = False) -> HealthReport:
        name = env_name or self.current_environment()
        report = waiting.probe(self.ctx, inventory.plan_of(self.ctx, name), {})
        return waiting.with_logs(self.ctx, report) if with_logs else report

    def picture(self, env_name: str | None = None, report: HealthReport | None = None):
        """The stack drawn (netra_stack.graphs.picture.Picture): of a running environment, with
        each service's health (`report`, else probed now) and what a failure holds up; with no
        name, of the profile's files."""
        return inventory.picture_of(self.ctx, env_name, report)

    def wait_for_services(self, timeout: float | None = None, env_name: str | None = None) -> HealthReport:
        """Wait until every service is HEALTHY; fail fast on an exit, a crash loop or `unhealthy`."""
        return waiting.wait(self.ctx, inventory.plan_of(self.ctx, env_name or self.current_environment()), timeout)

    def get_ports(self, env_name: str | None = None) -> list[PortBinding]:
        """Every host port the environment really has bound, read back from the engine."""
        return inventory.bindings(self.ctx, env_name or self.current_environment())

    def ports(self, env_name: str | None = None) -> dict[str, int]:
        return primary_ports(self.get_ports(env_name))

    def environments(self, profile: str | None = None) -> list[Environment]:
        return inventory.list_environments(self.backend, profile)

    def current_environment(self, required: bool = True) -> str | None:
        """The environment to act on: this manager's, COMPOSE_PROJECT_NAME's, or the profile's only one."""
        if not self.env_name:
            self.env_name = inventory.choose(self.ctx, required)
        return self.env_name

    def logs(self, services: list[str] | None = None, *, tail: int | None = None, follow: bool = False,
             env_name: str | None = None) -> Iterable[str]:
        return inventory.logs(self.ctx, env_name or self.current_environment(), services, tail=tail, follow=follow)

    def cleanup_orphaned_containers(self) -> list[str]:
        """Remove netra-stack containers that have stopped (exited, dead, never started)."""
        return clean.remove_orphans(self.backend)

    def cleanup_old_environments(self, max_age: float | timedelta) -> list[str]:
        """Release every netra-stack environment created more than `max_age` (seconds) ago."""
        seconds = max_age.total_seconds() if isinstance(max_age, timedelta) else float(max_age)
        return [item["name"] for item in clean.clean(self.backend, older_than=seconds, plugins=self.plugins)
                if item["kind"] == "environment"]


_default: StackManager | None = None


def get_default_manager(**options: Any) -> StackManager:
    """The process's shared manager, for the default profile (DOCKER_ENV / USE_ALPINE, else test)."""
    global _default
    if _default is None or options:
        _default = StackManager(**options)
    return _default


__all__ = ["StackManager", "get_default_manager", "Environment", "Reporter", "primary_ports"]
