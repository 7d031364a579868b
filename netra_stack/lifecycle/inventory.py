"""What exists: the environments on a backend (from their labels alone), the one a command
means, the ports an environment has really bound, and its configuration as it runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from netra_stack.model import labels as L
from netra_stack.model.decisions import PortBinding
from netra_stack.model.errors import NotFoundError
from netra_stack.model.redact import Redactor
from netra_stack.planning.plan import environment_name, external_resources, shared_mounts

if TYPE_CHECKING:
    from netra_stack.backends.base import Backend
    from netra_stack.graphs.picture import Picture
    from netra_stack.model.health import HealthReport
    from netra_stack.lifecycle.context import Context
    from netra_stack.planning.plan import Plan


UP = ("running", "completed")  # a service's states that count as up (a one-shot that succeeded is done)


@dataclass
class Environment:
    """A netra-stack environment as the engine's labels describe it."""

    name: str
    profile: str
    env_type: str
    owner: str = "?"  # user@host that made it
    # service -> the status of its least running instance; "completed" for a one-shot that exited 0
    services: dict[str, str] = field(default_factory=dict)
    instances: list[dict[str, str]] = field(default_factory=list)  # each container: service, name, node, status
    ports: list[PortBinding] = field(default_factory=list)
    created: datetime | None = None

    @property
    def state(self) -> str:
        """running, partial or stopped, by its services that should run (a completed one-shot is done,
        not stopped); completed when all it holds are one-shots that succeeded."""
        states = set(self.services.values()) - {"completed"}
        if not states:
            return "completed" if self.services else "stopped"
        return "running" if states == {"running"} else ("stopped" if "running" not in states else "partial")

    @property
    def up(self) -> int:
        """How many of its services are running or have completed."""
        return sum(v in UP for v in self.services.values())

    @property
    def age_seconds(self) -> float:
        return (datetime.now(timezone.utc) - self.created).total_seconds() if self.created else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "profile": self.profile, "env_type": self.env_type, "owner": self.owner,
                "state": self.state,
                "services": self.services, "instances": self.instances, "ports": [p.as_dict() for p in self.ports],
                "created": self.created.isoformat() if self.created else None, "age_seconds": round(self.age_seconds)}


def list_environments(backend: Backend, profile: str | None = None) -> list[Environment]:
    """Every netra-stack environment on the backend, from one query of its labels."""
    found: dict[str, Environment] = {}
    for i in backend.instances(detail=False):
        env = found.setdefault(i.environment, Environment(i.environment, i.labels.get(L.PROFILE, "?"),
                                                          i.labels.get(L.ENV_TYPE, "?"), i.labels.get(L.OWNER, "?")))
        status = "completed" if i.labels.get(L.ONE_SHOT) == "true" and i.status == "exited" and i.exit_code == 0 \
            else i.status
        if env.services.get(i.service, "running") in UP:
            env.services[i.service] = status
        env.instances.append({"service": i.service, "name": i.name, "node": i.node, "status": i.status})
        env.ports.extend(i.ports)
        if i.created and (env.created is None or i.created < env.created):
            env.created = i.created
    return [e for e in sorted(found.values(), key=lambda e: e.name) if profile is None or e.profile == profile]


def primary_ports(bindings: Iterable[PortBinding]) -> dict[str, int]:
    """Service -> host port of its first published port (IPv4 preferred), the seed's `ports`."""
    chosen: dict[str, PortBinding] = {}
    for b in sorted(bindings, key=lambda b: (b.service, b.container_port, ":" in b.host_ip)):
        chosen.setdefault(b.service, b)
    return {service: b.host_port for service, b in chosen.items()}


def port_variables(ports: Mapping[str, int]) -> dict[str, str]:
    """NETRA_<SERVICE>_PORT for each service's host port (`ports --env`, `netra-stack test`)."""
    return {f"NETRA_{s.upper().replace('-', '_')}_PORT": str(p) for s, p in sorted(ports.items())}


def choose(ctx: Context, required: bool = True) -> str | None:
    """The environment a command means when none is named: COMPOSE_PROJECT_NAME's, or the
    profile's only one."""
    if ctx.environ.get("COMPOSE_PROJECT_NAME"):
        return ctx.environ["COMPOSE_PROJECT_NAME"]
    mine = [e.name for e in list_environments(ctx.backend, ctx.profile.name)]
    if len(mine) == 1:
        return mine[0]
    if not required:
        return None
    if not mine:
        raise NotFoundError(f"no environment of profile {ctx.profile.name} is up",
                            hint=f"start one with `netra-stack up --profile {ctx.profile.name}`")
    raise NotFoundError(f"{len(mine)} environments of profile {ctx.profile.name} are up: {', '.join(mine)}",
                        hint="choose one with --name NAME (or COMPOSE_PROJECT_NAME)")


def bindings(ctx: Context, name: str) -> list[PortBinding]:
    """Every host port the environment really has bound, read back through the discovery hook."""
    return ctx.plugins.discover_ports(name, ctx.backend.instances(name))


def plan_of(ctx: Context, name: str) -> Plan:
    """The plan of an environment that exists: its ports are what the engine has bound."""
    bound = {f"{b.service}:{b.container_port}/{b.protocol}": b.host_port for b in bindings(ctx, name)}
    plan = ctx.plan(name, bound=bound)
    plan.reservations.release()  # its ports are bound already; one that is not is chosen again by `up`
    return plan


def check_exists(ctx: Context, name: str) -> None:
    if not ctx.backend.instances(name, detail=False) and not ctx.backend.networks(name):
        raise no_such_environment(name, list_environments(ctx.backend))


def no_such_environment(name: str, known: Iterable[Environment]) -> NotFoundError:
    names = ", ".join(sorted(e.name for e in known)) or "none"
    return NotFoundError(f"no netra-stack environment named {name!r} on this engine; known: {names}",
                         hint="`netra-stack status` lists them")


def check_services(ctx: Context, services: Iterable[str]) -> None:
    known = list(ctx.base_model().get("services", {}))
    for service in services:
        if service not in known:
            raise NotFoundError(f"unknown service {service!r} in profile {ctx.profile.name}; known: {', '.join(known)}",
                                hint="service names are those of the compose files")


def resolved_config(ctx: Context, *, reveal: bool = False, env_name: str | None = None) -> str:
    """The fully resolved configuration as the backend renders it: of the running environment
    `env_name`, with the host ports it has bound, or else a preview of a new one, with example
    host ports (a comment says which)."""
    if env_name:
        check_exists(ctx, env_name)
        plan = plan_of(ctx, env_name)
        head = f"# environment {env_name} as it runs, with the host ports it has bound\n"
    else:
        plan = ctx.plan(name=environment_name(ctx.profile, ctx.environ, env_id="config"))
        head = (f"# preview of a new environment of profile {ctx.profile.name}: its host ports are examples, "
                "chosen again at `up`; `netra-stack config --name ENV` shows a running one\n")
        plan.reservations.release()  # nothing will bind them
    warn_shared_mounts(ctx)
    text = ctx.backend.config(plan)
    return head + (text if reveal else Redactor.for_plan(plan).redact(text))


def check_external(ctx: Context) -> None:
    """Every external volume and network the compose files name exists (else the backend would
    fail half-way, after starting some services)."""
    for kind, name in external_resources(ctx.base_model()):
        if not ctx.backend.exists(kind, name):
            raise NotFoundError(f"{ctx.profile.source}: the compose files use external {kind} {name!r}, "
                                "which does not exist",
                                hint=f"create it with `docker {kind} create {name}`")


def warn_shared_mounts(ctx: Context) -> None:
    for what in shared_mounts(ctx.profile, ctx.base_model()):
        ctx.reporter.event(f"warning: parallel environments of {ctx.profile.name} share {what}; "
                           "isolation cannot cover it")


def logs(ctx: Context, name: str, services: list[str] | None, *, tail: int | None = None,
         follow: bool = False) -> Iterable[str]:
    """The services' log lines (all services without `services`), secrets masked."""
    if services:
        check_services(ctx, services)
    redactor = ctx.redactor()
    for line in ctx.backend.service_logs(name, services or [], tail=tail, follow=follow):
        yield redactor.redact(line)



def picture_of(ctx: Context, name: str | None, report: HealthReport | None = None) -> Picture:
    """The stack as a picture: of the running environment `name`, with each service's health
    (`report`, else probed now) and the ports it has bound; with no name, of the profile's files
    (the ports they publish, a fixed host port before the container port)."""
    from netra_stack.graphs.picture import picture
    from netra_stack.lifecycle.wait import probe
    from netra_stack.planning.plan import one_shot_services, port_requests

    model = ctx.base_model()
    services = list(model.get("services") or {})
    one_shot = one_shot_services(ctx.profile, model)
    ports: dict[str, list[str]] = {}
    if name is None:
        for request in port_requests(ctx.profile, model, ctx.environ):
            fixed = f"{request.host}→" if request.strategy == "fixed" and request.host else ""
            ports.setdefault(request.service, []).append(f"{fixed}{request.container}")
        return picture(ctx.profile.name, ctx.graph, services, one_shot=one_shot, ports=ports)
    if report is None:
        check_exists(ctx, name)
        report = probe(ctx, plan_of(ctx, name), {})
    for b in sorted(bindings(ctx, name), key=lambda b: (b.container_port, ":" in b.host_ip)):
        if ":" not in b.host_ip:  # IPv4: the same port as its IPv6 twin
            ports.setdefault(b.service, []).append(f"{b.host_port}→{b.container_port}")
    return picture(name, ctx.graph, services, one_shot=one_shot, ports=ports, report=report)
