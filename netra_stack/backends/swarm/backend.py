"""The Docker Swarm backend: an environment is a stack, deployed through the swarm manager that
DOCKER_HOST names. It shares the compose backend's way of reading files and building images
(compose, on the manager's engine) and of asking an engine what runs; what differs is the
rendering (stack.py), the deploy, which starts services stage by stage by scaling them up, and
a teardown that returns only once the stack's tasks and networks are gone.

The other nodes' engines, where netra-stack can reach them, are named in NETRA_SWARM_NODES
(`hostname=DOCKER_HOST,...`): images are loaded into them (a swarm without a registry has no
other way to get a locally built image to a node), and the tasks that run there are inspected
and checked through them.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from netra_stack.backends.base import LineCallback
from netra_stack.backends.compose.backend import ComposeBackend
from netra_stack.model.errors import DockerUnavailableError, EngineError
from netra_stack.model.instances import Instance
from netra_stack.planning.graph import COMPLETED, HEALTHY, STARTED
from netra_stack.planning.plan import Plan

if TYPE_CHECKING:
    from netra_stack.backends.compose.engine import Engine

STACK_LABEL = "com.docker.stack.namespace"
NODES_VAR = "NETRA_SWARM_NODES"
REMOVAL_TIMEOUT = 60.0  # seconds `down` waits for the stack's tasks and networks to go
PLACEMENT_TIMEOUT = 120.0  # seconds `up` waits for the tasks it started to have a container
SETTLED = {"running", "complete", "failed", "rejected", "shutdown"}  # task states past scheduling


class SwarmBackend(ComposeBackend):
    name = "swarm"
    gate_conditions = frozenset({HEALTHY, COMPLETED, STARTED})  # swarm ignores depends_on

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)
        self._stacks: dict[str, tuple[Plan, dict[str, Any], list[str]]] = {}  # environment -> plan, model, notes
        self._started: dict[str, set[str]] = {}  # environment -> the services scaled up so far
        self._where: dict[str, Engine] = {}  # instance id -> the engine of the node that runs it

    @cached_property
    def node_engines(self) -> dict[str, Engine]:
        """hostname -> engine: the manager's (DOCKER_HOST) and those NETRA_SWARM_NODES names."""
        from netra_stack.backends.compose.engine import Engine

        found = {self.engine.client().info()["Name"]: self.engine}
        for entry in filter(None, (self.environ.get(NODES_VAR) or "").split(",")):
            hostname, _, host = entry.partition("=")
            if not host:
                raise DockerUnavailableError(f"{NODES_VAR}: {entry!r} is not hostname=DOCKER_HOST",
                                             hint=f"e.g. {NODES_VAR}=node1=ssh://me@node1,node2=tcp://10.0.0.2:2375")
            found.setdefault(hostname.strip(), Engine({**self.environ, "DOCKER_HOST": host.strip()}))
        return found

    def _docker(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, env=self.environ, timeout=timeout)
        if done.returncode != 0:
            text = (done.stderr or done.stdout).strip()
            raise EngineError(f"`docker {' '.join(args[:2])}` failed: {text.splitlines()[-1] if text else 'no output'}",
                              stderr=text)
        return done.stdout

    # --- planning --------------------------------------------------------------------------------

    def check(self) -> None:
        swarm = self.engine.client().info().get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
            where = self.environ.get("DOCKER_HOST") or "the local engine"
            raise DockerUnavailableError(f"{where} is not a swarm manager (swarm state: "
                                         f"{swarm.get('LocalNodeState') or 'inactive'})",
                                         hint="`docker swarm init` makes it one, or point DOCKER_HOST at a manager")

    def config(self, plan: Plan) -> str:
        import yaml

        stack, notes = self._render(plan)
        comments = "".join(f"# {note}\n" for note in notes)
        return f"# the swarm stack {plan.name}, as netra-stack deploys it\n{comments}" + yaml.safe_dump(stack, sort_keys=False)

    def notes(self, plan: Plan) -> list[str]:
        return self._render(plan)[1]

    def _model(self, plan: Plan) -> dict[str, Any]:
        """Compose's resolved model of the files with the plan's override, once per plan."""
        found = self._stacks.get(plan.name)
        if found and found[0] is plan:
            return found[1]
        model = self._project(plan).config()
        self._stacks[plan.name] = (plan, model, [])
        return model

    def _render(self, plan: Plan, started: Iterable[str] | None = None) -> tuple[dict[str, Any], list[str]]:
        from netra_stack.backends.swarm.stack import render_stack

        return render_stack(plan, self._model(plan), started)

    # --- lifecycle -------------------------------------------------------------------------------

    def prepare(self, plan: Plan) -> None:
        self._model(plan)

    def build(self, plan: Plan, services: Sequence[str], *, no_cache: Iterable[str] = (),
              labels: Mapping[str, Mapping[str, str]] | None = None, start_meanwhile: Sequence[str] = (),
              on_line: LineCallback | None = None) -> dict[str, float]:
        """Compose builds on the manager's engine; the head start is deployed first (compose's
        own would start it as compose containers, beside the swarm)."""
        if start_meanwhile:
            self.up(plan, start_meanwhile, on_line=on_line)
        return super().build(plan, services, no_cache=no_cache, labels=labels, on_line=on_line)

    def up(self, plan: Plan, services: Sequence[str] = (), *, first: bool = True,
           on_line: LineCallback | None = None) -> None:
        import yaml

        started = self._started.setdefault(plan.name, set())
        started.update(services or plan.services)
        stack, _ = self._render(plan, started)
        self._distribute(sorted({spec["image"] for name, spec in stack["services"].items()
                                 if name in started and spec.get("image")}))
        path = self.state / plan.name / "stack.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(stack, sort_keys=False))
        output = self._docker("stack", "deploy", "--detach=true", "--resolve-image", "never", "--prune",
                              "--compose-file", str(path), plan.name)
        for line in output.splitlines():
            if on_line:
                on_line(line)
        self._wait_for_tasks(plan.name, services or plan.services)

    def _distribute(self, images: Sequence[str]) -> None:
        """Load the images into every node that may run a task and lacks them (or has another
        image of that name): with no registry, a node cannot get a locally built image otherwise."""
        nodes = [n.attrs["Description"]["Hostname"] for n in self.engine.client().nodes.list()
                 if n.attrs["Status"]["State"] == "ready" and n.attrs["Spec"].get("Availability") == "active"]
        unreachable = [n for n in nodes if n not in self.node_engines]
        if unreachable and images:
            raise EngineError(f"swarm node {unreachable[0]} cannot be reached to load images into it "
                              f"({', '.join(images)})",
                              hint=f"name its engine in {NODES_VAR} (hostname=DOCKER_HOST), or drain the node")
        for image in images:
            wanted = self.engine.image_id(image)
            for hostname in nodes:
                engine = self.node_engines[hostname]
                if engine is self.engine or wanted is None or engine.image_id(image) == wanted:
                    continue
                saved = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, env=self.environ)
                loaded = subprocess.run(["docker", "load", "-q"], stdin=saved.stdout, capture_output=True, text=True,
                                        env=engine.environ, timeout=600)
                saved.stdout.close()
                if saved.wait() != 0 or loaded.returncode != 0:
                    raise EngineError(f"loading {image} into swarm node {hostname} failed: "
                                      f"{(loaded.stderr or 'docker save failed').strip()}", stderr=loaded.stderr)

    def _wait_for_tasks(self, environment: str, services: Sequence[str]) -> None:
        """`docker stack deploy` returns before anything is scheduled: wait until each started
        service's task has a container (so that the wait finds one to judge), or fail with the
        task's error (no node to place it, a port taken on every node, an image missing)."""
        deadline = time.monotonic() + PLACEMENT_TIMEOUT
        names = {f"{environment}_{s}": s for s in services}
        while True:
            pending = []
            for found in self.engine.client().services.list(filters={"label": f"{STACK_LABEL}={environment}"}):
                service = names.get(found.name)
                if service is None:
                    continue
                tasks = sorted(found.tasks(), key=lambda t: t.get("CreatedAt", ""), reverse=True)
                latest = tasks[0] if tasks else None
                state = (latest or {}).get("Status", {}).get("State", "new")
                if state in ("failed", "rejected"):
                    error = latest["Status"].get("Err") or state
                    raise EngineError(f"the task of {service} {state}: {error}", stderr=error)
                if state not in SETTLED:
                    pending.append(f"{service} ({state})")
            if not pending:
                return
            if time.monotonic() > deadline:
                raise EngineError(f"tasks not scheduled after {PLACEMENT_TIMEOUT:.0f}s: {', '.join(pending)}",
                                  hint=f"`docker stack ps {environment} --no-trunc` says why")
            time.sleep(0.1)

    def down(self, environment: str, on_line: LineCallback | None = None) -> None:
        try:
            if self._stack_services(environment):
                self._docker("stack", "rm", environment)
            self._wait_until_gone(environment)
            for engine in self.node_engines.values():  # stack rm leaves volumes, on each node
                for volume in engine.volumes(environment):
                    engine.remove_volume(volume)
        finally:
            self.forget(environment)

    def _stack_services(self, environment: str) -> list[str]:
        return self._docker("service", "ls", "-q", "--filter", f"label={STACK_LABEL}={environment}").split()

    def _wait_until_gone(self, environment: str) -> None:
        """`docker stack rm` returns at once: wait until the stack's containers and networks are
        gone from every node netra-stack can reach."""
        deadline = time.monotonic() + REMOVAL_TIMEOUT
        selector = {"label": f"{STACK_LABEL}={environment}"}
        while True:
            left = [item for engine in self.node_engines.values()
                    for item in engine.api.containers(all=True, filters=selector) + engine.api.networks(filters=selector)]
            if not left:
                return
            if time.monotonic() > deadline:
                raise EngineError(f"stack {environment} not gone after {REMOVAL_TIMEOUT:.0f}s: {len(left)} "
                                  "containers and networks remain", hint=f"`docker stack ps {environment}` says why")
            time.sleep(0.2)

    def forget(self, environment: str) -> None:
        self._stacks.pop(environment, None)
        self._started.pop(environment, None)
        super().forget(environment)

    def restart(self, environment: str, services: Sequence[str]) -> None:
        for service in services:
            self._docker("service", "update", "--force", "--detach=true", f"{environment}_{service}")

    # --- what runs -------------------------------------------------------------------------------

    def instances(self, environment: str | None = None, *, detail: bool = True) -> list[Instance]:
        """Each service's current tasks: a running container, or else its newest one (swarm keeps
        the containers of earlier tasks for a while)."""
        found = []
        for hostname, engine in self.node_engines.items():
            for instance in engine.containers(environment) if detail else engine.summaries(environment):
                self._where[instance.id] = engine
                found.append(replace(instance, node=hostname))
        newest: dict[tuple[str, str], list[Instance]] = {}
        for instance in sorted(found, key=lambda i: i.created.timestamp() if i.created else 0.0, reverse=True):
            newest.setdefault((instance.environment, instance.service), []).append(instance)
        return [i for group in newest.values() for i in ([r for r in group if r.running] or group[:1])]

    def _engine_of(self, instance: Instance) -> Engine:
        return self._where.get(instance.id) or self.node_engines.get(instance.node) or self.engine

    def exec(self, instance: Instance, argv: Sequence[str]) -> tuple[int, str, float]:
        return self._engine_of(instance).execute(instance.id, argv)

    def logs(self, instance: Instance, *, tail: int | str = 20, since: float | None = None) -> str:
        return self._engine_of(instance).logs(instance.id, tail=tail, since=since)

    def remove(self, instance: Instance, *, foreign: bool = False) -> None:
        self._engine_of(instance).remove_container(instance, foreign=foreign)

    def events(self, environment: str) -> NodesWatch:
        return NodesWatch([engine.events(environment) for engine in self.node_engines.values()])

    def service_logs(self, environment: str, services: Sequence[str], *, tail: int | None = None,
                     follow: bool = False) -> Iterable[str]:
        for service in services or self._service_names(environment):
            args = ["service", "logs", "--no-task-ids", *(["--tail", str(tail)] if tail else []),
                    *(["--follow"] if follow else []), f"{environment}_{service}"]
            yield from self._docker(*args).splitlines()

    def _service_names(self, environment: str) -> list[str]:
        names = self._docker("service", "ls", "--format", "{{.Name}}", "--filter",
                             f"label={STACK_LABEL}={environment}").split()
        return sorted(n.removeprefix(f"{environment}_") for n in names)


class NodesWatch:
    """The events of every node's engine, as one wake-up call."""

    def __init__(self, watches: list) -> None:
        self.wake = threading.Event()
        self._watches = watches
        for watch in watches:
            watch.wake = self.wake  # each sets the shared event

    def close(self) -> None:
        for watch in self._watches:
            watch.close()

