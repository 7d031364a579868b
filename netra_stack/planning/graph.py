"""The services' dependency graph, from the compose model: who depends on whom, and on what
condition. One type for planning (one-shot services, healthy gates), builds (waves, the head
start), the stages of `up` and the reports' "held up by". Pure: no Docker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
STARTED = "service_started"


@dataclass(frozen=True)
class Graph:
    """service -> dependency -> compose's long form of the dependency ({condition, required, ...})."""

    edges: Mapping[str, Mapping[str, Mapping[str, Any]]]

    @classmethod
    def from_model(cls, model: Mapping[str, Any]) -> Graph:
        """The graph of `docker compose config`'s model (depends_on as a list or a mapping)."""
        edges = {}
        for service, spec in (model.get("services") or {}).items():
            found = (spec or {}).get("depends_on") or {}
            if isinstance(found, list):
                found = {name: {"condition": "service_started"} for name in found}
            edges[service] = {name: dict(how or {}) for name, how in found.items()}
        return cls(edges)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.edges)

    def depends_on(self, service: str) -> list[str]:
        """The services `service` depends on directly (also those the model does not hold)."""
        return list(self.edges.get(service, {}))

    def as_lists(self) -> dict[str, list[str]]:
        """service -> its direct dependencies, for reports."""
        return {service: self.depends_on(service) for service in self.edges}

    def awaited(self, condition: str) -> set[str]:
        """The services another one depends on with this condition (HEALTHY, COMPLETED)."""
        return {dependency for how in self.edges.values() for dependency, edge in how.items()
                if edge.get("condition") == condition}

    def gates(self, service: str, conditions: frozenset[str] = frozenset({HEALTHY})) -> frozenset[str]:
        """The dependencies `service` waits to be ready for, on one of `conditions` (those the model holds)."""
        return frozenset(d for d, edge in self.edges.get(service, {}).items()
                         if edge.get("condition", STARTED) in conditions and d in self.edges)

    def upstream(self, service: str) -> set[str]:
        """Every service `service` depends on, directly or not."""
        seen: set[str] = set()
        stack = self.depends_on(service)
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(self.depends_on(name))
        return seen

    def holds(self, service: str, conditions: frozenset[str] = frozenset({HEALTHY})) -> set[str]:
        """The gates that hold `service` back: its own and those of everything it needs (an
        orchestrator that orders dependencies starts them along with it)."""
        return {gate for name in {service, *self.upstream(service)} for gate in self.gates(name, conditions)}

    def build_waves(self, services: list[str]) -> list[list[str]]:
        """Order builds as compose does, by depends_on: each wave builds side by side, after every
        service it depends on (directly or through services that are not built) has been built."""
        needs = {s: self.upstream(s) & set(services) for s in services}
        waves: list[list[str]] = []
        left = list(services)
        while left:
            wave = [s for s in left if not needs[s] & set(left)] or left  # a cycle: build the rest together
            waves.append(wave)
            left = [s for s in left if s not in wave]
        return waves

    def startable_while_building(self, services: Iterable[str], built: Iterable[str]) -> list[str]:
        """The services that can start while the builds run: those not built that depend, directly
        or not, on no service that is (a database, a cache: usually what takes longest to get ready)."""
        built = set(built)
        return [s for s in services if s not in built and not self.upstream(s) & built]
