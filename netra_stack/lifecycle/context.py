"""What every stage of an environment's life works with: the profile, the process environment,
the plugins, the backend, where progress goes, and the compose model with its dependency graph."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from netra_stack.leases.reservations import PortReservations
from netra_stack.model.redact import Redactor
from netra_stack.planning.graph import Graph
from netra_stack.planning.plan import Plan, compose_env, port_requests, resolve_plan

if TYPE_CHECKING:
    from netra_stack.backends.base import Backend
    from netra_stack.model.health import HealthReport
    from netra_stack.model.profiles import Profile
    from netra_stack.plugins.registry import Plugins


class Reporter:
    """Where progress goes. The API default is silent; the CLI passes a rich or plain one."""

    stream_logs = False  # whether waits hand over the new log lines of services not yet healthy

    def event(self, message: str) -> None: ...

    def log_line(self, service: str, line: str) -> None: ...

    def compose_line(self, line: str) -> None: ...

    def health(self, report: HealthReport) -> None: ...


@dataclass(eq=False)
class Context:
    profile: Profile
    environ: Mapping[str, str]
    plugins: Plugins
    backend: Backend
    reporter: Reporter = field(default_factory=Reporter)
    force: bool = False  # remove foreign containers and networks in the way of `up`
    _model: Future | None = field(default=None, repr=False)

    def base_model(self) -> dict[str, Any]:
        """The profile's compose files as compose reads them (without netra-stack's additions)."""
        return self.reading_model().result()

    def reading_model(self) -> Future:
        """The model, read once, in a thread of its own: `up` starts it early so that the compose
        process runs on another core while Python goes on."""
        if self._model is None:
            self._model = Future()
            threading.Thread(target=self._read_model, daemon=True).start()
        return self._model

    def _read_model(self) -> None:
        try:
            self._model.set_result(self.backend.read_model(self.profile, self.environ))
        except BaseException as error:  # raised again where the model is needed
            self._model.set_exception(error)

    @cached_property
    def graph(self) -> Graph:
        """The services' dependency graph, from the compose model (once, not per probe)."""
        return Graph.from_model(self.base_model())

    def new_name(self) -> str:
        return self.plugins.environment_name(self.profile, self.environ)

    def plan(self, name: str | None = None, bound: Mapping[str, int] | None = None, lease: str = "") -> Plan:
        """Resolve the profile. `bound` gives host ports already bound (an existing environment).
        The ports chosen are reserved for the plan until `plan.reservations.release()`."""
        model = self.base_model()
        name = name or self.new_name()
        requests = port_requests(self.profile, model, self.environ)
        reservations = PortReservations(self.backend.state)
        chosen: dict[str, int] = {}
        for request in requests:
            if bound and request.key in bound:
                chosen[request.key] = bound[request.key]
                continue
            chosen[request.key] = self.plugins.allocate_port(request, self.profile,
                                                             {p for p in chosen.values() if p}, reservations)
        plan = resolve_plan(self.profile, model, name=name, env=compose_env(self.profile, self.environ),
                            host_ports=chosen, requests=requests, lease=lease, environ=self.environ)
        return replace(plan, force=self.force, reservations=reservations, gate_conditions=self.backend.gate_conditions)

    def redactor(self) -> Redactor:
        return Redactor.for_profile(self.profile, self.environ)


def open_context(profile: str | None, environ: Mapping[str, str], *, use_alpine: bool | None = None,
                 no_cache_app_code: bool | None = None, compose_profiles: Iterable[str] = (),
                 backend: str | None = None, reporter: Reporter | None = None, force: bool = False) -> Context:
    """The profile (named, or the default one) with the command line's overrides, its plugins and
    the backend they name."""
    from netra_stack.model.profiles import default_profile_name, load_profile, profile_dirs
    from netra_stack.plugins.registry import Plugins

    chosen = load_profile(profile or default_profile_name(environ, use_alpine), profile_dirs(environ))
    if compose_profiles:  # `--compose-profile`: on top of the profile's own
        wanted = [*chosen.compose_profiles, *compose_profiles]
        chosen = chosen.model_copy(update={"compose_profiles": list(dict.fromkeys(wanted))})
    if no_cache_app_code is not None:  # the seed's option: True -> --no-cache builds, for every service
        chosen = chosen.with_build_cache("no-cache" if no_cache_app_code else "layer-cache")
    if backend:  # `--backend`: over the profile's own
        chosen = chosen.model_copy(update={"backend": backend})
    plugins = Plugins(chosen)
    files = plugins.compose_files(chosen, environ)
    if files is not None and files != chosen.compose_files:
        chosen = chosen.model_copy(update={"compose_files": [str(f) for f in files]})
    return Context(chosen, environ, plugins, plugins.backend(chosen.backend, environ, "--backend" if backend else None),
                   reporter or Reporter(), force=force)

