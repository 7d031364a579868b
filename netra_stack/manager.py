"""StackManager: the Python API. The CLI and the pytest plugin are thin layers over it.

    manager = get_default_manager()
    env_name, ports = manager.acquire_environment()     # up, healthy, {"postgres": 35001, ...}
    manager.get_health_report()
    manager.release_environment(env_name)

Policies (ports, health, conflicts, build cache) are called through the plugin manager only.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from . import labels as L
from .errors import Abandoned, EngineError, NetraError, NotFoundError, NotHealthyError, PluginError, ProfileError, UsageError
from .health import HealthMemory, HealthReport, HealthState, ServiceHealth, judge, wait_until_healthy
from .graph import HEALTHY, Graph
from .plan import (Plan, compose_env, compose_profiles, env_files, environment_name, external_resources,
                   port_requests, resolve_plan, shared_mounts)
from .plugins import Plugins
from .policy import MAX_UP_ATTEMPTS, BuildDecision, BuildOutcome, EngineFailure, PortBinding
from .profiles import Profile, default_profile_name, load_profile, profile_dirs
from .redact import Redactor



class Reporter:
    """Where progress goes. The API default is silent; the CLI passes a rich or plain one."""

    stream_logs = False  # whether waits hand over the new log lines of services not yet healthy

    def event(self, message: str) -> None: ...

    def log_line(self, service: str, line: str) -> None: ...

    def compose_line(self, line: str) -> None: ...

    def health(self, report: HealthReport) -> None: ...


@dataclass
class Environment:
    """A netra-stack environment as the engine's labels describe it."""

    name: str
    profile: str
    env_type: str
    owner: str = "?"  # user@host that made it
    services: dict[str, str] = field(default_factory=dict)  # service -> container status
    ports: list[PortBinding] = field(default_factory=list)
    created: datetime | None = None

    @property
    def state(self) -> str:
        states = set(self.services.values())
        return "running" if states == {"running"} else ("stopped" if "running" not in states else "partial")

    @property
    def age_seconds(self) -> float:
        return (datetime.now(timezone.utc) - self.created).total_seconds() if self.created else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "profile": self.profile, "env_type": self.env_type, "owner": self.owner,
                "state": self.state,
                "services": self.services, "ports": [p.as_dict() for p in self.ports],
                "created": self.created.isoformat() if self.created else None, "age_seconds": round(self.age_seconds)}


def primary_ports(bindings: Iterable[PortBinding]) -> dict[str, int]:
    """Service -> host port of its first published port (IPv4 preferred), the seed's `ports`."""
    chosen: dict[str, PortBinding] = {}
    for b in sorted(bindings, key=lambda b: (b.service, b.container_port, ":" in b.host_ip)):
        chosen.setdefault(b.service, b)
    return {service: b.host_port for service, b in chosen.items()}


def port_variables(ports: Mapping[str, int]) -> dict[str, str]:
    """NETRA_<SERVICE>_PORT for each service's host port (`ports --env`, `netra-stack test`)."""
    return {f"NETRA_{s.upper().replace('-', '_')}_PORT": str(p) for s, p in sorted(ports.items())}


@contextmanager
def _removal_signals(name: str, reporter: Reporter):
    """While an environment is removed, Ctrl-C (or SIGTERM) does not cut the removal short: the
    first says what is still being removed, the next stops waiting and says what may remain
    (main thread only; elsewhere signals never arrive)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    presses = 0

    def remaining() -> str:
        from . import engine

        found = [f"{c.name} ({c.status})" for c in engine.summaries(name)]
        return ", ".join(found) or "its networks and volumes"

    def on_signal(signum, frame) -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            reporter.event(f"still removing {name}: {remaining()}; press Ctrl-C again to stop waiting")
            return
        raise Abandoned(f"stopped waiting while {name} was being removed; it may still hold {remaining()}",
                        hint=f"remove it with `netra-stack clean` or `netra-stack down --name {name}`")

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def list_environments(profile: str | None = None) -> list[Environment]:
    """Every netra-stack environment on this engine, from its labels alone."""
    from . import engine

    found: dict[str, Environment] = {}
    for c in engine.summaries():
        env = found.setdefault(c.environment, Environment(c.environment, c.labels.get(L.PROFILE, "?"),
                                                          c.labels.get(L.ENV_TYPE, "?"), c.labels.get(L.OWNER, "?")))
        env.services[c.service] = c.status
        env.ports.extend(c.ports)
        if c.created and (env.created is None or c.created < env.created):
            env.created = c.created
    return [e for e in sorted(found.values(), key=lambda e: e.name) if profile is None or e.profile == profile]


class StackManager:
    def __init__(
        self,
        profile: str | None = None,
        *,
        use_alpine: bool | None = None,
        no_cache_app_code: bool | None = None,
        environ: Mapping[str, str] | None = None,
        reporter: Reporter | None = None,
        force: bool = False,
        keep: bool = False,
        compose_profiles: Iterable[str] = (),
    ) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.profile: Profile = load_profile(profile or default_profile_name(self.environ, use_alpine),
                                             profile_dirs(self.environ))
        if compose_profiles:  # `--compose-profile`: on top of the profile's own
            wanted = [*self.profile.compose_profiles, *compose_profiles]
            self.profile = self.profile.model_copy(update={"compose_profiles": list(dict.fromkeys(wanted))})
        if no_cache_app_code is not None:  # the seed's option: True -> --no-cache builds, for every service
            self.profile = self.profile.with_build_cache("no-cache" if no_cache_app_code else "layer-cache")
        self.plugins = Plugins(self.profile)
        files = self.plugins.compose_files(self.profile, self.environ)
        if files is not None and files != self.profile.compose_files:
            self.profile = self.profile.model_copy(update={"compose_files": [str(f) for f in files]})
        self.reporter = reporter or Reporter()
        self.force = force  # remove foreign containers and networks in the way of `up`
        self.keep = keep  # as a context manager: hold no lease and release nothing (debugging)
        self.env_name: str | None = None  # the environment this manager acquired or works on
        self._model: Future | None = None  # the compose model (base_model), once asked for
        self.builds: list[BuildOutcome] = []  # what the last up or rebuild built, and why
        self._replaced: dict[str, str] = {}  # service -> the image id its last build replaced, until removed

    # --- policies -------------------------------------------------------------------------------

    # --- planning --------------------------------------------------------------------------------

    def base_model(self) -> dict[str, Any]:
        """The profile's compose files as compose reads them (without netra-stack's override)."""
        return self._reading_model().result()

    def _reading_model(self) -> Future:
        """`docker compose config` of the profile's files, read once, in a thread of its own: `up`
        starts it early so that the compose process runs on another core while Python goes on."""
        if self._model is None:
            from .compose import Compose  # here, not in the thread: imports stay on one thread

            self._model = Future()
            threading.Thread(target=self._read_model, args=(Compose, self._model), daemon=True).start()
        return self._model

    def _read_model(self, compose: type, result: Future) -> None:
        try:
            missing = [f for f in self.profile.compose_files if not (self.profile.root / f).is_file()]
            if missing:
                raise ProfileError(f"{self.profile.source}: compose_files: {missing[0]} does not exist in {self.profile.root}",
                                   hint="paths are relative to project_dir")
            with tempfile.TemporaryDirectory(prefix="netra-stack-") as folder:
                files = [self.profile.root / f for f in self.profile.compose_files]
                wanted = compose_profiles(self.profile, self.environ)
                reader = compose.prepare(Path(folder), "netra-config", files, compose_env(self.profile, self.environ),
                                         env_files=env_files(self.profile), profiles=wanted)
                model = reader.config()
                if wanted:  # compose ignores a profile it does not know: a typo would go unseen
                    known = reader.profiles()
                    unknown = [p for p in wanted if p not in known]
                    if unknown:
                        raise ProfileError(f"{self.profile.source}: compose_profiles: unknown compose profile "
                                           f"{unknown[0]!r}; the compose files define: {', '.join(known) or 'none'}",
                                           hint="check compose_profiles, --compose-profile and COMPOSE_PROFILES")
                result.set_result(model)
        except BaseException as error:  # raised again where the model is needed
            result.set_exception(error)

    def plan(self, name: str | None = None, bound: Mapping[str, int] | None = None, lease: str = "") -> Plan:
        """Resolve the profile. `bound` gives host ports already bound (an existing environment)."""
        model = self.base_model()
        name = name or self._new_name()
        requests = port_requests(self.profile, model, self.environ)
        chosen: dict[str, int] = {}
        for request in requests:
            if bound and request.key in bound:
                chosen[request.key] = bound[request.key]
                continue
            chosen[request.key] = self.plugins.allocate_port(request, self.profile, {p for p in chosen.values() if p})
        plan = resolve_plan(self.profile, model, name=name, env=compose_env(self.profile, self.environ),
                            host_ports=chosen, requests=requests, lease=lease, environ=self.environ)
        return replace(plan, force=self.force) if self.force else plan

    def resolved_config(self, *, reveal: bool = False, env_name: str | None = None) -> str:
        """The fully resolved compose configuration, as `docker compose config` prints it: of the
        running environment `env_name`, with the host ports it has bound, or else a preview of a
        new one, with example host ports (a comment says which)."""
        from .compose import Compose

        if env_name:
            self._check_exists(env_name)
            plan = self._plan_of(env_name)
            head = f"# environment {env_name} as it runs, with the host ports it has bound\n"
        else:
            plan = self.plan(name=environment_name(self.profile, self.environ, env_id="config"))
            head = (f"# preview of a new environment of profile {self.profile.name}: its host ports are examples, "
                    "chosen again at `up`; `netra-stack config --name ENV` shows a running one\n")
        self._warn_shared_mounts()
        with tempfile.TemporaryDirectory(prefix="netra-stack-") as folder:
            text = Compose.for_plan(plan, Path(folder)).config_yaml()
        return head + (text if reveal else Redactor.for_plan(plan).redact(text))

    def _warn_shared_mounts(self) -> None:
        for what in shared_mounts(self.profile, self.base_model()):
            self.reporter.event(f"warning: parallel environments of {self.profile.name} share {what}; "
                                "isolation cannot cover it")

    def _check_external(self) -> None:
        """Every external volume and network the compose files name exists (else compose would
        fail half-way, after starting some services)."""
        from . import engine

        for kind, name in external_resources(self.base_model()):
            if not engine.exists(kind, name):
                raise NotFoundError(f"{self.profile.source}: the compose files use external {kind} {name!r}, "
                                    "which does not exist",
                                    hint=f"create it with `docker {kind} create {name}`")

    # --- lifecycle -------------------------------------------------------------------------------

    def acquire_environment(self, *, wait: bool = True, timeout: float | None = None,
                            keep_on_failure: bool = False, build: bool = True,
                            hold: bool = False) -> tuple[str, dict[str, int]]:
        """Bring a new environment up (or reuse the one COMPOSE_PROJECT_NAME names) and wait for it.

        Returns (env_name, {service: host port}). On failure or interruption the environment this
        call created is removed again (unless keep_on_failure) and the error says why. With
        build=False the images are used as they are (no build-cache decision is asked). With
        hold=True the environment belongs to this process: a watchdog removes it if the process
        dies without releasing it (SIGKILL included); see watchdog.py. Otherwise it outlives the
        process, as `netra-stack up` does, until released or cleaned.
        """
        self._reading_model()  # compose reads the files on another core while the Docker SDK is imported
        from . import engine
        from .compose import Compose

        engine.client()
        self._check_external()
        self._warn_shared_mounts()
        name = self._new_name()
        existing = engine.containers(project=name)
        foreign = [c.name for c in existing if not L.is_ours(c.labels)]
        if foreign:
            raise EngineError(f"compose project {name} exists and is not netra-stack's (containers: {', '.join(foreign[:3])})",
                              hint="choose another COMPOSE_PROJECT_NAME; netra-stack never touches it")
        if any(c.running for c in existing):  # COMPOSE_PROJECT_NAME of a live environment: reuse it
            self.reporter.event(f"reusing environment {name}, which is already up")
            self.env_name = name
            if wait:
                self.wait_for_services(timeout)
            return name, self.ports(name)
        from . import watchdog

        plan = self.plan(name, lease=watchdog.lease_of() if hold else "")
        self.env_name = name
        if hold:
            watchdog.spawn(name)
        try:
            compose = Compose.for_plan(plan)
            self.reporter.event(f"environment {name} (profile {self.profile.name})")
            resolution = self.plugins.resolve_conflict(plan, None, 0)
            if resolution and resolution.removed:
                self.reporter.event(f"removed leftovers: {', '.join(resolution.removed)}")
            if resolution and resolution.action == "fail":
                raise EngineError(f"{name} cannot start: {resolution.reason}",
                                  hint=f"plugin {self.plugins.deciders['netra_resolve_conflict']!r} refused it")
            self.plugins.before_up(plan)
            early = _EarlyChecks(self, plan) if wait and build else None
            try:
                if build:
                    self._build(plan, compose, head_start=True)
            finally:
                healthy = early.stop() if early else {}
            started, healthy = self._up(plan, compose, healthy, timeout)
            if wait:  # what was checked before holds for the plan it checked, not after new ports
                self._wait(started, timeout, healthy if started is plan else {})
            plan = started
            ports = self.ports(name)
            self.plugins.after_up(plan, ports)
            return name, ports
        except BaseException as error:
            if isinstance(error, NetraError):
                self._diagnose(name, error)
            if not keep_on_failure:
                self._teardown(name)
            raise

    def _new_name(self) -> str:
        return self.plugins.environment_name(self.profile, self.environ)

    def _diagnose(self, name: str, error: NetraError) -> None:
        """Let plugins attach diagnostics to a failure, while the environment still exists."""
        report = getattr(error, "report", None)
        try:
            error.diagnostics.extend(self.plugins.on_failure(name, error, report))
        except PluginError as broken:  # a broken diagnostic plugin must not hide the failure itself
            error.diagnostics.append(broken.line)

    def _up(self, plan: Plan, compose, healthy: Mapping[str, ServiceHealth] | None = None,
            timeout: float | None = None) -> tuple[Plan, dict[str, ServiceHealth]]:
        """Start the plan's services, retrying after a conflict the policy resolves. Returns the
        plan that started (ports may have been chosen again) and the services found HEALTHY on
        the way (`healthy`: those found so before)."""
        from .compose import Compose

        for attempt in range(1, MAX_UP_ATTEMPTS + 1):
            try:
                return plan, self._start(plan, compose, dict(healthy or {}), timeout)
            except EngineError as error:
                failure = EngineFailure.parse(error.stderr)
                if failure.kind == "dependency_failed":  # a health failure, reported as one (with its logs)
                    self._wait(plan, 0, services=[failure.details["service"]])
                resolution = self.plugins.resolve_conflict(plan, failure, attempt)
                why = resolution.reason if resolution else "no plugin resolves it"
                self.reporter.event(f"attempt {attempt}/{MAX_UP_ATTEMPTS}: {failure.summary()} -> {why}")
                if resolution is None or resolution.action != "retry" or attempt == MAX_UP_ATTEMPTS:
                    raise EngineError(f"starting {plan.name} failed: {failure.summary()}",
                                      hint=why if resolution else "see `netra-stack logs`; the output above has the details",
                                      stderr=error.stderr) from None
                time.sleep(0.5 * 2 ** (attempt - 1))
                if resolution.replan_ports:
                    plan = self.plan(plan.name, lease=plan.labels.get(L.LEASE, ""))
                    compose = Compose.for_plan(plan)
                    healthy = {}
        return plan, dict(healthy or {})

    def _start(self, plan: Plan, compose, healthy: dict[str, ServiceHealth],
               timeout: float | None) -> dict[str, ServiceHealth]:
        """`docker compose up`, in stages where services wait for a healthy dependency: each
        stage starts what no unhealthy dependency holds back, and the next begins as soon as
        netra-stack's own checks pass, not when Docker's healthcheck next runs (one `interval`
        after start). The plan's override lets compose start such dependents at once; compose
        keeps every other condition (service_completed_successfully, required) as it is."""
        if not plan.gates:
            compose.up(on_line=self.reporter.compose_line)
            return healthy
        holds = {s: plan.graph.holds(s) for s in plan.services}
        started: set[str] = set()
        while len(started) < len(plan.services):
            ready = [s for s in plan.services if s not in started and holds[s] <= healthy.keys()]
            if not ready:  # a cycle of gates: let compose sort the rest out
                ready = [s for s in plan.services if s not in started]
            self.reporter.event(f"starting {', '.join(ready)}")
            # Later stages: --no-deps, or compose would start the one-shot services that already ran again.
            compose.up(ready, first=not started, on_line=self.reporter.compose_line)
            started.update(ready)
            awaited = {g for s in plan.services if s not in started for g in holds[s]} & started - healthy.keys()
            if awaited:  # what the next stage needs, each wait bounded by the timeout of waits
                report = self._wait(plan, timeout, healthy, services=awaited)
                healthy.update({s.service: s for s in report.services})
        return healthy

    def _build(self, plan: Plan, compose, services: list[str] | None = None, *, forced: bool = False,
               no_cache: bool = False, head_start: bool = False) -> list[BuildOutcome]:
        """Ask the build-cache policy about each service that builds, build what it says (side
        by side, in dependency order) and report, per service, whether it was built, why, and
        how long it took. `forced` builds every one (`rebuild`); `no_cache` without the cache.
        `head_start`: start the services that need no build meanwhile (a database gets ready
        while the code builds)."""
        from . import engine

        decisions: dict[str, BuildDecision] = {}
        for service, spec in self.base_model().get("services", {}).items():
            if "build" not in (spec or {}) or (services and service not in services):
                continue
            decision = self.plugins.build_decision(service, spec["build"], plan)
            if decision is not None and forced:
                decision = replace(decision, build=True, no_cache=no_cache or decision.no_cache,
                                   reason="forced: rebuild" + (" --no-cache" if no_cache else ""))
            if decision is not None:
                decisions[service] = decision
        outcomes = [BuildOutcome(s, False, d.reason) for s, d in decisions.items() if not d.build]
        for outcome in outcomes:
            self.reporter.event(f"{outcome.service}: not built ({outcome.reason})")
        wanted = [s for s, d in decisions.items() if d.build]
        previous = {s: engine.image_id(plan.images[s]) for s in wanted if s in plan.images}
        meanwhile = plan.graph.startable_while_building(plan.services, wanted) if head_start else []
        for number, wave in enumerate(plan.graph.build_waves(wanted)):
            uncached = [s for s in wave if decisions[s].no_cache]
            starting = meanwhile if number == 0 else []  # with the first wave, the others wait for it
            self.reporter.event(f"building {', '.join(wave)}" + (f" ({', '.join(uncached)} without the layer cache)"
                                                                  if uncached else "")
                                + (f"; starting {', '.join(starting)} meanwhile" if starting else ""))
            took = compose.build(wave, no_cache=uncached, labels={s: {L.MANAGED: "true", **decisions[s].labels}
                                                                  for s in wave},
                                 start_meanwhile=starting, on_line=self.reporter.compose_line)
            for service in wave:
                decision = decisions[service]
                seconds = round(took[service], 2)  # the report and the message say the same
                outcomes.append(BuildOutcome(service, True, decision.reason, seconds, decision.no_cache))
                self.reporter.event(f"{service}: built in {seconds:.1f}s ({decision.reason})")
        self._replaced = {s: old for s, old in previous.items() if old and engine.image_id(plan.images[s]) != old}
        self._remove_replaced()
        self.builds = outcomes
        return outcomes

    def _remove_replaced(self) -> None:
        """A rebuilt image leaves its predecessor untagged: remove it once no container uses it
        (after `rebuild` that is once the services were recreated)."""
        from . import engine

        for service, old in list(self._replaced.items()):
            if engine.remove_superseded_image(old):
                self.reporter.event(f"{service}: removed the image it replaced, {old.removeprefix('sha256:')[:12]}")
                del self._replaced[service]

    def _teardown(self, name: str) -> None:
        from .cleanup import release

        self.reporter.event(f"removing environment {name}")
        with _removal_signals(name, self.reporter):  # Ctrl-C here must not leave half an environment unsaid
            release(name, on_line=self.reporter.compose_line, plugins=self.plugins)

    def release_environment(self, env_name: str | None = None) -> None:
        """Stop and remove an environment: containers, networks, volumes, state files."""
        name = env_name or self._current()
        self._check_exists(name)
        self._teardown(name)
        if self.env_name == name:
            self.env_name = None

    def restart_service(self, services: str | list[str], env_name: str | None = None, *, wait: bool = True,
                        timeout: float | None = None) -> HealthReport | None:
        from .compose import Compose

        name = env_name or self._current()
        wanted = [services] if isinstance(services, str) else list(services)
        self._check_services(wanted)
        self.reporter.event(f"restarting {', '.join(wanted)} in {name}")
        Compose(name).restart(wanted)
        return self.wait_for_services(timeout, env_name=name) if wait else None

    def rebuild(self, services: list[str] | None = None, *, no_cache: bool | None = None,
                env_name: str | None = None) -> None:
        """Build images again (the policy decides the cache, `no_cache` forces it) and recreate what runs."""
        from .compose import Compose

        if services:
            self._check_services(services)
        name = env_name or self._current(required=False)
        plan = self.plan(name, bound=self._bound(name)) if name else self.plan()
        if plan.uses_production_images:
            raise UsageError("USE_PRODUCTION_IMAGES is set: production images are used as they are, never rebuilt",
                             hint="unset USE_PRODUCTION_IMAGES to build the images")
        compose = Compose.for_plan(plan)
        try:
            self._build(plan, compose, services, forced=True, no_cache=bool(no_cache))
            if name:
                self._up(plan, compose)  # recreates what runs
                self._remove_replaced()  # the recreated services no longer use them
                self.wait_for_services(env_name=name)
        finally:
            if not name:
                Compose.forget(plan.name)

    def __enter__(self) -> tuple[str, dict[str, int]]:
        """`with StackManager("alpine-test") as (name, ports):` an environment this process holds:
        released on exit, and reaped by its watchdog should the process be killed."""
        return self.acquire_environment(hold=not self.keep)

    def __exit__(self, *exc_info: object) -> None:
        if self.env_name and not self.keep:
            self.release_environment(self.env_name)

    # --- health ----------------------------------------------------------------------------------

    def get_health_report(self, env_name: str | None = None, *, with_logs: bool = False) -> HealthReport:
        name = env_name or self._current()
        report = self._probe(self._plan_of(name), {})
        return self._with_logs(report) if with_logs else report

    def wait_for_services(self, timeout: float | None = None, env_name: str | None = None) -> HealthReport:
        """Wait until every service is HEALTHY; fail fast on an exit, a crash loop or Docker's
        `unhealthy`. The engine's events wake the wait at once; between them, services still
        STARTING are probed on a short, growing interval."""
        return self._wait(self._plan_of(env_name or self._current()), timeout)

    def _wait(self, plan: Plan, timeout: float | None,
              healthy: Mapping[str, ServiceHealth] | None = None,
              services: Iterable[str] | None = None) -> HealthReport:
        """The wait itself, for `services` (default: all); `healthy`: services found HEALTHY
        before it began (early checks, an earlier stage of `up`)."""
        from . import engine

        name = plan.name
        timeout = self.profile.wait_timeout if timeout is None else timeout
        seen_logs: dict[str, float] = {}

        def on_report(report: HealthReport) -> None:
            self.reporter.health(report)
            if self.reporter.stream_logs:
                self._stream_logs(report, seen_logs)

        last: dict[str, ServiceHealth] = dict(healthy or {})

        def probe(skip: set[str]) -> HealthReport:
            report = self._probe(plan, {s: last[s] for s in skip if s in last}, services)
            last.update({s.service: s for s in report.services})
            return report

        watch = engine.EventWatch(name)
        try:
            report, outcome = wait_until_healthy(probe, timeout, on_report, wake=watch.wake, healthy=set(last))
        finally:
            watch.close()
        if outcome == "healthy":
            return report
        report = self._with_logs(report)
        cause = "failed" if outcome == "failed" else f"not healthy after {timeout:g}s"
        raise NotHealthyError(f"environment {name} {cause}: {report.explain()}",
                              hint=f"`netra-stack logs --name {name}` shows everything", report=report)

    def _stream_logs(self, report: HealthReport, seen: dict[str, float]) -> None:
        """New log lines of the services that are not healthy yet (`up --verbose`)."""
        from . import engine

        redactor = Redactor.for_profile(self.profile, self.environ)
        for s in report.not_healthy():
            if not s.container:
                continue
            now = time.time()
            text = engine.logs(s.container, tail="all", since=seen.get(s.container))
            seen[s.container] = now
            for line in text.splitlines():
                self.reporter.log_line(s.service, redactor.redact(line))

    def _probe(self, plan: Plan, healthy: dict[str, ServiceHealth],
               services: Iterable[str] | None = None) -> HealthReport:
        """One report (of `services`, by default all). A service in `healthy` (HEALTHY at the last
        probe of this wait) keeps that result while its container still runs the same way,
        without running its checks again. A service that has been HEALTHY in this run of its
        container and fails now is UNHEALTHY, in this process or a later one (HealthMemory)."""
        from . import engine

        latest: dict[str, Any] = {}
        for container in engine.containers(plan.name):
            if container.labels.get(L.COMPOSE_ONEOFF, "False") == "False":
                latest[container.service] = container

        def check(service: str) -> ServiceHealth:
            container = latest.get(service)
            before = healthy.get(service)
            if (before and container is not None and container.running and container.health != "unhealthy"
                    and container.name == before.container and before.container_state == "running"):
                return replace(before, docker_health=container.health, docker_probe=container.health_output)
            result = self.plugins.check_health(service, container, plan)
            return result or judge(service, container, None, one_shot=plan.is_one_shot(service))

        # Services are checked side by side: a round takes as long as the slowest check, not their sum.
        services = plan.services if services is None else [s for s in plan.services if s in services]
        with ThreadPoolExecutor(max_workers=max(1, len(services))) as pool:
            results = list(pool.map(check, services))
        memory = HealthMemory(plan.name)
        results = [memory.judged(result, latest.get(result.service)) for result in results]
        memory.save()
        return HealthReport(plan.name, plan.profile.name, results, plan.graph.as_lists())

    @cached_property
    def graph(self) -> Graph:
        """The services' dependency graph, from the compose model (once, not per probe)."""
        return Graph.from_model(self.base_model())

    @property
    def awaited_healthy(self) -> set[str]:
        """The services another one depends on with `condition: service_healthy`: `up` starts
        such dependents once netra-stack's checks find these healthy."""
        return self.graph.awaited(HEALTHY)

    def _with_logs(self, report: HealthReport) -> HealthReport:
        from . import engine

        redactor = Redactor.for_profile(self.profile, self.environ)
        found = {c.service: c for c in engine.containers(report.environment)}
        services = [
            replace(s, logs=redactor.redact(engine.logs(found[s.service].id)))
            if s.state is not HealthState.HEALTHY and s.service in found else s
            for s in report.services
        ]
        return replace(report, services=services)

    # --- ports and environments -------------------------------------------------------------------

    def get_ports(self, env_name: str | None = None) -> list[PortBinding]:
        """Every host port the environment really has bound, read back from the engine."""
        from . import engine

        name = env_name or self._current()
        return self.plugins.discover_ports(name, engine.containers(name))

    def ports(self, env_name: str | None = None) -> dict[str, int]:
        return primary_ports(self.get_ports(env_name))

    def environments(self, profile: str | None = None) -> list[Environment]:
        return list_environments(profile)

    def cleanup_orphaned_containers(self) -> list[str]:
        """Remove netra-stack containers that have stopped (exited, dead, never started)."""
        from . import cleanup, engine

        removed = cleanup.orphaned_containers()
        for container in removed:
            engine.remove_container(container)
        return [c.name for c in removed]

    def cleanup_old_environments(self, max_age: float | timedelta) -> list[str]:
        """Release every netra-stack environment created more than `max_age` (seconds) ago."""
        from . import cleanup

        seconds = max_age.total_seconds() if isinstance(max_age, timedelta) else float(max_age)
        return [item["name"] for item in cleanup.clean(older_than=seconds, plugins=self.plugins) if item["kind"] == "environment"]

    def logs(self, services: list[str] | None = None, *, tail: int | None = None, follow: bool = False,
             env_name: str | None = None) -> Iterable[str]:
        from .compose import Compose

        if services:
            self._check_services(services)
        redactor = Redactor.for_profile(self.profile, self.environ)
        for line in Compose(env_name or self._current()).logs(services or [], tail=tail, follow=follow):
            yield redactor.redact(line)

    # --- helpers ---------------------------------------------------------------------------------

    def _current(self, required: bool = True) -> str | None:
        """The environment to act on: this manager's, COMPOSE_PROJECT_NAME's, or the profile's only one."""
        if self.env_name:
            return self.env_name
        if self.environ.get("COMPOSE_PROJECT_NAME"):
            return self.environ["COMPOSE_PROJECT_NAME"]
        mine = [e.name for e in self.environments(self.profile.name)]
        if len(mine) == 1:
            self.env_name = mine[0]
            return mine[0]
        if not required:
            return None
        if not mine:
            raise NotFoundError(f"no environment of profile {self.profile.name} is up",
                                hint=f"start one with `netra-stack up --profile {self.profile.name}`")
        raise NotFoundError(f"{len(mine)} environments of profile {self.profile.name} are up: {', '.join(mine)}",
                            hint="choose one with --name NAME (or COMPOSE_PROJECT_NAME)")

    def _bound(self, name: str) -> dict[str, int]:
        return {f"{b.service}:{b.container_port}/{b.protocol}": b.host_port for b in self.get_ports(name)}

    def _plan_of(self, name: str) -> Plan:
        """The plan of an environment that exists: its ports are what the engine has bound."""
        return self.plan(name, bound=self._bound(name))

    def _check_exists(self, name: str) -> None:
        from . import engine

        if not engine.containers(name) and not engine.networks(name):
            raise NotFoundError(f"no netra-stack environment named {name!r} on this engine",
                                hint="`netra-stack status` lists them")

    def _check_services(self, services: list[str]) -> None:
        known = list(self.base_model().get("services", {}))
        for service in services:
            if service not in known:
                raise NotFoundError(f"unknown service {service!r} in profile {self.profile.name}; known: {', '.join(known)}",
                                    hint="service names are those of the compose files")


class _EarlyChecks:
    """Health checks while the code builds: the services of the head start (a database, a cache)
    are checked once their containers run, so the wait after `up` has only the last ones left.
    None run during compose's `up`: checks while compose starts containers, level after level,
    would compete with it for the CPU and slow it down more than they save (the stages of
    `_start` check what a stage waits for). Only HEALTHY results are handed on; the wait checks
    everything else itself."""

    INTERVAL = 0.25  # seconds between rounds when no container event wakes them sooner

    def __init__(self, manager: StackManager, plan: Plan) -> None:
        from . import engine

        self.healthy: dict[str, ServiceHealth] = {}
        self._stopped = threading.Event()
        self._watch = engine.EventWatch(plan.name)
        threading.Thread(target=self._run, args=(manager, plan), name=f"netra-early-{plan.name}",
                         daemon=True).start()

    def _run(self, manager: StackManager, plan: Plan) -> None:
        try:
            while True:  # nothing runs yet: the first round waits for an event (or the interval)
                self._watch.wake.wait(self.INTERVAL)
                self._watch.wake.clear()
                if self._stopped.is_set():
                    break
                checked = {s.service: s for s in manager._probe(plan, self.healthy).services}
                self.healthy = {service: health for service, health in {**self.healthy, **checked}.items()
                                if health.state is HealthState.HEALTHY}
        except Exception:  # e.g. containers removed under it (a failed `up`): the wait checks again
            pass
        finally:
            self._watch.close()

    def stop(self) -> dict[str, ServiceHealth]:
        """Stop checking; the services found HEALTHY so far."""
        self._stopped.set()
        self._watch.wake.set()
        return self.healthy


_default: StackManager | None = None


def get_default_manager(**options: Any) -> StackManager:
    """The process's shared manager, for the default profile (DOCKER_ENV / USE_ALPINE, else test)."""
    global _default
    if _default is None or options:
        _default = StackManager(**options)
    return _default


__all__ = ["StackManager", "get_default_manager", "Environment", "Reporter", "primary_ports"]
