"""The stack as a picture: its services as nodes (one-shot or not, the ports they publish, and,
for a running environment, their health), `depends_on` as edges labelled with their condition,
and the services whose failure holds others up. One value for every way it is drawn (the
terminal's tree, mermaid, dot, images, the dashboard). Pure: no Docker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from netra_stack.model.health import HealthReport, HealthState
from netra_stack.planning.graph import COMPLETED, HEALTHY, STARTED, Graph

CONDITIONS = {STARTED: "started", HEALTHY: "healthy", COMPLETED: "completed"}  # compose's -> the edge's label


@dataclass(frozen=True)
class Node:
    service: str
    one_shot: bool = False
    ports: tuple[str, ...] = ()  # "8000" (the files'), "127.0.0.1:34567->8000" (bound)
    state: HealthState | None = None  # None: the plan alone, or not started (detail says so)
    detail: str = ""
    holds_up: tuple[str, ...] = ()  # the dependents this service, not HEALTHY, holds back


@dataclass(frozen=True)
class Edge:
    service: str  # the dependent
    dependency: str
    condition: str  # started | healthy | completed

    @property
    def key(self) -> tuple[str, str]:
        return self.service, self.dependency


@dataclass(frozen=True)
class Picture:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    state: HealthState | None = None  # the environment's, when it runs

    def node(self, service: str) -> Node:
        return next(n for n in self.nodes if n.service == service)

    def dependencies(self, service: str) -> list[Edge]:
        return [e for e in self.edges if e.service == service]

    def roots(self) -> list[str]:
        """The services nothing depends on: where each tree of the terminal starts."""
        needed = {e.dependency for e in self.edges}
        return [n.service for n in self.nodes if n.service not in needed] or [n.service for n in self.nodes[:1]]

    def held(self) -> bool:
        """Whether a service that is not HEALTHY holds another one up."""
        return any(n.holds_up for n in self.nodes)

    def holding(self, edge: Edge) -> bool:
        """Whether the dependency of `edge` holds its dependent up (it is why that one is not HEALTHY)."""
        return edge.service in self.node(edge.dependency).holds_up

    def layers(self) -> list[list[str]]:
        """The services by level, dependencies first: level 0 depends on nothing, each other one
        sits above the highest of its dependencies; within a level, ordered by where their
        dependencies sit (fewer crossing edges)."""
        level: dict[str, int] = {}

        def of(service: str, seen: frozenset[str] = frozenset()) -> int:
            if service not in level:
                below = [of(e.dependency, seen | {service}) for e in self.dependencies(service)
                         if e.dependency not in seen]  # a cycle: cut where it closes
                level[service] = 1 + max(below) if below else 0
            return level[service]

        for node in self.nodes:
            of(node.service)
        found: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for node in self.nodes:
            found[level[node.service]].append(node.service)
        for number in range(1, len(found)):
            position = {s: i for i, s in enumerate(found[number - 1])}
            for lower in found[:number - 1]:
                position.update({s: i for i, s in enumerate(lower)})

            def centre(service: str) -> float:
                places = [position[e.dependency] for e in self.dependencies(service) if e.dependency in position]
                return sum(places) / len(places) if places else 0.0

            found[number].sort(key=centre)
        return found

    def as_dict(self) -> dict:
        return {"title": self.title, "state": self.state.value if self.state else None,
                "nodes": [{"service": n.service, "one_shot": n.one_shot, "ports": list(n.ports),
                           "state": n.state.value if n.state else None, "detail": n.detail,
                           "holds_up": list(n.holds_up)} for n in self.nodes],
                "edges": [{"service": e.service, "dependency": e.dependency, "condition": e.condition,
                           "holding": self.holding(e)} for e in self.edges],
                "layers": self.layers()}


def picture(title: str, graph: Graph, services: Iterable[str], *, one_shot: Iterable[str] = (),
            ports: Mapping[str, Iterable[str]] | None = None, report: HealthReport | None = None) -> Picture:
    """The picture of `services` and the `depends_on` between them; with a running environment's
    `report`, each node's health and what its failure holds up."""
    services = list(services)
    one_shot, ports = set(one_shot), ports or {}
    health = {s.service: s for s in report.services} if report else {}
    held: dict[str, list[str]] = {}
    if report:
        for service in services:
            if health.get(service) is None or health[service].state is not HealthState.HEALTHY:
                for dependency in report.held_up_by(service):
                    held.setdefault(dependency, []).append(service)
    nodes = tuple(Node(service, service in one_shot, tuple(ports.get(service, ())),
                       health[service].state if service in health else None,
                       health[service].detail if service in health else ("not started" if report else ""),
                       tuple(held.get(service, ())))
                  for service in services)
    edges = tuple(Edge(service, dependency, CONDITIONS.get(how.get("condition", STARTED), str(how.get("condition"))))
                  for service in services for dependency, how in graph.edges.get(service, {}).items()
                  if dependency in services)
    return Picture(title, nodes, edges, report.state if report else None)
