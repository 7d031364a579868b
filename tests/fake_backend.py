"""An in-memory backend for engine-free tests of the lifecycle (netra_stack.lifecycle).

`FakeWorld` is what "runs": the instances of every environment, the scripts that say how `up`,
health commands and exits behave, and one call log shared by every backend made on it (so that
two managers see the same environments, as two processes on one engine would). `FakeBackend`
implements netra_stack.backends.base.Backend over a world. tests/fake_backend_plugin.py
registers it as the backend "fake" (its factory is `factory` below, which makes backends on the
world `install`ed last).

    world = install(FakeWorld(model={"services": {"db": {"image": "postgres"}}}))
    world.fail_up(1, "Bind for 127.0.0.1:38001 failed: port is already allocated", "port_allocated",
                  port="38001")
    world.health["db"] = [1, 1, 0]          # the health command fails twice, then passes
    world.exits["migrate"] = 1              # migrate's instance exits 1 as soon as it starts
    ... StackManager("p", environ={...}) with a profile `backend = "fake"` ...
    world.ops()  # ["check", "prepare", "up", "exec", ..., "down"]

Nothing here imports the docker SDK or runs a process.
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from netra_stack.planning.graph import HEALTHY
from netra_stack.model import labels as L
from netra_stack.model.decisions import EngineFailure, PortBinding
from netra_stack.model.errors import DockerUnavailableError, EngineError, UsageError
from netra_stack.model.instances import ImageInfo, Instance
from netra_stack.model.usage import Usage
from netra_stack.model.state import state_dir

HealthScript = int | Sequence[int] | Callable[[Sequence[str]], int]


@dataclass
class UpFailure:
    """`up` fails `times` more times with EngineError(stderr=text); failure(text) is `kind`.
    `text` and each detail may be callables of the plan (to name the port it chose)."""

    times: int
    text: str | Callable[[Any], str]
    kind: str
    details: dict[str, Any] = field(default_factory=dict)


class FakeWatch:
    """The Watch of base.py: `wake` is set whenever an instance of the world changes."""

    def __init__(self, world: FakeWorld, environment: str) -> None:
        self.world, self.environment = world, environment
        self.wake = threading.Event()
        self.closed = False

    def close(self) -> None:
        self.closed = True
        with self.world.lock:
            if self in self.world.watches:
                self.world.watches.remove(self)


class FakeWorld:
    """What runs, and how it behaves."""

    def __init__(self, model: Mapping[str, Any] | None = None) -> None:
        self.model: dict[str, Any] = copy.deepcopy(dict(model or {"services": {}}))
        self.instances: dict[str, Instance] = {}  # id -> instance
        self.calls: list[tuple[str, tuple]] = []
        self.lock = threading.RLock()
        self.failures: list[UpFailure] = []  # scripted failures of `up`, used up in order
        self.failure_texts: dict[str, EngineFailure] = {}  # what failure() answers, per text raised
        self.up_raises: BaseException | None = None  # raised by every `up` (e.g. KeyboardInterrupt())
        self.health: dict[str, HealthScript] = {}  # service -> exit codes of its health command
        self.exits: dict[str, int] = {}  # service -> its instance exits at once with this code
        self.log_text: dict[str, str] = {}  # service -> its log
        self.notes: list[str] = []  # what the backend says it runs differently from the files
        self.gate_conditions = frozenset({HEALTHY})  # the backend's: every condition for one that orders nothing
        self.foreign: dict[str, list[Instance]] = {}  # environment -> instances not netra-stack's
        self.watches: list[FakeWatch] = []
        self.engine_down = False  # check() fails until start() is called
        self.backends: list[FakeBackend] = []  # every backend made on this world, in order
        self._ids = itertools.count(1)
        self._ports = itertools.count(41000)
        self._execs: dict[str, int] = {}  # service -> health commands run so far

    # --- scripting ------------------------------------------------------------------------------

    def fail_up(self, times: int, text: str | Callable[[Any], str], kind: str, **details: Any) -> UpFailure:
        found = UpFailure(times, text, kind, details)
        self.failures.append(found)
        return found

    # --- reading the log ------------------------------------------------------------------------

    def record(self, operation: str, *args: Any) -> None:
        with self.lock:
            self.calls.append((operation, args))

    def ops(self, *wanted: str) -> list[str]:
        """The operations called, in order (only those named, if any)."""
        with self.lock:
            return [op for op, _ in self.calls if not wanted or op in wanted]

    def calls_of(self, operation: str) -> list[tuple]:
        with self.lock:
            return [args for op, args in self.calls if op == operation]

    def of(self, environment: str) -> list[Instance]:
        with self.lock:
            return [i for i in self.instances.values() if i.environment == environment]

    def environments(self) -> set[str]:
        with self.lock:
            return {i.environment for i in self.instances.values()}

    # --- changes --------------------------------------------------------------------------------

    def changed(self) -> None:
        with self.lock:
            watches = list(self.watches)
        for watch in watches:
            watch.wake.set()

    def health_code(self, service: str, argv: Sequence[str]) -> int:
        script = self.health.get(service, 0)
        with self.lock:
            n = self._execs.get(service, 0)
            self._execs[service] = n + 1
        if callable(script):
            return int(script(argv))
        if isinstance(script, int):
            return script
        return int(script[min(n, len(script) - 1)]) if script else 0

    def new_id(self) -> str:
        return f"{next(self._ids):012x}" + "0" * 52

    def new_port(self) -> int:
        return next(self._ports)


class FakeBackend:
    """netra_stack.backends.base.Backend in memory, over a FakeWorld."""

    name = "fake"

    def __init__(self, environ: Mapping[str, str], world: FakeWorld) -> None:
        self.environ = environ
        self.made_with = dict(environ)  # what the factory was given
        self.state: Path = state_dir(environ)
        self.world = world
        self.gate_conditions = world.gate_conditions
        self.runs_checks = False
        world.backends.append(self)

    @property
    def calls(self) -> list[tuple[str, tuple]]:
        return self.world.calls

    def _record(self, operation: str, *args: Any) -> None:
        self.world.record(operation, *args)

    # --- planning -------------------------------------------------------------------------------

    def read_model(self, profile, environ) -> dict[str, Any]:
        self._record("read_model", profile.name)
        return copy.deepcopy(self.world.model)

    def check(self) -> None:
        self._record("check")
        if self.world.engine_down:
            raise DockerUnavailableError("cannot reach the fake engine", hint="start it")

    def start(self, command, timeout, on_line) -> None:
        self._record("start", command, timeout)
        self.world.engine_down = False

    def diagnose(self) -> list:
        self._record("diagnose")
        return []

    def config(self, plan) -> str:
        self._record("config", plan.name)
        return json.dumps({"name": plan.name, "services": list(plan.services), "ports": plan.ports}, indent=2)

    # --- lifecycle ------------------------------------------------------------------------------

    def notes(self, plan) -> list[str]:
        return list(self.world.notes)

    def prepare(self, plan) -> None:
        (self.state / plan.name).mkdir(parents=True, exist_ok=True)
        self._record("prepare", plan.name, dict(plan.ports))

    def build(self, plan, services, *, no_cache=(), labels=None, start_meanwhile=(), on_line=None) -> dict[str, float]:
        self._record("build", plan.name, tuple(services), tuple(no_cache), tuple(start_meanwhile))
        if start_meanwhile:
            self._start(plan, list(start_meanwhile))
        return {service: 0.01 for service in services}

    def up(self, plan, services: Sequence[str] = (), *, first: bool = True, on_line=None) -> None:
        self._record("up", plan.name, tuple(services), first)
        world = self.world
        if world.up_raises is not None:
            raise world.up_raises
        with world.lock:
            failure = next((f for f in world.failures if f.times > 0), None)
            if failure is not None:
                failure.times -= 1
        if failure is not None:
            text = failure.text(plan) if callable(failure.text) else failure.text
            details = {k: str(v(plan) if callable(v) else v) for k, v in failure.details.items()}
            world.failure_texts[text] = EngineFailure(failure.kind, text, details)  # type: ignore[arg-type]
            raise EngineError(f"compose up of {plan.name} failed", stderr=text)
        wanted = list(services or plan.services)
        if first:  # compose starts what a service depends on with it
            wanted = [s for s in plan.services if s in wanted or any(s in plan.graph.upstream(w) for w in wanted)]
        self._start(plan, wanted)

    def _start(self, plan, services: Iterable[str]) -> None:
        world = self.world
        now = datetime.now(timezone.utc)
        with world.lock:
            for service in services:
                if any(i.service == service and i.running for i in world.of(plan.name)):
                    continue  # up again: what runs keeps running
                intent = plan.intents[service]
                labels = {**intent.labels, L.COMPOSE_SERVICE: service, L.COMPOSE_PROJECT: plan.name}
                ports = [PortBinding(service, p.container, p.protocol, p.host_ip, p.host or world.new_port())
                         for p in intent.ports]
                code = world.exits.get(service)
                instance = Instance(
                    id=world.new_id(), name=f"{plan.name}-{service}-1", labels=labels,
                    status="running" if code is None else "exited", exit_code=code, health=None,
                    health_output="", ports=ports if code is None else [],
                    created=now - timedelta(seconds=60),
                    started=now - timedelta(seconds=60),  # steady: a service without checks is HEALTHY at once
                )
                for old in [i for i in world.of(plan.name) if i.service == service]:
                    del world.instances[old.id]
                world.instances[instance.id] = instance
        world.changed()

    def down(self, environment: str, on_line=None, *, images: bool = False) -> list[str]:
        self._record("down", environment)
        with self.world.lock:
            for instance in self.world.of(environment):
                del self.world.instances[instance.id]
        shutil.rmtree(self.state / environment, ignore_errors=True)
        self.world.changed()
        return []

    def forget(self, environment: str) -> None:
        self._record("forget", environment)
        shutil.rmtree(self.state / environment, ignore_errors=True)

    def restart(self, environment: str, services: Sequence[str]) -> None:
        self._record("restart", environment, tuple(services))
        now = datetime.now(timezone.utc)
        with self.world.lock:
            for instance in self.world.of(environment):
                if instance.service in services:
                    self.world.instances[instance.id] = replace(instance, status="running", exit_code=None,
                                                                started=now - timedelta(seconds=60))
        self.world.changed()

    def recreate(self, plan, services: Sequence[str]) -> None:
        self._record("recreate", plan.name, tuple(services))
        with self.world.lock:
            for instance in self.world.of(plan.name):
                if instance.service in services:
                    del self.world.instances[instance.id]
                    new = self.world.new_id()
                    self.world.instances[new] = replace(instance, id=new)
        self.world.changed()

    def scale(self, environment: str, replicas: Mapping[str, int]) -> None:
        self._record("scale", environment, dict(replicas))

    def failure(self, text: str) -> EngineFailure:
        self._record("failure", text)
        return self.world.failure_texts.get(text) or EngineFailure("other", text)

    # --- what runs ------------------------------------------------------------------------------

    def instances(self, environment: str | None = None, *, detail: bool = True) -> list[Instance]:
        self._record("instances", environment, detail)
        with self.world.lock:
            found = list(self.world.instances.values())
        return [i for i in found if environment is None or i.environment == environment]

    def foreign_instances(self, environment: str) -> list[Instance]:
        self._record("foreign_instances", environment)
        return list(self.world.foreign.get(environment, []))

    def instance(self, reference: str) -> Instance | None:
        self._record("instance", reference)
        with self.world.lock:
            return next((i for i in self.world.instances.values() if reference in (i.id, i.name)), None)

    def exec(self, instance: Instance, argv: Sequence[str]) -> tuple[int, str, float]:
        code = self.world.health_code(instance.service, argv)
        self._record("exec", instance.service, tuple(argv), code)
        return code, f"{' '.join(argv)}: exit {code}", 0.001

    def logs(self, instance: Instance, *, tail: int | str = 20, since: float | None = None) -> str:
        self._record("logs", instance.service)
        return self.world.log_text.get(instance.service, f"{instance.service}: a log line\n")

    def service_logs(self, environment: str, services: Sequence[str], *, tail: int | None = None,
                     follow: bool = False) -> Iterable[str]:
        self._record("service_logs", environment, tuple(services))
        for instance in self.world.of(environment):
            if not services or instance.service in services:
                yield from self.world.log_text.get(instance.service, f"{instance.service}: a log line").splitlines()

    def events(self, environment: str) -> FakeWatch:
        watch = FakeWatch(self.world, environment)
        with self.world.lock:
            self.world.watches.append(watch)
        return watch

    def forward(self, environment: str, bindings):
        raise UsageError(f"{environment}: its ports are the host's already")

    def stats(self, environment: str) -> FakeUsage:
        return FakeUsage([Usage(i.service, i.name, 0.0, cpu_percent=1.0, memory_bytes=1 << 20,
                                memory_limit_bytes=1 << 30) for i in self.world.of(environment) if i.running])

    def capacity(self) -> tuple[int, int]:
        return 2, 1 << 34

    def exists(self, kind: str, name: str) -> bool:
        self._record("exists", kind, name)
        return True

    def remove(self, instance: Instance, *, foreign: bool = False) -> None:
        self._record("remove", instance.name, foreign)
        with self.world.lock:
            self.world.instances.pop(instance.id, None)
        self.world.changed()

    def networks(self, environment: str | None = None) -> list[dict[str, Any]]:
        return []

    def network(self, name: str) -> dict[str, Any] | None:
        return None

    def remove_network(self, network: dict[str, Any], *, foreign: bool = False) -> bool:
        return False

    def volumes(self, environment: str | None = None) -> list[dict[str, Any]]:
        return []

    def remove_volume(self, volume: dict[str, Any]) -> bool:
        return False

    # --- images ---------------------------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        self._record("image", reference)
        return None

    def remove_superseded_image(self, image_id: str) -> bool:
        return False


_installed: FakeWorld | None = None


def install(world: FakeWorld | None) -> FakeWorld | None:
    """The world that `factory` makes backends on from now on (None: none; `factory` refuses)."""
    global _installed
    _installed = world
    return world


def factory(environ: Mapping[str, str]) -> FakeBackend:
    """The `netra_backends` factory of the backend "fake": environ -> a backend on the installed world."""
    if _installed is None:
        raise RuntimeError("no FakeWorld installed (tests.fake_backend.install)")
    return FakeBackend(environ, _installed)


class FakeUsage:
    """The fake's resource use: the same samples every round (a UsageStream)."""

    def __init__(self, samples: list[Usage]) -> None:
        self.samples = samples

    def latest(self) -> list[Usage]:
        return list(self.samples)

    def ready(self, timeout: float) -> list[Usage]:
        return self.latest()

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeUsage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass
