"""A plan as Kubernetes objects: compose's model of the user's files with what netra-stack adds
to each service (the plan's intents: ports, labels, limits, environment, commands), turned into
the objects of one namespace, the environment's. Only APIs that Kubernetes has served as stable for years (v1, apps/v1, batch/v1),
so that the same objects apply to an old test cluster and to a current one.

Every compose key that is dropped or changes meaning becomes a note, so that nothing is lost
silently; a key whose loss would change how the service behaves (host networking, a privileged
container, devices) is a profile error naming the service and the key. `depends_on` is not an
object: netra-stack applies a dependent (or scales it up from 0) once what it depends on is
ready.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from netra_stack.backends.delivery import pushed
from netra_stack.model import labels as L
from netra_stack.model.errors import ProfileError
from netra_stack.model.redact import MASK, SECRET_NAME
from netra_stack.model.profiles import HttpCheck, TcpCheck
from netra_stack.planning.plan import Plan, ServiceIntent

NODE_PORTS = (30000, 32767)
PUBLISHED = "-published"
DEFAULT_GRACE = "10s"  # compose's stop_grace_period when the files set none  # the name of a service's NodePort Service: NAME-published  # the API server's default service-node-port-range
CONFIG_LIMIT = 1024 * 1024  # bytes: what a ConfigMap or Secret holds at most
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # a Service's (and so a compose service's) name
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUALIFIED = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNITS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}

# Service keys whose loss would change what the service does: refused, not dropped.
REFUSED = {
    "network_mode": "the pod's own network cannot be the host's or another container's",
    "privileged": "a privileged container is not something to switch on silently in a cluster",
    "devices": "the node's devices are not the machine's the files were written for",
    "pid": "the pod cannot share the host's process namespace",
    "ipc": "the pod cannot share the host's IPC namespace",
}
# Keys mapped below, carried out by netra-stack, or that compose adds to every resolved service.
MAPPED = frozenset({
    "image", "build", "command", "entrypoint", "environment", "healthcheck", "labels", "ports", "expose",
    "volumes", "secrets", "tmpfs", "mem_limit", "mem_reservation", "cpus", "deploy", "restart", "depends_on",
    "container_name", "working_dir", "user", "stop_grace_period", "read_only", "cap_add", "cap_drop",
    "extra_hosts", "hostname", "networks", "profiles", "pull_policy", "stdin_open", "tty",
})


def render_manifests(plan: Plan, model: Mapping[str, Any], *,
                     started: Iterable[str] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(the objects, in the order to apply them; notes): `model` is compose's resolved config of
    the profile's files (`docker compose config`: absolute paths); `started`: the services to run
    now (the others get 0 replicas, or no Job yet)."""
    running = set(plan.services if started is None else started)
    notes: list[str] = []
    if not _NAMESPACE.match(plan.name):
        raise ProfileError(f"{plan.profile.source}: project_name: the environment name {plan.name!r} cannot name a "
                           "namespace (lowercase letters, digits and '-', at most 63)",
                           hint="use '-' instead of '_' in project_name")
    labels = dict(plan.labels)
    services = {name: with_intent(service, plan.intents.get(name)) for name, service in (model.get("services") or {}).items()
                if name in plan.services}
    for name, service in services.items():
        _refuse(plan, name, service)
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(plan.name, labels)}]
    files = _Files(plan, labels, notes)
    for name, secret in (model.get("secrets") or {}).items():
        objects.append(files.secret(name, secret))
    workloads, exposed = [], []
    for name, service in services.items():
        pod = _pod(plan, name, service, files, notes)
        intent = plan.intents.get(name)
        meta = metadata(name, {**labels, **(intent.labels if intent else {}), L.SERVICE: name}, plan.name)
        template = {"metadata": _pod_metadata(name, service, meta, notes), "spec": pod}
        if name in plan.one_shot:
            if name in running:
                pod["restartPolicy"] = "Never"
                workloads.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                                  "spec": {"backoffLimit": 0, "template": template}})
        else:
            pod["restartPolicy"] = "Always"
            _restart_note(name, service, notes)
            workloads.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
                "replicas": _replicas(plan, name, service) if name in running else 0,
                "selector": {"matchLabels": {L.ENVIRONMENT: plan.name, L.SERVICE: name}},
                "template": template}})
        exposed += _services(plan, name, service, meta, notes)
        _notes_of(name, service, notes)
    objects += files.objects + exposed + workloads
    if len(model.get("networks") or {}) > 1:
        notes.append(f"networks {', '.join(model['networks'])}: one flat network in the namespace "
                     "(pods reach each other across them)")
    return objects, notes


def _pod_metadata(name: str, service: Mapping[str, Any], meta: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    """A pod's labels (netra-stack's), with the compose service's own labels as its annotations:
    they describe the container, and a label value may hold what a Kubernetes label cannot."""
    found = {k: dict(v) for k, v in meta.items() if k in ("labels", "annotations")}
    own = service.get("labels") or {}
    kept = {k: str(v) for k, v in own.items() if _QUALIFIED.match(k)}
    if kept:
        found["annotations"] = {**found.get("annotations", {}), **kept}
    if dropped := sorted(set(own) - set(kept)):
        notes.append(f"{name}: labels {', '.join(dropped)} dropped (not a Kubernetes annotation key)")
    return found


def _refuse(plan: Plan, name: str, service: Mapping[str, Any]) -> None:
    """A profile error for a service that cannot run on Kubernetes as the files mean it."""
    for key, why in REFUSED.items():
        value = service.get(key)
        if value in (None, False, [], "") or key == "network_mode" and value in ("bridge", "default"):
            continue
        raise ProfileError(f"{plan.profile.source}: services.{name}.{key} = {value!r}: cannot run on Kubernetes: {why}",
                           hint=f"remove {key} from {name} for this profile, e.g. with a compose file of its own")
    if not _DNS_LABEL.match(name):
        raise ProfileError(f"{plan.profile.source}: services.{name}: the name cannot be a Kubernetes Service's "
                           "(lowercase letters, digits and '-', starting with a letter, at most 63)",
                           hint="rename the service in the compose files")


def with_intent(service: Mapping[str, Any], intent: ServiceIntent | None) -> dict[str, Any]:
    """A service of the files with what netra-stack adds to it: its published ports with the
    host ports chosen, limits, tmpfs, environment, command, image, stop grace period."""
    found = dict(service)
    if intent is None:
        return found
    if intent.ports or intent.replace_ports:
        found["ports"] = [{"target": p.container, "published": str(p.host) if p.host else "", "protocol": p.protocol}
                          for p in intent.ports]
    for key, value in (("mem_limit", intent.memory), ("cpus", intent.cpus), ("image", intent.image)):
        if value:
            found[key] = value
    if intent.tmpfs:
        found["tmpfs"] = [*(service.get("tmpfs") or []), *intent.tmpfs]
    if intent.environment:
        found["environment"] = {**(service.get("environment") or {}), **intent.environment}
    if intent.command is not None:
        found["command"] = list(intent.command)
    if intent.stop_timeout is not None:
        found["stop_grace_period"] = intent.stop_timeout
    return found


def _pod(plan: Plan, name: str, service: Mapping[str, Any], files: _Files, notes: list[str]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": service.get("image") or plan.images.get(name, name)}
    if name in plan.images or plan.profile.kubernetes.load:  # loaded into the nodes, or pushed
        container["imagePullPolicy"] = "IfNotPresent"
    if name in plan.images:
        if registry := plan.profile.kubernetes.registry:
            container["image"] = pushed(registry, plan.images[name])
            notes.append(f"{name}: image {plan.images[name]} -> {container['image']} (pushed there before the apply)")
    if service.get("entrypoint") is not None:
        container["command"] = list(service["entrypoint"])
    if service.get("command") is not None:
        container["args"] = list(service["command"])
    environment = service.get("environment") or {}
    if environment:
        container["env"] = [{"name": k, "value": "" if v is None else str(v)} for k, v in sorted(environment.items())]
    if service.get("working_dir"):
        container["workingDir"] = service["working_dir"]
    ports = _container_ports(service)
    if ports:
        container["ports"] = [{"containerPort": port} for port in ports]
    resources = _resources(service)
    if resources:
        container["resources"] = resources
    probe = _readiness(plan, name, service)
    if probe:
        container["readinessProbe"] = probe
        if plan.profile.kubernetes.liveness:
            container["livenessProbe"] = probe
    security = _security(name, service, notes)
    if security:
        container["securityContext"] = security
    if service.get("stdin_open"):
        container["stdin"] = True
    if service.get("tty"):
        container["tty"] = True
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for number, mount in enumerate(service.get("volumes") or []):
        files.mount(name, number, mount, volumes, mounts)
    for number, path in enumerate(service.get("tmpfs") or []):
        target = str(path).split(":")[0]
        volumes.append({"name": f"tmpfs-{number}", "emptyDir": {"medium": "Memory"}})
        mounts.append({"name": f"tmpfs-{number}", "mountPath": target})
    for secret in service.get("secrets") or []:
        source = secret["source"]
        volumes.append({"name": f"secret-{source}", "secret": {"secretName": _object_name(source)}})
        mounts.append({"name": f"secret-{source}", "mountPath": secret.get("target") or f"/run/secrets/{source}",
                       "subPath": "value", "readOnly": True})
    if mounts:
        container["volumeMounts"] = mounts
    pod: dict[str, Any] = {"containers": [container]}
    if volumes:
        pod["volumes"] = volumes
    # Docker's stop grace period where the files set none (10 s), not Kubernetes' 30 s
    pod["terminationGracePeriodSeconds"] = max(0, round(seconds(service.get("stop_grace_period") or DEFAULT_GRACE)))
    if service.get("hostname"):
        pod["hostname"] = service["hostname"]
    if service.get("extra_hosts"):
        pod["hostAliases"] = _host_aliases(service["extra_hosts"])
    return pod


def _resources(service: Mapping[str, Any]) -> dict[str, Any]:
    limits = (((service.get("deploy") or {}).get("resources") or {}).get("limits") or {})
    memory = service.get("mem_limit") or limits.get("memory")
    cpus = service.get("cpus") or limits.get("cpus")
    found: dict[str, dict[str, str]] = {}
    if memory:
        found["limits"] = {"memory": str(memory)}
        found["requests"] = {"memory": str(service.get("mem_reservation") or memory)}
    if cpus:
        millis = f"{round(float(cpus) * 1000)}m"
        found.setdefault("limits", {})["cpu"] = millis
        found.setdefault("requests", {})["cpu"] = millis
    return found


def _readiness(plan: Plan, name: str, service: Mapping[str, Any]) -> dict[str, Any] | None:
    """The profile's health check, else the compose healthcheck, as a readiness probe: a pod
    takes traffic (its Service's name answers with it) only once it passes."""
    check = plan.health_check(name)
    health = service.get("healthcheck") or {}
    timing = {"periodSeconds": max(1, round(seconds(health.get("interval") or "10s"))),
              "timeoutSeconds": max(1, round(seconds(health.get("timeout") or "5s"))),
              "failureThreshold": int(health.get("retries") or 3)}
    if isinstance(check, HttpCheck):
        return {"httpGet": {"path": check.http, "port": check.port}, **timing}
    if isinstance(check, TcpCheck):
        return {"tcpSocket": {"port": check.tcp}, **timing}
    if check is not None and (argv := plan.health_command(name)):
        return {"exec": {"command": argv}, **timing}
    test = health.get("test") or []
    if health.get("disable") or not test or test[0] == "NONE":
        return None
    argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:] if test[0] == "CMD" else test)
    return {"exec": {"command": argv}, **timing}


def _security(name: str, service: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if service.get("read_only"):
        found["readOnlyRootFilesystem"] = True
    capabilities = {k: list(service[key]) for k, key in (("add", "cap_add"), ("drop", "cap_drop")) if service.get(key)}
    if capabilities:
        found["capabilities"] = capabilities
    user = str(service.get("user") or "")
    if user:
        uid, _, gid = user.partition(":")
        if uid.isdigit() and (not gid or gid.isdigit()):
            found["runAsUser"] = int(uid)
            if gid:
                found["runAsGroup"] = int(gid)
        else:
            notes.append(f"{name}: user {user} dropped (a pod runs as a numeric uid; the image's user stays)")
    return found


def _services(plan: Plan, name: str, service: Mapping[str, Any], meta: Mapping[str, Any],
              notes: list[str]) -> list[dict[str, Any]]:
    """The Services of a compose service. A headless one of its name, so that the name resolves
    to its pods, every port of theirs reachable as on a compose network (files seldom declare
    the ports services talk on); and where the files publish ports (`ports`), a NodePort one,
    `NAME-published`, with node ports from the plan's host ports (none chosen: the cluster
    chooses). Both reach a pod whatever its readiness, as a compose network and published ports
    reach a container whatever its health: a service is reachable the moment netra-stack finds
    it healthy, not at the kubelet's next probe, and what gates a dependent is `depends_on`."""
    targets = _container_ports(service)
    selector = {L.ENVIRONMENT: plan.name, L.SERVICE: name}
    headless: dict[str, Any] = {"clusterIP": "None", "selector": selector, "publishNotReadyAddresses": True}
    if targets:
        headless["ports"] = [{"name": f"p{t}", "port": t, "targetPort": t, "protocol": "TCP"} for t in targets]
    found = [{"apiVersion": "v1", "kind": "Service", "metadata": dict(meta), "spec": headless}]
    published = {int(p["target"]): p for p in service.get("ports") or []}
    if not published:
        return found
    ports = []
    for target, port in sorted(published.items()):
        entry: dict[str, Any] = {"name": f"p{target}", "port": target, "targetPort": target,
                                 "protocol": str(port.get("protocol") or "tcp").upper()}
        node_port = int(port.get("published") or 0)
        if node_port and not NODE_PORTS[0] <= node_port <= NODE_PORTS[1]:
            raise ProfileError(f"{plan.profile.source}: services.{name} port {target}: host port {node_port} "
                               f"is outside the NodePort range {NODE_PORTS[0]}-{NODE_PORTS[1]}",
                               hint=f"[ports] range = [{NODE_PORTS[0]}, {NODE_PORTS[1]}] in the profile, "
                                    "or strategy = \"ephemeral\" to let the cluster choose")
        if node_port:
            entry["nodePort"] = node_port
        ports.append(entry)
    notes.append(f"{name}: ports {', '.join(str(t) for t in sorted(published))} published as NodePorts "
                 f"(Service {name}{PUBLISHED}), on every node's address")
    found.append({"apiVersion": "v1", "kind": "Service", "metadata": {**meta, "name": f"{name}{PUBLISHED}"},
                  "spec": {"type": "NodePort", "selector": selector, "ports": ports, "publishNotReadyAddresses": True}})
    return found


def _container_ports(service: Mapping[str, Any]) -> list[int]:
    """The container ports a service publishes (`ports`) or offers to the others (`expose`)."""
    return sorted({int(p["target"]) for p in service.get("ports") or []}
                  | {int(str(e).split("/")[0]) for e in service.get("expose") or []})


def _replicas(plan: Plan, name: str, service: Mapping[str, Any]) -> int:
    intent = plan.intents.get(name)
    for found in (intent.replicas if intent else None, (service.get("deploy") or {}).get("replicas")):
        if found is not None:
            return int(found)
    return 1


def _restart_note(name: str, service: Mapping[str, Any], notes: list[str]) -> None:
    restart = str(service.get("restart") or "")
    if restart and restart not in ("always", "unless-stopped"):
        notes.append(f"{name}: restart {restart} -> Always (a Deployment restarts its pods; "
                     "a one-shot service becomes a Job instead)")


def _notes_of(name: str, service: Mapping[str, Any], notes: list[str]) -> None:
    for key in sorted(set(service) - MAPPED - set(REFUSED)):
        if service[key] not in (None, False, [], {}, ""):
            notes.append(f"{name}: {key} dropped (no Kubernetes equivalent)")
    if service.get("container_name"):
        notes.append(f"{name}: container_name {service['container_name']} dropped (Kubernetes names each pod)")
    if "build" in service:
        notes.append(f"{name}: build is done before the apply; the image is loaded into the nodes or pushed")
    if service.get("depends_on"):
        deps = ", ".join(service["depends_on"])
        notes.append(f"{name}: depends_on carried out by netra-stack: {name} is applied once {deps} "
                     f"{'is' if len(service['depends_on']) == 1 else 'are'} ready")
    if (service.get("healthcheck") or {}).get("test"):
        notes.append(f"{name}: healthcheck -> readinessProbe (start_period dropped: the probe waits for readiness)")


def _host_aliases(entries: Any) -> list[dict[str, Any]]:
    found: dict[str, list[str]] = {}
    pairs = entries.items() if isinstance(entries, Mapping) else (re.split(r"[=:]", str(e), maxsplit=1) for e in entries)
    for host, ip in pairs:
        for address in ip if isinstance(ip, list) else [ip]:
            found.setdefault(str(address), []).append(str(host))
    return [{"ip": ip, "hostnames": hosts} for ip, hosts in found.items()]


class _Files:
    """Bind-mounted files become ConfigMaps, compose secrets Secrets, and named volumes emptyDir
    volumes (test, dev) or PersistentVolumeClaims (prod): the objects made on the way."""

    def __init__(self, plan: Plan, labels: Mapping[str, str], notes: list[str]) -> None:
        self.plan, self.labels, self.notes = plan, dict(labels), notes
        self.objects: list[dict[str, Any]] = []
        self._claims: set[str] = set()

    def _meta(self, name: str) -> dict[str, Any]:
        return metadata(name, self.labels, self.plan.name)

    def secret(self, name: str, secret: Mapping[str, Any]) -> dict[str, Any]:
        if not secret.get("file"):
            raise ProfileError(f"{self.plan.profile.source}: secrets.{name}: only file secrets can be carried "
                               "into the cluster", hint=f"give secrets.{name} a file")
        data = self._read(Path(secret["file"]), f"secrets.{name}")
        return {"apiVersion": "v1", "kind": "Secret", "metadata": self._meta(_object_name(name)), "type": "Opaque",
                "data": {"value": base64.b64encode(data).decode()}}

    def mount(self, service: str, number: int, mount: Mapping[str, Any], volumes: list[dict[str, Any]],
              mounts: list[dict[str, Any]]) -> None:
        kind, target = mount.get("type"), mount["target"]
        volume = f"v{number}"
        entry: dict[str, Any] = {"name": volume, "mountPath": target}
        if mount.get("read_only"):
            entry["readOnly"] = True
        if kind == "bind":
            source = Path(mount["source"])
            config = _object_name(f"{service}-{number}")
            if source.is_file():
                self.objects.append(self._config_map(config, {source.name: self._read(source, f"services.{service}.volumes")}))
                entry["subPath"] = source.name
            elif source.is_dir():
                found = {p.name: self._read(p, f"services.{service}.volumes") for p in sorted(source.iterdir()) if p.is_file()}
                self.objects.append(self._config_map(config, found))
                self.notes.append(f"{service}: {source} -> ConfigMap {config} (a copy: changes on the host do not reach the pod)")
            else:
                raise ProfileError(f"{self.plan.profile.source}: services.{service}.volumes: {source} does not exist",
                                   hint="create it, or remove the bind mount for this profile")
            volumes.append({"name": volume, "configMap": {"name": config}})
        elif kind == "volume" and mount.get("source"):
            volumes.append({"name": volume, **self._volume(mount["source"])})
        elif kind == "tmpfs":
            volumes.append({"name": volume, "emptyDir": {"medium": "Memory"}})
        else:  # an anonymous volume
            volumes.append({"name": volume, "emptyDir": {}})
        mounts.append(entry)

    def _volume(self, name: str) -> dict[str, Any]:
        if self.plan.profile.environment != "prod":
            return {"emptyDir": {}}  # test and dev data lives as long as the environment
        claim = _object_name(name)
        if claim not in self._claims:
            self._claims.add(claim)
            self.objects.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": self._meta(claim),
                                 "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
            self.notes.append(f"volume {name}: PersistentVolumeClaim {claim} (1Gi, the cluster's default storage class)")
        return {"persistentVolumeClaim": {"claimName": claim}}

    def _config_map(self, name: str, files: Mapping[str, bytes]) -> dict[str, Any]:
        text, binary = {}, {}
        for key, data in files.items():
            try:
                text[key] = data.decode()
            except UnicodeDecodeError:
                binary[key] = base64.b64encode(data).decode()
        found: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": self._meta(name)}
        if text:
            found["data"] = text
        if binary:
            found["binaryData"] = binary
        return found

    def _read(self, path: Path, key: str) -> bytes:
        path = path if path.is_absolute() else self.plan.profile.root / path
        if path.stat().st_size > CONFIG_LIMIT:
            raise ProfileError(f"{self.plan.profile.source}: {key}: {path} is larger than 1 MiB, "
                               "more than a ConfigMap or Secret holds", hint="bake it into the image instead")
        return path.read_bytes()


# What netra-stack does in a cluster, and nothing more: make and remove the namespace of each
# environment and the objects in it, and watch and read what runs there. Namespaces are made
# as environments start, so the rules are a ClusterRole (a namespaced Role could not follow).
ACCESS_RULES = (
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["services", "configmaps", "secrets", "persistentvolumeclaims"],
     "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
    {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "patch"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},  # websocket, SPDY
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]},
)


def access_role(name: str = "netra-stack") -> dict[str, Any]:
    """The ClusterRole with the least a user of netra-stack needs (bind it to that user)."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {L.MANAGED: "true"}}, "rules": [dict(r) for r in ACCESS_RULES]}


def masked(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects for showing: the data of each Secret, and the values of secret-named
    environment variables (`POSTGRES_PASSWORD`, not `POSTGRES_PASSWORD_FILE`), as MASK."""
    hidden = base64.b64encode(MASK.encode()).decode()

    def env(entry: dict[str, Any]) -> dict[str, Any]:
        secret = SECRET_NAME.search(entry["name"]) and not entry["name"].lower().endswith("_file")
        return {**entry, "value": MASK} if secret else entry

    def pod(spec: dict[str, Any]) -> dict[str, Any]:
        return {**spec, "containers": [{**c, "env": [env(e) for e in c["env"]]} if c.get("env") else c
                                       for c in spec["containers"]]}

    found = []
    for o in objects:
        if o["kind"] == "Secret":
            o = {**o, "data": {k: hidden for k in o.get("data") or {}}}
        elif o["kind"] in ("Deployment", "Job"):
            template = o["spec"]["template"]
            o = {**o, "spec": {**o["spec"], "template": {**template, "spec": pod(template["spec"])}}}
        found.append(o)
    return found


def metadata(name: str, labels: Mapping[str, str], namespace: str | None = None) -> dict[str, Any]:
    """An object's metadata: netra-stack's labels, those whose value a Kubernetes label cannot
    hold (the owner `user@host`, a lease `pid:start`) as annotations of the same key."""
    found: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {}),
                             "labels": {k: v for k, v in labels.items() if _LABEL_VALUE.match(v) and len(v) <= 63}}
    others = {k: v for k, v in labels.items() if k not in found["labels"]}
    if others:
        found["annotations"] = others
    return found


def _object_name(name: str) -> str:
    """A name for an object of ours (DNS-1123: lowercase, digits, '-', '.')."""
    return re.sub(r"[^a-z0-9.-]", "-", name.lower()).strip("-.")[:253]


def seconds(duration: Any) -> float:
    """A compose duration ('1m30s', '500ms', '5s', or a number of seconds) in seconds."""
    if isinstance(duration, (int, float)):
        return float(duration)
    return sum(float(number) * _UNITS[unit] for number, unit in _DURATION.findall(str(duration)))
