"""The Docker Swarm backend: an environment is a stack, deployed through the swarm manager that
DOCKER_HOST names. It shares the compose backend's way of reading files and building images
(compose, on the manager's engine) and of asking an engine what runs; what differs is the
rendering (stack.py), the deploy, which starts services stage by stage by scaling them up, and
a teardown that returns only once the stack's tasks and networks are gone.

The other nodes' engines, where netra-stack can reach them, are named in NETRA_SWARM_NODES
(`hostname=DOCKER_HOST,...`): without a registry, images are loaded into them (the only other
way to get a locally built image to a node); the tasks that run there are inspected and checked
through them, and their kernels asked for IPVS (the routing mesh needs it on every node).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from netra_stack.backends.base import LineCallback, UsageStream
from netra_stack.backends.processes import run_docker
from netra_stack.backends.delivery import load, push
from netra_stack.backends.compose.backend import ComposeBackend
from netra_stack.model import labels as L
from netra_stack.model.decisions import EngineFailure, PortBinding
from netra_stack.model.errors import DockerUnavailableError, EngineError
from netra_stack.model.instances import Instance
from netra_stack.planning.graph import COMPLETED, HEALTHY, STARTED
from netra_stack.planning.plan import Plan

if TYPE_CHECKING:
    from netra_stack.backends.compose.engine import Engine

STACK_LABEL = "com.docker.stack.namespace"
SERVICE_NAME_LABEL = "com.docker.swarm.service.name"  # on a task's container: its service ({stack}_{name})
DEFAULT_GRACE_NS = 10_000_000_000  # Docker's stop grace period where the service sets none
NODES_VAR = "NETRA_SWARM_NODES"
LOADED = "loaded.json"  # in an environment's state folder: node -> image -> the id loaded there
REMOVAL_TIMEOUT = 60.0  # seconds `down` waits for the stack's tasks and networks to go
PLACEMENT_TIMEOUT = 120.0  # seconds `up` waits for the tasks it started to have a container
SETTLED = {"running", "complete", "failed", "rejected", "shutdown"}  # past starting its container
ENDED = {"complete", "failed", "rejected"}  # what a task ends in of itself
STOPPING = {"shutdown", "remove"}  # desired states of a task told to stop
CANNOT_START = ("no suitable node", "starting container failed", "invalid", "No such image")  # task errors before it ran
PORT_TAKEN = "host port {port} of service {service} is in use on every node"  # how failure() knows it again


class SwarmBackend(ComposeBackend):
    name = "swarm"
    gate_conditions = frozenset({HEALTHY, COMPLETED, STARTED})  # swarm ignores depends_on

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)
        self._models: dict[str, tuple[Plan, dict[str, Any]]] = {}  # environment -> its plan, resolved with the override
        self._started: dict[str, set[str]] = {}  # environment -> the services scaled up so far
        self._where: dict[str, Engine] = {}  # instance id -> the engine of the node that runs it
        self._nodes: dict[str, tuple[str, str]] = {}  # node id -> (hostname, address)
        self._api_version: tuple[int, ...] | None = None  # the manager engine's API version, once asked

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
        return run_docker(self.environ, *args, timeout=timeout)

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
        found = self._models.get(plan.name)
        if found and found[0] is plan:
            return found[1]
        model = self._project(plan).config()
        self._models[plan.name] = (plan, model)
        return model

    def _render(self, plan: Plan, started: Iterable[str] | None = None) -> tuple[dict[str, Any], list[str]]:
        from netra_stack.backends.swarm.stack import render_stack

        mesh, why = self._mesh(plan)
        return render_stack(plan, self._model(plan), started, mesh=mesh, mesh_note=why,
                            start_interval=self._probes_at_start_interval())

    def _probes_at_start_interval(self) -> bool:
        """Whether the manager's engine keeps a healthcheck's start_interval (API 1.44, Engine 25)."""
        if self._api_version is None:
            try:
                self._api_version = tuple(int(n) for n in self.engine.api.version()["ApiVersion"].split("."))
            except DockerUnavailableError:  # no engine to ask (`config` elsewhere): rendered for any engine
                self._api_version = ()
        return self._api_version >= (1, 44)

    def _mesh(self, plan: Plan) -> tuple[bool, str]:
        """Whether ports go through the routing mesh, and why (a note): only where the profile
        allows it and every node that may run a task has IPVS, asked of each node's engine."""
        if not plan.profile.swarm.routing_mesh:
            return False, "ports: host mode ([swarm] routing_mesh = false)"
        if not any(intent.ports for intent in plan.intents.values()):
            return False, ""
        try:
            found = self._ipvs_by_node
        except (EngineError, DockerUnavailableError) as error:  # no swarm to ask (e.g. `config` elsewhere)
            return False, f"ports: host mode (IPVS, which the routing mesh needs, not detected: {error})"
        lacking = sorted(h for h, has in found.items() if has is False)
        unknown = sorted(h for h, has in found.items() if has is None)
        if lacking:
            return False, f"ports: host mode, on the node of each task: the kernel of {', '.join(lacking)} has no IPVS (the routing mesh needs it)"
        if unknown:
            return False, f"ports: host mode, on the node of each task: IPVS not detected on {', '.join(unknown)} (not reached, or no image to probe with)"
        return True, "ports: through the routing mesh (IPVS on every node): any node's address serves them"

    @cached_property
    def _ipvs_by_node(self) -> dict[str, bool | None]:
        """Each node that may run a task -> whether its kernel has IPVS (None: its engine is not
        reached, or has no image to probe with); asked once per backend."""
        self.check()
        return {hostname: self.node_engines[hostname].host_has("/proc/net/ip_vs") if hostname in self.node_engines
                else None for hostname in self._unreachable(())}

    # --- lifecycle -------------------------------------------------------------------------------

    def prepare(self, plan: Plan) -> None:
        self._model(plan)
        if not plan.profile.swarm.registry:
            self._unreachable(plan.images.values())  # before anything is deployed

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

        from netra_stack.backends.compose.engine import parse_time

        started = self._started.setdefault(plan.name, set())
        started.update(services or plan.services)
        stack, _ = self._render(plan, started)
        images = sorted({plan.images[s] for s in started if s in plan.images})
        if plan.profile.swarm.registry:
            push(self.environ, plan.profile.swarm.registry, images)
        else:
            self._distribute(plan.name, images)
        path = self.state / plan.name / "stack.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(stack, sort_keys=False))
        # What the manager does from now on, by its own clock, is this deploy's.
        since = parse_time(self.engine.client().info().get("SystemTime")) or datetime.min.replace(tzinfo=timezone.utc)
        output = self._docker("stack", "deploy", "--detach=true", "--resolve-image", "never", "--prune",
                              "--compose-file", str(path), plan.name)
        for line in output.splitlines() if on_line else ():
            on_line(line)
        self._wait_for_tasks(plan, services or plan.services, since)

    def _distribute(self, environment: str, images: Sequence[str]) -> None:
        """Load the images netra-stack built into every node that may run a task and lacks them (or
        has another image of that name): with no registry, a node cannot get them otherwise. Other
        images the nodes pull, as they would for `docker stack deploy`. What was loaded where is
        recorded, for `down --images`."""
        nodes = self._unreachable(images)
        record = self.state / environment / LOADED
        loaded: dict[str, dict[str, str]] = json.loads(record.read_text()) if record.exists() else {}
        for image in images:
            wanted = self.engine.image_id(image)
            for hostname in nodes:
                engine = self.node_engines[hostname]
                if engine is self.engine or wanted is None or engine.image_id(image) == wanted:
                    continue
                load(self.environ, image, ["docker", "load", "-q"], where=f"swarm node {hostname}", env=engine.environ)
                loaded.setdefault(hostname, {})[image] = wanted
                record.parent.mkdir(parents=True, exist_ok=True)
                record.write_text(json.dumps(loaded))

    def _unreachable(self, images: Iterable[str]) -> list[str]:
        """The nodes that may run a task (ready, active); an error naming the first whose engine
        netra-stack cannot reach when there are images of its own to load."""
        images = sorted(set(images))
        nodes = [n.attrs["Description"]["Hostname"] for n in self.engine.client().nodes.list()
                 if n.attrs["Status"]["State"] == "ready" and n.attrs["Spec"].get("Availability") == "active"]
        unreachable = [n for n in nodes if n not in self.node_engines]
        if unreachable and images:
            message = (f"swarm node{'s' if len(unreachable) > 1 else ''} {', '.join(sorted(unreachable))} cannot be "
                       f"reached to load images into {'them' if len(unreachable) > 1 else 'it'} ({', '.join(images)})")
            raise EngineError(message, hint=f"name its engine in {NODES_VAR} (hostname=DOCKER_HOST), or drain the node",
                              stderr=message)
        return nodes

    def _wait_for_tasks(self, plan: Plan, services: Sequence[str], since: datetime) -> None:
        """`docker stack deploy` returns before anything is scheduled: wait until each started
        service's task has a container (so that the wait finds one to judge), or fail with the
        task's error: no node to place it on (a host port taken on every node, constraints no
        node meets), an image missing. `since`: when the deploy began, by the manager's clock."""
        wanted = set(services)

        def pending() -> list[str]:
            found = {name: self._placement(plan, name, service.tasks(), since)
                     for name, service in self._services(plan.name).items() if name in wanted}
            return [f"{name} ({state})" for name, state in found.items() if state]

        self._until(plan.name, PLACEMENT_TIMEOUT, "tasks not scheduled", pending)

    @staticmethod
    def _placement(plan: Plan, service: str, tasks: list[dict[str, Any]], since: datetime) -> str | None:
        """The state a task of a service's replica (slot, or node for a global service) still
        waits in, or None once every replica is past it; an error for a task of this deploy (one
        created `since` it began) that could not start. One that ran and failed (an exit, an
        unhealthy kill) is the wait's to judge, as a crash loop or an exit."""
        from netra_stack.backends.compose.engine import parse_time

        newest: dict[Any, dict[str, Any]] = {}
        ran: set[Any] = set()
        for task in sorted(tasks, key=lambda t: t.get("CreatedAt", ""), reverse=True):
            replica = task.get("Slot") or task.get("NodeID")
            newest.setdefault(replica, task)
            if (parse_time(task.get("CreatedAt")) or since) < since:
                continue  # an earlier deploy's
            status = task.get("Status", {})
            error = status.get("Err") or ""
            if "port already in use" in error:  # the scheduler found no node with the port free
                port = next((p.host for p in plan.intents[service].ports if p.host), "?")
                raise EngineError(f"swarm: port {port} of {service} is taken on every node that could run it",
                                  stderr=f"{PORT_TAKEN.format(service=service, port=port)}: {error}")
            if status.get("State") == "rejected" or error.startswith(CANNOT_START):
                raise EngineError(f"the task of {service} cannot run: {error or status.get('State')}",
                                  stderr=f"{service}: {error or status.get('State')}")
            if status.get("State") == "failed":
                ran.add(replica)
        if not newest:
            return "new"
        for replica, task in newest.items():
            status = task.get("Status", {})
            state = status.get("State", "new")
            if task.get("DesiredState") in STOPPING and state not in ENDED:
                # Told to stop, not ended of itself: replaced by this deploy (its successor is due) or
                # left from an earlier one (a slot scaled away, a node drained).
                if (parse_time(task.get("UpdatedAt")) or since) >= since:
                    return "replacing"
                continue
            # A task waiting for its healthcheck is `starting` once its process runs (its ports are bound).
            started = state == "starting" and (status.get("ContainerStatus") or {}).get("PID")
            if not (replica in ran or state in SETTLED or started):
                return state
        return None

    def _until(self, environment: str, timeout: float, what: str, waiting: Callable[[], list[str]]) -> None:
        """Poll `waiting` (what is still awaited) until it is empty; after `timeout`, fail naming it."""
        deadline = time.monotonic() + timeout
        while left := waiting():
            if time.monotonic() > deadline:
                message = f"{what} after {timeout:.0f}s: {', '.join(left)}"
                raise EngineError(message, hint=f"`docker stack ps {environment} --no-trunc` says why", stderr=message)
            time.sleep(0.1)

    def _services(self, environment: str) -> dict[str, Any]:
        """The stack's services by their name in the files."""
        found = self.engine.client().services.list(filters=of_stack(environment))
        return {service.name.removeprefix(f"{environment}_"): service for service in found}

    def failure(self, text: str) -> EngineFailure:
        found = re.search(PORT_TAKEN.format(service=r"(?P<service>\S+)", port=r"(?P<port>\d+)"), text)
        if found:
            return EngineFailure("port_allocated", text, {**found.groupdict(), "address": "0.0.0.0"})
        return super().failure(text)

    def down(self, environment: str, on_line: LineCallback | None = None, *, images: bool = False) -> list[str]:
        record = self.state / environment / LOADED
        loaded = json.loads(record.read_text()) if images and record.exists() else {}
        try:
            services = self._services(environment)
            if services:
                graces = {service.name: (service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"].get("StopGracePeriod")
                                         or DEFAULT_GRACE_NS) / 1e9 for service in services.values()}
                try:
                    self._docker("stack", "rm", environment)
                except EngineError:  # e.g. a network still in use by a task that is stopping: removed below
                    if self._services(environment):
                        raise
                self._stop_tasks(environment, graces)
            self._until(environment, REMOVAL_TIMEOUT, f"stack {environment} not gone", lambda: self._left(environment))
            for engine in self.node_engines.values():  # stack rm leaves volumes, on each node
                for volume in engine.volumes(environment):
                    engine.remove_volume(volume)
        finally:
            self.forget(environment)
        return [self._unload(hostname, image, image_id) for hostname, found in sorted(loaded.items())
                for image, image_id in sorted(found.items())]

    def _stop_tasks(self, environment: str, graces: Mapping[str, float]) -> None:
        """Stop and remove the removed stack's containers on the nodes netra-stack reaches, side by
        side, each with its service's stop grace period: the swarm's agents would do the same, but
        only seconds later."""
        selector = of_stack(environment)
        found = [(engine, c["Id"], graces.get(c["Labels"].get(SERVICE_NAME_LABEL, ""), DEFAULT_GRACE_NS / 1e9))
                 for engine in self.node_engines.values() for c in engine.api.containers(all=True, filters=selector)]
        with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:
            list(pool.map(lambda item: item[0].stop_and_remove(item[1], item[2]), found))

    def _unload(self, hostname: str, image: str, image_id: str) -> str:
        """Remove an image loaded into a node for an environment: only while the node's image of
        that name is still the one loaded, and only where no container uses it (the engine refuses
        then: another environment's task)."""
        engine = self.node_engines.get(hostname)
        if engine is None or engine.image_id(image) != image_id:
            return f"image {image} on node {hostname}: not the one loaded any more, kept"
        if not engine.remove_image(image):
            return f"image {image} kept on node {hostname}: in use"
        return f"image {image} removed from node {hostname}"

    def _left(self, environment: str) -> list[str]:
        """What remains of a removed stack on the nodes netra-stack reaches. `docker stack rm`
        returns at once, and gives up on a network a stopping task still uses: once the
        containers are gone, such networks are removed here."""
        selector = of_stack(environment)
        containers = [f"container {c['Names'][0].lstrip('/')}" for engine in self.node_engines.values()
                      for c in engine.api.containers(all=True, filters=selector)]
        if containers:
            return containers
        for network in self.engine.api.networks(filters=selector):  # overlay: removed through the manager
            try:
                self.engine.api.remove_network(network["Id"])
            except Exception:  # still detaching, or gone meanwhile: looked at again next round
                pass
        return [f"network {n['Name']}" for engine in self.node_engines.values() for n in engine.api.networks(filters=selector)]

    def forget(self, environment: str) -> None:
        self._models.pop(environment, None)
        self._started.pop(environment, None)
        super().forget(environment)

    def scale(self, environment: str, replicas: Mapping[str, int]) -> None:
        """Scale, and return once each service runs that many tasks (started, or done)."""
        self._docker("service", "scale", "--detach", *(f"{environment}_{s}={n}" for s, n in replicas.items()))

        def short() -> list[str]:
            found = {name: sum(t.get("DesiredState") == "running" and t.get("Status", {}).get("State") in ("running", "complete")
                               for t, _ in current_tasks(service.tasks()))
                     for name, service in self._services(environment).items() if name in replicas}
            return [f"{name} runs {count} of {replicas[name]}" for name, count in found.items() if count != replicas[name]]

        self._until(environment, PLACEMENT_TIMEOUT, "not scaled", short)

    def restart(self, environment: str, services: Sequence[str]) -> None:
        for service in services:
            self._docker("service", "update", "--force", "--detach=true", f"{environment}_{service}")

    def recreate(self, plan: Plan, services: Sequence[str]) -> None:
        self.restart(plan.name, services)  # a forced update replaces the tasks

    # --- what runs -------------------------------------------------------------------------------

    def instances(self, environment: str | None = None, *, detail: bool = True) -> list[Instance]:
        """The current task of each slot of each service (swarm keeps earlier ones for a while):
        its container, inspected on its node where netra-stack reaches that node's engine, or else
        the task as the manager knows it (state, exit code; a running task with a healthcheck has
        passed it). `detail=False`: the tasks alone."""
        client = self.engine.client()
        found = []
        for service in client.services.list(filters={"label": L.managed_filter(environment)}):
            mesh = routed_ports(service.attrs)
            for task, failed in current_tasks(service.tasks()):
                hostname = self._node(task.get("NodeID", ""))[0]
                container = (task.get("Status", {}).get("ContainerStatus") or {}).get("ContainerID")
                engine = self.node_engines.get(hostname)
                inspected = engine.container_by_id(container) if detail and engine and container else None
                if inspected is not None:
                    self._where[inspected.id] = engine
                    # No healthcheck for netra-stack to run in Docker's stead: the swarm routes to a
                    # task (its name resolves to it) only once Docker's own healthcheck passed.
                    instance = replace(inspected, node=hostname, healthcheck=())
                else:
                    instance = task_instance(task, hostname)
                if mesh and instance.running:  # served on every node: here, on the task's
                    instance = replace(instance, ports=instance.ports or mesh)
                found.append(with_failures(instance, failed))
        # A host-mode port is served on the address of the node that runs the task.
        addresses = dict(self._nodes.values())
        return [replace(i, ports=[replace(b, host_ip=addresses.get(i.node) or b.host_ip)
                                  if b.host_ip in ("0.0.0.0", "::", "") else b for b in i.ports]) for i in found]

    def _node(self, node_id: str) -> tuple[str, str]:
        """A node's (hostname, address), asked of the manager again only for a node not seen yet."""
        if node_id and node_id not in self._nodes:
            self._nodes.update({n.id: (n.attrs["Description"]["Hostname"], n.attrs["Status"].get("Addr", ""))
                                for n in self.engine.client().nodes.list()})
        return self._nodes.get(node_id, ("", ""))

    def _engine_of(self, instance: Instance) -> Engine:
        return self._where.get(instance.id) or self.node_engines.get(instance.node) or self.engine

    def exec(self, instance: Instance, argv: Sequence[str]) -> tuple[int, str, float]:
        if instance.id not in self._where and instance.node not in self.node_engines:
            # A task on a node netra-stack cannot reach: judged by its state, as the manager knows it
            # (a task with a healthcheck is running only once it passed).
            return (0 if instance.running else 1,
                    f"on node {instance.node}, whose engine netra-stack cannot reach ({NODES_VAR}): "
                    f"judged by the task's state ({instance.status})", 0.0)
        return self._engine_of(instance).execute(instance.id, argv)

    def logs(self, instance: Instance, *, tail: int | str = 20, since: float | None = None) -> str:
        if instance.id in self._where or instance.node in self.node_engines:
            return self._engine_of(instance).logs(instance.id, tail=tail, since=since)
        # A task on a node netra-stack cannot reach: its logs as the manager relays them.
        task = instance.name.rpartition(".")[2]
        try:
            return self._docker("service", "logs", "--raw", "--tail", str(tail),
                                *(["--since", f"{since:.3f}"] if since else []), task, timeout=20)
        except (EngineError, subprocess.TimeoutExpired) as error:
            return f"(no logs of task {task} from the manager: {error})"

    def remove(self, instance: Instance, *, foreign: bool = False) -> None:
        self._engine_of(instance).remove_container(instance, foreign=foreign)

    def stats(self, environment: str) -> UsageStream:
        from netra_stack.backends.compose.usage import Merged

        return Merged([engine.stats(environment) for engine in self.node_engines.values()])

    def events(self, environment: str | None) -> NodesWatch:
        return NodesWatch([engine.events(environment) for engine in self.node_engines.values()])

    def service_logs(self, environment: str, services: Sequence[str], *, tail: int | None = None,
                     follow: bool = False) -> Iterable[str]:
        for service in services or sorted(self._services(environment)):
            args = ["service", "logs", "--no-task-ids", *(["--tail", str(tail)] if tail else []),
                    *(["--follow"] if follow else []), f"{environment}_{service}"]
            yield from self._docker(*args).splitlines()


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


def of_stack(environment: str) -> dict[str, str]:
    """The engine's filter for what belongs to an environment's stack."""
    return {"label": f"{STACK_LABEL}={environment}"}


def current_tasks(tasks: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]]:
    """The newest task of each slot (of each node, for a global service), with the tasks of that
    slot that failed before it, newest first: the swarm replaces a failed task with a new one."""
    slots: dict[Any, list[Mapping[str, Any]]] = {}
    for task in sorted(tasks, key=lambda t: t.get("CreatedAt", ""), reverse=True):
        slots.setdefault(task.get("Slot") or task.get("NodeID"), []).append(task)
    return [(newest, [t for t in older if t.get("Status", {}).get("State") in ("failed", "rejected")])
            for newest, *older in slots.values()]


def with_failures(instance: Instance, failed: Sequence[Mapping[str, Any]]) -> Instance:
    """An instance whose slot has failed before: how often (its restart count) and, while its new
    task is not running yet, the last failure's error and exit code (a crash loop shows as one)."""
    if not failed:
        return instance
    if instance.running or instance.status == "exited":
        return replace(instance, restart_count=len(failed))
    last = failed[0].get("Status", {})
    return replace(instance, status="restarting", restart_count=len(failed),
                   exit_code=(last.get("ContainerStatus") or {}).get("ExitCode"),
                   health_output=last.get("Err") or instance.health_output)


def routed_ports(service: Mapping[str, Any]) -> list[PortBinding]:
    """The ports a service publishes through the routing mesh (on every node's address)."""
    environment = (service.get("Spec", {}).get("Labels") or {}).get(STACK_LABEL, "")
    name = service.get("Spec", {}).get("Name", "").removeprefix(f"{environment}_")
    return [PortBinding(name, p["TargetPort"], p.get("Protocol", "tcp"), "", p["PublishedPort"])
            for p in (service.get("Endpoint") or {}).get("Ports") or []
            if p.get("PublishMode") == "ingress" and p.get("PublishedPort")]


# A task's state as a container's status (what the health judge reads).
TASK_STATUS = {"running": "running", "complete": "exited", "failed": "exited", "shutdown": "exited",
               "rejected": "dead", "orphaned": "dead", "remove": "removing"}


def task_instance(task: Mapping[str, Any], node: str) -> Instance:
    """A task the manager knows, as an Instance, for a node whose engine netra-stack cannot reach."""
    from netra_stack.backends.compose.engine import parse_time

    status = task.get("Status", {})
    spec = task.get("Spec", {}).get("ContainerSpec", {})
    labels = dict(spec.get("Labels") or {})
    ports = [PortBinding(L.service_of(labels), p["TargetPort"], p.get("Protocol", "tcp"), "0.0.0.0", p["PublishedPort"])
             for p in (status.get("PortStatus") or {}).get("Ports") or [] if p.get("PublishedPort")]
    state = status.get("State", "new")
    container = status.get("ContainerStatus") or {}
    return Instance(
        id=container.get("ContainerID") or task["ID"],
        name=f"{labels.get(STACK_LABEL, '')}_{L.service_of(labels)}.{task.get('Slot') or task.get('NodeID', '')}.{task['ID']}",
        labels=labels, status=TASK_STATUS.get(state, "created"), ports=ports,
        exit_code=container.get("ExitCode") if state in ("complete", "failed", "shutdown") else None,
        health="healthy" if state == "running" and spec.get("Healthcheck") else None,
        health_output=status.get("Err") or status.get("Message", ""), created=parse_time(task.get("CreatedAt")),
        started=parse_time(status.get("Timestamp")) if state == "running" else None,
        node=node)

