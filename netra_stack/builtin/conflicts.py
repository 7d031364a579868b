"""Built-in conflict policy: clear our own leftovers before up; on an engine error, remove what
is ours and in the way, choose ports again on a port clash, and never touch anything else."""

from __future__ import annotations

from .. import labels as L
from ..hookspecs import hookimpl
from ..policy import ConflictResolution


def _remove_stale(environment: str) -> tuple[str, ...]:
    """Stopped or dead containers of this environment, and its networks left without endpoints."""
    from .. import engine

    removed = []
    for container in engine.containers(environment):
        if container.status in ("exited", "dead", "created"):
            engine.remove_container(container)
            removed.append(container.name)
    if not any(True for _ in engine.containers(environment)):
        for network in engine.networks(environment):
            if engine.remove_network(network):
                removed.append(network["Name"])
    return tuple(removed)


@hookimpl(trylast=True)
def netra_resolve_conflict(plan, failure, attempt):
    from .. import engine

    if failure is None:
        removed = _remove_stale(plan.name)
        return ConflictResolution("retry", "removed leftovers" if removed else "nothing in the way", removed=removed)
    if failure.kind == "name_conflict":
        holder = engine.container_by_id(failure.details["id"])
        if holder is None:
            return ConflictResolution("retry", "the conflicting container is already gone")
        if not L.is_ours(holder.labels):
            if plan.force:
                engine.remove_container(holder, foreign=True)
                return ConflictResolution("retry", f"removed foreign container {holder.name} (--force)",
                                          removed=(holder.name,))
            return ConflictResolution(
                "fail", f"container {holder.name} ({holder.id[:12]}) holds the name and is not netra-stack's; "
                        "remove or rename it yourself, or run again with --force to let netra-stack remove it")
        engine.remove_container(holder)
        return ConflictResolution("retry", f"removed our stale container {holder.name}", removed=(holder.name,))
    if failure.kind in ("port_allocated", "address_in_use"):
        port = failure.details.get("port", "?")
        if _fixed(plan, port):  # choosing again cannot help: the profile asked for this port
            from .ports import port_holder

            holder = port_holder(int(port)) if port.isdigit() else None
            return ConflictResolution("fail", f"host port {port} is fixed by the profile and taken by "
                                              + (f"another process: {holder}" if holder else "another process"))
        return ConflictResolution("retry", f"host port {port} was taken meanwhile: choosing again", replan_ports=True)
    if failure.kind in ("network_active_endpoints", "network_wrong_labels"):
        return _network_in_the_way(plan, failure.details.get("network", ""))
    return None


def _network_in_the_way(plan, name: str) -> ConflictResolution:
    """A network of the same name: ours and unused is removed; anything else only with --force,
    and never while containers are attached."""
    from .. import engine

    network = engine.network_by_name(name)
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
    engine.remove_network(network, foreign=not ours)
    return ConflictResolution("retry", f"removed {'our leftover' if ours else 'foreign (--force)'} network {name}",
                              removed=(name,))


def _fixed(plan, port: str | None) -> bool:
    """Whether the clashing host port was asked for explicitly (so choosing again cannot help)."""
    return any(str(plan.ports[key]) == port for key in plan.fixed_ports)
