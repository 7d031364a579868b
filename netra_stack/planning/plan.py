"""Profile -> Plan: everything a compose run needs, decided without touching Docker.

Resolution takes the profile, the process environment, and the base compose model (what
`docker compose config` says of the profile's own files); host ports come in already chosen
(by the port-allocation hook), so every function here is pure and unit-testable.
"""

from __future__ import annotations

import getpass
import re
import secrets
import socket
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netra_stack.model import labels as L
from netra_stack.model.errors import NotFoundError, ProfileError
from netra_stack.planning.graph import COMPLETED, HEALTHY, STARTED, Graph
from netra_stack.model.profiles import PortSpec, Profile, truthy

# Variables of the seed that reach the compose run (its interpolation) when set.
PASSTHROUGH_VARS = ("DOCKER_TAG", "BUILD_TARGET", "USE_PRODUCTION_IMAGES")
OWNER_VAR = "NETRA_STACK_OWNER"  # who makes the environments (default user@host): a CI job, a test session
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
EPHEMERAL = 0  # a host port of 0: the engine picks one


@dataclass(frozen=True)
class PortRequest:
    """A container port to publish, and what the profile says of its host port."""

    service: str
    container: int
    protocol: str
    strategy: str  # range | fixed | ephemeral
    host: int | None = None  # the fixed host port
    source: str = ""  # why: the profile key or environment variable that decided it

    @property
    def key(self) -> str:
        return f"{self.service}:{self.container}/{self.protocol}"


@dataclass(frozen=True)
class PublishedPort:
    """A container port published on the host: host 0 lets the engine pick one."""

    host_ip: str
    host: int
    container: int
    protocol: str


@dataclass(frozen=True)
class ServiceIntent:
    """What netra-stack adds to or changes in one service of the compose files, whatever runs
    it; each backend renders it its own way (compose: an override file)."""

    labels: dict[str, str]
    ports: tuple[PublishedPort, ...] = ()
    replace_ports: bool = False  # the files publish ports of their own, which these replace
    stop_timeout: float | None = None  # seconds between the stop signal and the kill
    memory: str | None = None
    cpus: float | None = None
    tmpfs: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    image: str | None = None  # the image its build produces, where the files name none
    container_name: str | None = None  # its fixed container name, as run
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # network -> names it answers to there
    replicas: int | None = None  # instances to run, where the backend runs several (the profile's)


@dataclass(frozen=True)
class Plan:
    """A resolved environment: its profile, name (the compose project), compose files, compose
    env, ownership labels, services, chosen host ports (PortRequest.key -> port, 0 = engine's
    choice) and what netra-stack adds to each service (`intents`), with no backend's syntax."""

    profile: Profile
    name: str  # the environment's name, which is its compose project name
    compose_files: tuple[Path, ...]
    env: dict[str, str]  # compose's interpolation variables
    labels: dict[str, str]
    services: tuple[str, ...]
    ports: dict[str, int] = field(default_factory=dict)  # PortRequest.key -> host port (0: ephemeral)
    fixed_ports: frozenset[str] = frozenset()  # keys of ports the profile or environment fixed
    force: bool = False  # remove foreign containers in the way (`up --force`)
    intents: dict[str, ServiceIntent] = field(default_factory=dict)
    networks: tuple[str, ...] = ()  # the files' own networks and volumes (not external): labelled as ours
    volumes: tuple[str, ...] = ()
    images: dict[str, str] = field(default_factory=dict)  # service with a build section -> the image it builds
    one_shot: frozenset[str] = frozenset()  # services that run to completion: exit 0 is success
    # service -> its healthcheck test as the compose files say it (an engine may store it otherwise:
    # Podman 4.3 splits a CMD test's arguments at spaces)
    healthchecks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    env_files: tuple[Path, ...] | None = None  # compose's --env-files; None: the project directory's .env
    compose_profiles: tuple[str, ...] = ()  # compose profiles enabled
    container_names: dict[str, str] = field(default_factory=dict)  # service -> its fixed container_name, as run
    graph: Graph = field(default_factory=lambda: Graph({}))  # the services' depends_on
    # The depends_on conditions netra-stack starts dependents in stages for, not the backend:
    # service_healthy, for its own checks are sooner than the engine's; every condition where
    # the backend orders nothing itself (swarm).
    gate_conditions: frozenset[str] = frozenset({HEALTHY})
    reservations: Any = field(default=None, compare=False, repr=False)  # the PortReservations of its ports

    @property
    def uses_production_images(self) -> bool:
        """USE_PRODUCTION_IMAGES=true: the images are used as they are, never built."""
        return truthy(self.env.get("USE_PRODUCTION_IMAGES"))

    def service_settings(self, service: str):
        """The profile's [services.NAME] settings, or None."""
        return self.profile.services.get(service)

    @property
    def gates(self) -> dict[str, frozenset[str]]:
        """service -> the dependencies it waits for (netra-stack's checks pass them)."""
        return {service: found for service in self.graph.services
                if (found := self.graph.gates(service, self.gate_conditions))}

    def holds(self, service: str) -> set[str]:
        """The gates that hold `service` back, its own and those of what it needs."""
        return self.graph.holds(service, self.gate_conditions)

    def health_check(self, service: str):
        """The profile's health check of a service: a command (str or argv list), a host-side
        check (HttpCheck, TcpCheck, LogCheck), or None."""
        settings = self.service_settings(service)
        return settings.health if settings is not None else None

    def health_command(self, service: str) -> list[str] | None:
        """The profile's health command of a service (run inside the container), as argv, or None."""
        check = self.health_check(service)
        if isinstance(check, str):
            return shlex.split(check)
        return list(check) if isinstance(check, list) else None

    def is_one_shot(self, service: str) -> bool:
        """Whether the service runs to completion (exit 0 counts as done): as the profile says, else
        as the compose model implies (another service waits for it to complete successfully)."""
        return service in self.one_shot


# --- names and environment --------------------------------------------------------------------


def environment_name(profile: Profile, environ: Mapping[str, str], env_id: str | None = None) -> str:
    """COMPOSE_PROJECT_NAME when set, else the profile's template, e.g. `alpine-test-3f9a1c`."""
    fixed = environ.get("COMPOSE_PROJECT_NAME")
    if fixed:
        if not _PROJECT_NAME.match(fixed):
            raise ProfileError(
                f"COMPOSE_PROJECT_NAME={fixed!r}: expected lowercase letters, digits, '-' and '_', starting with a letter or digit",
                hint="choose another name or unset COMPOSE_PROJECT_NAME",
            )
        return fixed
    try:
        rendered = profile.project_name.format(
            profile=profile.name, env=profile.env_type, id=env_id or secrets.token_hex(3), user=getpass.getuser()
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise ProfileError(
            f"{profile.source}: project_name = {profile.project_name!r}: unknown placeholder {exc}",
            hint="use {profile}, {env}, {id} or {user}",
        ) from None
    name = re.sub(r"[^a-z0-9_-]+", "-", rendered.lower()).strip("-_")
    if not name or not _PROJECT_NAME.match(name):
        raise ProfileError(f"{profile.source}: project_name = {profile.project_name!r}: renders to an empty name")
    return name


def compose_env(profile: Profile, environ: Mapping[str, str]) -> dict[str, str]:
    """The profile's `env` table, overridden by the seed's variables set in the process environment."""
    env = dict(profile.env)
    env.update({var: environ[var] for var in PASSTHROUGH_VARS if var in environ})
    return env


def env_files(profile: Profile) -> tuple[Path, ...] | None:
    """The profile's env files (absolute), or None for compose's default (the project directory's .env)."""
    if profile.env_files is None:
        return None
    return tuple((profile.root / f).resolve() for f in profile.env_files)


def compose_profiles(profile: Profile, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The compose profiles to enable: the profile's, and those COMPOSE_PROFILES names (the
    process environment's, else the profile's `env` table's, as compose would read it)."""
    named = {**profile.env, **environ}.get("COMPOSE_PROFILES") or ""
    wanted = [*profile.compose_profiles, *named.split(",")]
    return tuple(dict.fromkeys(p.strip() for p in wanted if p.strip()))


# --- ports -----------------------------------------------------------------------------------


def _compose_ports(model: Mapping[str, Any], service: str) -> list[dict]:
    return list((model.get("services", {}).get(service) or {}).get("ports") or [])


def port_requests(profile: Profile, model: Mapping[str, Any], environ: Mapping[str, str]) -> list[PortRequest]:
    """Every port to publish: the profile's port specs, and the compose files' own published ports
    (whose host side the profile's default strategy then decides, so that parallel environments
    never inherit a fixed host port by accident)."""
    requests: list[PortRequest] = []
    for service in model.get("services", {}):
        settings = profile.services.get(service)
        specs = list(settings.ports) if settings and settings.ports else []
        if not specs:
            specs = [
                PortSpec(container=int(p["target"]), protocol=p.get("protocol", "tcp"),
                         host=int(p["published"]) if p.get("published") else None)
                for p in _compose_ports(model, service)
            ]
        for spec in specs:
            requests.append(_request(profile, service, spec, environ))
    return requests


def _request(profile: Profile, service: str, spec: PortSpec, environ: Mapping[str, str]) -> PortRequest:
    base = dict(service=service, container=spec.container, protocol=spec.protocol)
    if spec.env and environ.get(spec.env):
        value = environ[spec.env]
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise ProfileError(f"{spec.env}={value!r}: expected a port number 1-65535", hint=f"fix or unset {spec.env}")
        return PortRequest(**base, strategy="fixed", host=int(value), source=spec.env)
    strategy = spec.strategy or profile.ports.strategy
    host = (spec.host or spec.container) if strategy == "fixed" else None
    return PortRequest(**base, strategy=strategy, host=host, source=f"services.{service}.ports")


# --- the plan --------------------------------------------------------------------------------


def check_services(profile: Profile, model: Mapping[str, Any]) -> None:
    known = list(model.get("services", {}))
    for service in profile.services:
        if service not in known:
            raise NotFoundError(
                f"{profile.source}: services.{service}: unknown service {service!r}; the compose files define: {', '.join(known)}",
                hint="check the service name against the compose files",
            )


def one_shot_services(profile: Profile, model: Mapping[str, Any]) -> frozenset[str]:
    """Services that run to completion: those the profile says are, and, unless it says otherwise,
    those another service waits for with `condition: service_completed_successfully`."""
    inferred = Graph.from_model(model).awaited(COMPLETED)
    found = set()
    for service in model.get("services", {}):
        settings = profile.services.get(service)
        declared = settings.one_shot if settings else None
        if declared or (declared is None and service in inferred):
            found.add(service)
    return frozenset(found)


def owner_of(environ: Mapping[str, str]) -> str:
    """Who makes what netra-stack creates: NETRA_STACK_OWNER, else user@host."""
    return environ.get(OWNER_VAR) or f"{getpass.getuser()}@{socket.gethostname()}"


def resolve_plan(
    profile: Profile,
    model: Mapping[str, Any],
    *,
    name: str,
    env: Mapping[str, str],
    host_ports: Mapping[str, int],
    requests: list[PortRequest],
    lease: str = "",
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """Build the plan: compose files, names, labels, ports and what netra-stack adds to each service."""
    check_services(profile, model)
    environ = environ or {}
    own = L.ownership_labels(name, profile.name, profile.env_type, owner=owner_of(environ))
    if lease:  # held by a process: its watchdog removes the environment when that process dies
        own[L.LEASE] = lease
    images: dict[str, str] = {}
    one_shot = one_shot_services(profile, model)
    names = {service: (f"{name}-{spec['container_name']}" if profile.unique_container_names else spec["container_name"])
             for service, spec in model.get("services", {}).items() if (spec or {}).get("container_name")}
    intents: dict[str, ServiceIntent] = {}
    graph = Graph.from_model(model)
    for service, spec in model.get("services", {}).items():
        spec = spec or {}
        labels = {**own, **({L.ONE_SHOT: "true"} if service in one_shot else {})}
        if edges := graph.edges.get(service):  # what a dashboard draws the graph from, with no profile at hand
            labels[L.DEPENDS_ON] = ",".join(f"{d}:{how.get('condition', STARTED)}" for d, how in edges.items())
        image = None
        if spec.get("build") is not None:
            images[service] = spec.get("image") or built_image_name(profile, service)
            image = None if spec.get("image") else images[service]  # one name for every environment
        intents[service] = _intent(profile, service, spec, labels, requests, host_ports, image,
                                   names.get(service))
    root = profile.root
    return Plan(
        profile=profile,
        name=name,
        compose_files=tuple((root / f).resolve() for f in profile.compose_files),
        env=dict(env),
        labels=own,
        services=tuple(model.get("services", {})),
        ports={r.key: host_ports[r.key] for r in requests},
        fixed_ports=frozenset(r.key for r in requests if r.strategy == "fixed"),
        intents=intents,
        networks=tuple(n for n, v in (model.get("networks") or {}).items() if not (v or {}).get("external")),
        volumes=tuple(n for n, v in (model.get("volumes") or {}).items() if not (v or {}).get("external")),
        images=images,
        one_shot=one_shot,
        healthchecks=healthcheck_tests(model),
        env_files=env_files(profile),
        compose_profiles=compose_profiles(profile, environ),
        container_names=names,
        graph=graph,
    )


def healthcheck_tests(model: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each service's healthcheck test as the compose files say it (not disabled ones)."""
    found = {}
    for service, spec in model.get("services", {}).items():
        healthcheck = (spec or {}).get("healthcheck") or {}
        if healthcheck.get("test") and not healthcheck.get("disable"):
            found[service] = tuple(healthcheck["test"])
    return found


def external_resources(model: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The volumes and networks the compose files expect to exist (`external: true`): (kind, name)."""
    return [(kind, (spec or {}).get("name") or key)
            for kind, table in (("volume", model.get("volumes")), ("network", model.get("networks")))
            for key, spec in (table or {}).items() if (spec or {}).get("external")]


def shared_mounts(profile: Profile, model: Mapping[str, Any]) -> list[str]:
    """What parallel environments of an isolating profile would share, since isolation cannot
    cover it: writable bind mounts and external volumes, as `service: what`."""
    if not profile.isolated:
        return []
    external = {key for key, spec in (model.get("volumes") or {}).items() if (spec or {}).get("external")}
    found = []
    for service, spec in (model.get("services") or {}).items():
        for mount in (spec or {}).get("volumes") or []:
            if not isinstance(mount, Mapping) or mount.get("read_only"):
                continue
            if mount.get("type") == "bind":
                found.append(f"{service}: bind mount {mount.get('source')} (writable)")
            elif mount.get("type") == "volume" and mount.get("source") in external:
                found.append(f"{service}: external volume {mount['source']}")
    return found


def _aliases(spec: Mapping[str, Any], fixed: str | None) -> dict[str, tuple[str, ...]]:
    """Where a service runs under a container name other than its file's, its original name stays
    resolvable as an alias on each of its networks (the services that use it keep working)."""
    original = spec.get("container_name")
    if not fixed or fixed == original or spec.get("network_mode"):  # host, none, service:X: no networks to alias on
        return {}
    networks = spec.get("networks") or {"default": None}
    return {net: tuple(sorted({*((how or {}).get("aliases") or ()), original})) for net, how in networks.items()}


def built_image_name(profile: Profile, service: str) -> str:
    """The image a service without `image:` builds: `{project directory}-{service}`, as plain
    `docker compose` in that directory names it; not per environment, so the build cache and
    the fingerprint serve every environment of the project."""
    project = re.sub(r"[^a-z0-9_-]", "", profile.root.name.lower()).lstrip("_-") or "netra"
    return f"{project}-{service}"


def _intent(profile, service, spec, labels, requests, host_ports, image, container_name) -> ServiceIntent:
    settings = profile.services.get(service)
    ip = profile.ports.host_ip
    ports = tuple(PublishedPort(ip, host_ports[r.key], r.container, r.protocol) for r in requests if r.service == service)
    stop = profile.stop_timeout_of(service)
    explicit = (settings is not None and settings.stop_timeout is not None) or profile.stop_timeout is not None
    fixed = dict(labels=labels, ports=ports, replace_ports=bool(spec.get("ports")), image=image,
                 stop_timeout=stop if stop is not None and (explicit or "stop_grace_period" not in spec) else None,
                 container_name=container_name if container_name != spec.get("container_name") else None,
                 aliases=_aliases(spec, container_name))  # the file's own stop_grace_period wins over the default
    if settings is None:
        return ServiceIntent(**fixed)
    command = None
    if settings.command is not None or settings.command_args:
        command = settings.command if settings.command is not None else spec.get("command")
        if command is None:
            raise ProfileError(
                f"{profile.source}: services.{service}.command_args: the compose service declares no command to append to",
                hint=f"set services.{service}.command to the full command",
            )
        command = (*(shlex.split(command) if isinstance(command, str) else command), *settings.command_args)
    return ServiceIntent(**fixed, memory=settings.memory or None, cpus=settings.cpus or None,
                         tmpfs=tuple(settings.tmpfs or ()), environment=dict(settings.environment or {}),
                         command=command, replicas=settings.replicas)
