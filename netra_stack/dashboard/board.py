"""What the dashboard shows: every netra-stack environment on the engine, each service's health
as the engine reports it, its ports and the stack's graph, kept up to date in a thread woken by
the engine's events (and every few seconds, for the healthchecks' outputs, which send none).
Each change makes a new snapshot with a higher version; the page is sent each one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from netra_stack.graphs.picture import picture
from netra_stack.model import labels as L
from netra_stack.model.health import HealthReport, HealthState, combine, judge
from netra_stack.model.instances import Instance
from netra_stack.model.redact import Redactor
from netra_stack.planning.graph import STARTED, Graph

REFRESH = 10.0  # seconds between looks when no event came (a healthcheck's output changes silently)
RETRY = 2.0  # seconds between tries while the engine cannot be reached


def graph_of(instances: Iterable[Instance]) -> Graph:
    """The services' depends_on, from the label netra-stack puts on each instance."""
    edges: dict[str, dict[str, dict[str, Any]]] = {}
    for instance in instances:
        found = edges.setdefault(instance.service, {})
        for entry in filter(None, instance.labels.get(L.DEPENDS_ON, "").split(",")):
            name, _, condition = entry.partition(":")
            found[name] = {"condition": condition or STARTED}
    return Graph(edges)


def environment_view(name: str, instances: list[Instance], redactor: Redactor) -> dict[str, Any]:
    """One environment as the page shows it: its state, each service (state, why, the engine's
    last probe, ports), and its graph with each service's health."""
    by_service: dict[str, list[Instance]] = {}
    for instance in sorted(instances, key=lambda i: i.name):
        if not instance.one_off:
            by_service.setdefault(instance.service, []).append(instance)
    results = [combine([judge(service, i, None, one_shot=i.labels.get(L.ONE_SHOT) == "true") for i in found])
               for service, found in sorted(by_service.items())]
    graph = graph_of(i for found in by_service.values() for i in found)
    report = HealthReport(name, next((i.labels.get(L.PROFILE, "") for i in instances), ""), results, graph.as_lists())
    one_shot = {s for s, found in by_service.items() if any(i.labels.get(L.ONE_SHOT) == "true" for i in found)}
    ports = {s: [f"{b.host_port}→{b.container_port}" for b in found[0].ports if ":" not in b.host_ip]
             for s, found in by_service.items()}
    services = []
    for health in results:
        first = by_service[health.service][0]
        services.append({
            "service": health.service, "state": health.state.value, "detail": redactor.redact(health.detail),
            "held_up_by": report.held_up_by(health.service) if health.state is not HealthState.HEALTHY else [],
            "status": first.status,
            "health": first.health or "", "last_probe": redactor.redact(first.health_output or "")[-300:],
            "node": first.node, "started": first.started.isoformat() if first.started else None,
            "ports": [{"host": b.address, "port": b.host_port,
                       "container": b.container_port, "protocol": b.protocol}
                      for b in first.ports if ":" not in b.host_ip]})
    drawn = picture(name, graph, sorted(by_service), one_shot=one_shot, ports=ports, report=report)
    return {"name": name, "profile": report.profile, "state": report.state.value, "running": report.running,
            "services": services, "picture": drawn.as_dict()}


class Board:
    """The environments on the backend, looked at again at every event and every REFRESH
    seconds, in a thread of its own; `on_change` is called (from that thread) with each new
    snapshot. `backend_factory` makes the backend again after the engine went away."""

    def __init__(self, backend_factory: Callable[[], Any], redactor: Redactor | None = None) -> None:
        self._backend_factory = backend_factory
        self._redactor = redactor or Redactor()
        self.on_change: Callable[[dict[str, Any]], None] = lambda snapshot: None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poke = threading.Event()
        self.snapshot: dict[str, Any] = {"version": 0, "engine": None, "environments": [], "actions": [], "time": time.time()}
        self._actions: list[dict[str, Any]] = []

    def start(self) -> Board:
        threading.Thread(target=self._run, name="netra-dashboard-board", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()

    def poke(self) -> None:
        """Look again now (an action just changed something)."""
        self._poke.set()

    def action(self, record: dict[str, Any]) -> None:
        """An action's record (what, state, output), shown on the page; the newest 20 kept."""
        with self._lock:
            self._actions = [a for a in self._actions if a["id"] != record["id"]][-19:] + [record]
        self._poke.set()

    def _run(self) -> None:
        backend, watch = None, None
        while not self._stop.is_set():
            try:
                if backend is None:
                    backend = self._backend_factory()
                    watch = backend.events(None)
                environments = self._look(backend)
                error = None
            except Exception as exc:  # the engine went away (or never came): say so, try again
                environments, error = None, f"cannot reach the engine: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                if watch is not None:
                    watch.close()
                backend, watch = None, None
            self._publish(environments, error)
            wake = watch.wake if watch is not None else self._poke
            deadline = time.monotonic() + (REFRESH if error is None else RETRY)
            while not self._stop.is_set() and time.monotonic() < deadline:
                if wake.wait(0.05) or self._poke.is_set():
                    break
            if watch is not None:
                watch.wake.clear()
            self._poke.clear()
        if watch is not None:
            watch.close()

    def _look(self, backend) -> list[dict[str, Any]]:
        groups: dict[str, list[Instance]] = {}
        for instance in backend.instances(None):
            groups.setdefault(instance.environment, []).append(instance)
        return [environment_view(name, found, self._redactor) for name, found in sorted(groups.items())]

    def _publish(self, environments: list[dict[str, Any]] | None, error: str | None) -> None:
        with self._lock:
            current = self.snapshot
            shown = environments or []
            if shown == current["environments"] and error == current["engine"] and self._actions == current["actions"]:
                return
            self.snapshot = {"version": current["version"] + 1, "engine": error, "environments": shown,
                             "actions": list(self._actions), "time": time.time()}
            snapshot = self.snapshot
        self.on_change(snapshot)

