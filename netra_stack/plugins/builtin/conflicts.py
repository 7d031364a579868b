"""Built-in conflict policy: clear our own leftovers before up; on an engine error, remove what
is ours and in the way, choose ports again on a port clash, and never touch anything else."""

from __future__ import annotations

from netra_stack.leases.holder import holder_alive
from netra_stack.model import labels as L
from netra_stack.plugins.hookspecs import hookimpl
from netra_stack.model.decisions import ConflictResolution


def _remove_stale(backend, environment: str) -> tuple[str, ...]:
    """Stopped or dead containers of this environment, and its networks left without endpoints."""

    removed = []
    for container in backend.instances(environment):
        if container.status in ("exited", "dead", "created"):
            backend.remove(container)
            removed.append(container.name)
    if not any(True for _ in backend.instances(environment)):
        for network in backend.networks(environment):
            if backend.remove_network(network):
                removed.append(network["Name"])
    return tuple(removed)


def _live(backend, environment: str) -> bool:
    """Whether an environment is in use: a container of it runs, or the process holding it lives."""

    return any(c.running or (c.labels.get(L.LEASE) and holder_alive(c.labels[L.LEASE]))
               for c in backend.instances(environment, detail=False))


def _clear_name(backend, plan, holder) -> ConflictResolution:
    """A container that holds a name this plan needs: removed only if it is ours and its
    environment is gone (nothing runs, no live holder), or foreign with --force."""

    if not L.is_ours(holder.labels):
        if plan.force:
            backend.remove(holder, foreign=True)
            return ConflictResolution("retry", f"removed foreign container {holder.name} (--force)",
                                      removed=(holder.name,))
        return ConflictResolution(
            "fail", f"container {holder.name} ({holder.id[:12]}) holds the name and is not netra-stack's; "
                    "remove or rename it yourself, or run again with --force to let netra-stack remove it")
    if holder.environment != plan.name and _live(backend, holder.environment):
        return ConflictResolution(
            "fail", f"container name {holder.name} is held by environment {holder.environment}, which is in use; "
                    f"release it first (`netra-stack down --name {holder.environment}`), or let the profile make "
                    "container names unique (container_names = \"unique\")")
    backend.remove(holder)
    return ConflictResolution("retry", f"removed our stale container {holder.name}", removed=(holder.name,))


@hookimpl(trylast=True)
def netra_resolve_conflict(plan, failure, attempt, backend):

    if failure is None:
        cleared: list[str] = []
        for fixed in plan.container_names.values():  # before anything starts: who holds the names we need
            holder = backend.instance(fixed)
            if holder is not None and holder.environment != plan.name:
                resolution = _clear_name(backend, plan, holder)
                if resolution.action == "fail":
                    return resolution
                cleared.extend(resolution.removed)
        removed = (*cleared, *_remove_stale(backend, plan.name))
        return ConflictResolution("retry", "removed leftovers" if removed else "nothing in the way", removed=removed)
    if failure.kind == "name_conflict":
        holder = backend.instance(failure.details["id"])
        if holder is None:
            return ConflictResolution("retry", "the conflicting container is already gone")
        return _clear_name(backend, plan, holder)
    if failure.kind in ("port_allocated", "address_in_use"):
        port = failure.details.get("port", "?")
        if _fixed(plan, port):  # choosing again cannot help: the profile asked for this port
            from netra_stack.plugins.builtin.ports import port_holder

            holder = port_holder(int(port)) if port.isdigit() else None
            return ConflictResolution("fail", f"host port {port} is fixed by the profile and taken by "
                                              + (f"another process: {holder}" if holder else "another process"))
        return ConflictResolution("retry", f"host port {port} was taken meanwhile: choosing again", replan_ports=True)
    if failure.kind in ("network_active_endpoints", "network_wrong_labels"):
        return _network_in_the_way(backend, plan, failure.details.get("network", ""))
    return None


def _network_in_the_way(backend, plan, name: str) -> ConflictResolution:
    """A network of the same name: ours and unused is removed; anything else only with --force,
    and never while containers are attached."""

    network = backend.network(name)
    if network is None:
        return ConflictResolution("retry", f"network {name} is gone meanwhile")
    attached = network.get("Containers") or {}
    ours = L.is_ours(network.get("Labels"))
    if attached:
        return ConflictResolution("fail", f"network {name} still has {len(attached)} container(s) attached; "
                                          "stop them first")
    if not ours and not plan.force:
        return ConflictResolution("fail", f"network {name} exists and is not netra-stack's; remove it yourself, "
                                          "or run again with --force to let netra-stack remove it")
    backend.remove_network(network, foreign=not ours)
    return ConflictResolution("retry", f"removed {'our leftover' if ours else 'foreign (--force)'} network {name}",
                              removed=(name,))


def _fixed(plan, port: str | None) -> bool:
    """Whether the clashing host port was asked for explicitly (so choosing again cannot help)."""
    return any(str(plan.ports[key]) == port for key in plan.fixed_ports)
