"""A plan as a Docker Swarm stack file: compose's resolved model of the user's files plus
netra-stack's override (ports, labels, limits, environment), turned into what `docker stack
deploy` understands. Every key that the rendering drops or changes becomes a note, so that
nothing is lost silently.

Swarm differs from compose where this module says so: published ports go through the routing
mesh where every node has IPVS, and are host-mode ports on the node that runs the task where
not; limits live in `deploy.resources`; a one-shot service is a task that is not restarted;
`depends_on` is carried out by netra-stack (it starts a service only once what it depends on
is ready), not by the file; with a registry, the images netra-stack builds run by their name
in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from netra_stack.backends.delivery import pushed
from netra_stack.model import labels as L
from netra_stack.model.errors import ProfileError
from netra_stack.planning.plan import Plan

# Service keys `docker stack deploy` takes as they are.
KEPT = frozenset({
    "image", "command", "entrypoint", "environment", "healthcheck", "labels", "networks", "volumes",
    "working_dir", "user", "stop_grace_period", "stop_signal", "configs", "secrets", "ulimits", "hostname",
    "extra_hosts", "cap_add", "cap_drop", "read_only", "init", "sysctls", "logging", "dns", "dns_search",
    "tmpfs", "tty", "stdin_open", "domainname", "isolation",
})
# Keys netra-stack carries out itself, or that compose adds to every resolved service.
CARRIED = frozenset({"build", "depends_on", "profiles", "pull_policy"})
QUIET = frozenset({"ports", "mem_limit", "cpus", "restart", "deploy", "container_name"})  # mapped below
RESTART = {"no": "none", "always": "any", "unless-stopped": "any", "on-failure": "on-failure"}


START_INTERVAL = "500ms"  # Docker's probes while a healthcheck's start_period lasts (Engine 25 and later)


def render_stack(plan: Plan, model: Mapping[str, Any], started: Iterable[str] | None = None,
                 replicas: Mapping[str, int] | None = None, *, mesh: bool = False,
                 mesh_note: str = "", start_interval: bool = False) -> tuple[dict[str, Any], list[str]]:
    """(the stack file, notes): `model` is compose's resolved config of the files with the plan's
    override; `started`: the services to run now (the others get 0 replicas until their stage
    comes); `replicas`: counts that override the profile's and the file's (`scale`); `mesh`:
    publish through the routing mesh (`mesh_note`: why it is used or not, said once);
    `start_interval`: the engine probes at a start_interval (see _readiness)."""
    running = set(plan.services if started is None else started)
    notes: list[str] = [mesh_note] if mesh_note else []
    services = {}
    for name, service in (model.get("services") or {}).items():
        intent = plan.intents.get(name)
        choices = ((replicas or {}).get(name), intent.replicas if intent else None, (service.get("deploy") or {}).get("replicas"))
        count = next((c for c in choices if c is not None), 1)
        if service.get("network_mode") == "host" and count > 1:
            raise ProfileError(f"{plan.profile.source}: services.{name}.replicas = {count}: the service has "
                               "network_mode: host, so two of its tasks on one node would take the same ports",
                               hint=f"run one replica of {name}, or give it a network of the stack instead of the host's")
        services[name] = _service(plan, name, service, name in running, count, mesh, notes)
        if start_interval:
            _readiness(name, services[name], notes)
    # 3.12: the first stack file version with a healthcheck's start_interval
    stack: dict[str, Any] = {"version": "3.12" if start_interval else "3.8", "services": services}
    networks = {}
    for name, network in (model.get("networks") or {}).items():
        if network.get("external"):
            networks[name] = {"external": True, "name": network.get("name", name)}
            continue
        networks[name] = {"driver": "overlay", "attachable": True, "labels": dict(plan.labels)}
        if network.get("driver") not in (None, "bridge", "overlay"):
            notes.append(f"network {name}: driver {network['driver']} -> overlay (swarm networks span nodes)")
    if networks:
        stack["networks"] = networks
    volumes = {name: ({"external": True, "name": volume.get("name", name)} if volume.get("external") else
                      {"labels": dict(plan.labels), **({"driver": volume["driver"]} if volume.get("driver") else {})})
               for name, volume in (model.get("volumes") or {}).items()}
    if volumes:
        stack["volumes"] = volumes
    for kind in ("secrets", "configs"):
        found = {name: {k: v for k, v in item.items() if k in ("file", "external", "name")}
                 for name, item in (model.get(kind) or {}).items()}
        if found:
            stack[kind] = found
    return stack, notes


def _service(plan: Plan, name: str, service: Mapping[str, Any], running: bool, count: int, mesh: bool,
             notes: list[str]) -> dict[str, Any]:
    out = {key: value for key, value in service.items() if key in KEPT and value is not None}
    registry = plan.profile.swarm.registry
    if registry and name in plan.images:
        out["image"] = pushed(registry, plan.images[name])
        notes.append(f"{name}: image {plan.images[name]} -> {out['image']} (pushed there before the deploy)")
    out["labels"] = {**(service.get("labels") or {}), L.SERVICE: name}
    for key in sorted(set(service) - KEPT - CARRIED - QUIET):
        notes.append(f"{name}: {key} dropped (docker stack deploy does not support it)")
    if "build" in service:
        notes.append(f"{name}: build is done before the deploy, on the manager's engine")
    if service.get("container_name"):
        notes.append(f"{name}: container_name {service['container_name']} dropped (swarm names each task)")
    if service.get("depends_on"):
        notes.append(f"{name}: depends_on carried out by netra-stack: {name} starts once "
                     f"{', '.join(service['depends_on'])} {'is' if len(service['depends_on']) == 1 else 'are'} ready")
    deploy: dict[str, Any] = {"replicas": count if running else 0, "labels": dict(plan.labels)}
    limits = {k: v for k, v in (("memory", service.get("mem_limit")), ("cpus", service.get("cpus"))) if v}
    if limits:
        deploy["resources"] = {"limits": {k: str(v) for k, v in limits.items()}}
        moved = " and ".join(k for k in ("mem_limit", "cpus") if service.get(k))
        notes.append(f"{name}: {moved} -> deploy.resources.limits")
    if name in plan.one_shot:
        deploy["restart_policy"] = {"condition": "none"}
    elif service.get("restart"):
        policy = RESTART.get(str(service["restart"]).split(":")[0], "any")
        deploy["restart_policy"] = {"condition": policy}
        notes.append(f"{name}: restart {service['restart']} -> deploy.restart_policy.condition {policy}")
    for key in ("placement", "update_config", "rollback_config", "resources", "mode", "endpoint_mode"):
        if key in (service.get("deploy") or {}):
            deploy.setdefault(key, service["deploy"][key])
    ports = [_port(name, p, mesh, notes) for p in service.get("ports") or []]
    if ports:
        out["ports"] = ports
        if not mesh:
            notes.append(f"{name}: ports published in host mode, on the node that runs each task")
    if not mesh:
        deploy.setdefault("endpoint_mode", "dnsrr")  # a virtual IP needs IPVS: the service's name resolves to its tasks
    out["deploy"] = deploy
    return out


def _readiness(name: str, service: dict[str, Any], notes: list[str]) -> None:
    """A healthcheck with a start_period probes every START_INTERVAL during it: the swarm routes
    to a task (its name resolves) only once its healthcheck passed, so a dependent's stage starts
    half a second after the dependency is ready, not one whole interval after its start (the
    compose backend sees readiness early by probing itself). Probes after the start, and what
    counts as a failure, stay as the file says."""
    health = service.get("healthcheck") or {}
    if not health.get("start_period") or health.get("start_interval") or health.get("disable"):
        return
    service["healthcheck"] = {**health, "start_interval": START_INTERVAL}
    notes.append(f"{name}: healthcheck start_interval {START_INTERVAL} added (probes during its start_period "
                 f"{health['start_period']}; then every {health.get('interval', '30s')}, as the file says)")


def _port(service: str, port: Mapping[str, Any], mesh: bool, notes: list[str]) -> dict[str, Any]:
    """A published port: through the routing mesh (on every node), or a host-mode port bound on
    the node that runs the task."""
    found = {"target": int(port["target"]), "protocol": port.get("protocol", "tcp"), "mode": "ingress" if mesh else "host"}
    if port.get("published"):
        found["published"] = int(port["published"])
    if port.get("host_ip") not in (None, "", "0.0.0.0", "::"):
        notes.append(f"{service}: port {port['target']}: host_ip {port['host_ip']} dropped "
                     "(swarm publishes on every address of the node)")
    return found
