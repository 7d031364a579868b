"""The engine-facing helpers: queries, probes and removals over the Docker SDK.

Everything here reads or changes the engine directly (one HTTP call where the CLI would spawn a
process). Compose operations live in compose.py. Removal functions refuse anything that does
not carry netra-stack's labels.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import docker
import docker.errors
import requests.exceptions

from . import labels as L
from .errors import DockerUnavailableError, NetraError
from .policy import PortBinding

PROBE_TIMEOUT = 5.0  # seconds a health command may take (a wait may overrun its timeout by this much)


@lru_cache(maxsize=1)
def client() -> docker.DockerClient:
    """The engine, checked reachable once per process."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        found = docker.from_env(timeout=60)
        found.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        reason = str(exc).split("(")[0].strip() or type(exc).__name__
        raise DockerUnavailableError(
            f"cannot reach the Docker engine at {where}: {reason}",
            hint="start the daemon (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it",
        ) from None
    return found


@lru_cache(maxsize=1)
def _probe_api() -> docker.APIClient:
    """A separate low-level client whose timeout bounds a hanging health command."""
    client()  # reachable, or a clear error
    return docker.from_env(timeout=PROBE_TIMEOUT).api


def _parse_time(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):
        return None
    value = value.rstrip("Z")
    head, _, frac = value.partition(".")
    stamp = datetime.fromisoformat(head + (f".{frac[:6]}" if frac else ""))
    return stamp.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ContainerInfo:
    """One container as the engine inspected it."""

    id: str
    name: str
    labels: dict[str, str]
    status: str  # created | running | restarting | exited | dead | paused | removing
    exit_code: int | None
    health: str | None  # Docker's healthcheck: starting | healthy | unhealthy | None (no healthcheck)
    health_output: str  # the last probe's output
    ports: list[PortBinding] = field(default_factory=list)
    created: datetime | None = None
    started: datetime | None = None
    restart_count: int = 0
    healthcheck: tuple[str, ...] = ()  # Docker's healthcheck test, e.g. ("CMD-SHELL", "pg_isready")
    addresses: dict[str, str] = field(default_factory=dict)  # network -> the container's IP on it

    @property
    def service(self) -> str:
        return self.labels.get(L.COMPOSE_SERVICE, "")

    @property
    def environment(self) -> str:
        return self.labels.get(L.ENVIRONMENT) or self.labels.get(L.COMPOSE_PROJECT, "")

    @property
    def running(self) -> bool:
        return self.status == "running"

    @classmethod
    def from_inspect(cls, data: dict[str, Any]) -> ContainerInfo:
        state = data.get("State") or {}
        health = state.get("Health") or {}
        log = health.get("Log") or []
        labels = (data.get("Config") or {}).get("Labels") or {}
        service = labels.get(L.COMPOSE_SERVICE, "")
        return cls(
            id=data["Id"],
            name=data.get("Name", "").lstrip("/"),
            labels=labels,
            status=state.get("Status", "unknown"),
            exit_code=state.get("ExitCode"),
            health=health.get("Status"),
            health_output=(log[-1].get("Output") or "").strip() if log else "",
            ports=parse_port_map(service, (data.get("NetworkSettings") or {}).get("Ports") or {}),
            created=_parse_time(data.get("Created")),
            started=_parse_time(state.get("StartedAt")),
            restart_count=data.get("RestartCount", 0),
            healthcheck=tuple(((data.get("Config") or {}).get("Healthcheck") or {}).get("Test") or ()),
            addresses={network: found.get("IPAddress") or found.get("GlobalIPv6Address")
                       for network, found in ((data.get("NetworkSettings") or {}).get("Networks") or {}).items()
                       if found and (found.get("IPAddress") or found.get("GlobalIPv6Address"))},
        )

    def healthcheck_argv(self) -> list[str] | None:
        """Docker's healthcheck test as a command to run with `execute`, or None."""
        kind, *rest = self.healthcheck or ("NONE",)
        if kind == "CMD" and rest:
            return list(rest)
        if kind == "CMD-SHELL" and rest:
            return ["/bin/sh", "-c", rest[0]]
        return None


def parse_port_map(service: str, ports: dict[str, Any]) -> list[PortBinding]:
    """Inspect's NetworkSettings.Ports ({"5432/tcp": [{"HostIp": "::", "HostPort": "35001"}]})."""
    found = []
    for key, bindings in sorted(ports.items()):
        port, _, protocol = key.partition("/")
        for binding in bindings or []:
            if binding.get("HostPort"):
                found.append(PortBinding(service, int(port), protocol or "tcp",
                                         binding.get("HostIp") or "0.0.0.0", int(binding["HostPort"])))
    return found


def containers(environment: str | None = None, *, project: str | None = None) -> list[ContainerInfo]:
    """Containers of netra-stack (or of one environment, or of any compose project by name)."""
    filters = {"label": [f"{L.COMPOSE_PROJECT}={project}"] if project else L.managed_filter(environment)}
    api = client().api
    found = []
    for summary in api.containers(all=True, filters=filters):
        try:
            found.append(ContainerInfo.from_inspect(api.inspect_container(summary["Id"])))
        except docker.errors.NotFound:  # removed between the list and the inspect
            continue
    return found


def summaries(environment: str | None = None) -> list[ContainerInfo]:
    """Our containers from a single engine query (the list call: no health, no healthcheck, but
    labels, state, creation time and ports) — what `status` needs, in one round trip."""
    found = []
    for row in client().api.containers(all=True, filters={"label": L.managed_filter(environment)}):
        labels = row.get("Labels") or {}
        service = labels.get(L.COMPOSE_SERVICE, "")
        ports = [PortBinding(service, p["PrivatePort"], p.get("Type", "tcp"), p.get("IP") or "0.0.0.0", p["PublicPort"])
                 for p in row.get("Ports") or [] if p.get("PublicPort")]
        found.append(ContainerInfo(
            id=row["Id"], name=(row.get("Names") or ["?"])[0].lstrip("/"), labels=labels,
            status=row.get("State", "unknown"), exit_code=None, health=None, health_output="",
            ports=sorted(ports, key=lambda b: (b.container_port, b.host_ip)),
            created=datetime.fromtimestamp(row["Created"], timezone.utc) if row.get("Created") else None))
    return found


def execute(container_id: str, argv: list[str]) -> tuple[int, str, float]:
    """Run a command inside a container: (exit code, output, seconds). Bounded by PROBE_TIMEOUT."""
    api = _probe_api()
    started = time.perf_counter()
    try:
        exec_id = api.exec_create(container_id, argv, stdout=True, stderr=True)["Id"]
        output = api.exec_start(exec_id).decode("utf-8", "replace")
        code = api.exec_inspect(exec_id).get("ExitCode")
    except requests.exceptions.ReadTimeout:
        return 124, f"health command timed out after {PROBE_TIMEOUT:.0f}s", time.perf_counter() - started
    except docker.errors.APIError as exc:
        return 126, exc.explanation or str(exc), time.perf_counter() - started
    return (code if code is not None else 1), output.strip(), time.perf_counter() - started


def logs(container_id: str, tail: int | str = 20, since: float | None = None) -> str:
    """The last `tail` lines of a container's log (or those written after `since`, a Unix time)."""
    try:
        raw = client().api.logs(container_id, tail=tail, since=since, timestamps=False)
        return raw.decode("utf-8", "replace")
    except docker.errors.APIError as exc:
        return f"(no logs: {exc.explanation})"


class EventWatch:
    """The engine's container events for one environment, as a wake-up call: `wake` is set on
    every change (start, die, health_status, ...), so a wait reacts at once instead of sleeping.
    Execs are no news: most are the wait's own checks, which would wake it at once, every round."""

    def __init__(self, environment: str) -> None:
        self.wake = threading.Event()
        self._stream = client().events(decode=True, filters={"type": "container",
                                                             "label": [f"{L.ENVIRONMENT}={environment}"]})
        threading.Thread(target=self._follow, name=f"netra-events-{environment}", daemon=True).start()

    def _follow(self) -> None:
        try:
            for event in self._stream:
                if not str(event.get("Action", "")).startswith("exec_"):
                    self.wake.set()
        except Exception:  # the stream was closed under us, or the engine went away: stop quietly
            pass

    def close(self) -> None:
        try:
            self._stream.close()
        except Exception:
            pass


def remove_container(info: ContainerInfo, *, foreign: bool = False) -> None:
    """Remove one of our containers (force). Refuses anything without our labels unless
    `foreign` (the user's explicit --force)."""
    if not foreign and not L.is_ours(info.labels):
        raise NetraError(f"refusing to remove container {info.name}: it is not netra-stack's")
    try:
        client().api.remove_container(info.id, force=True, v=True)
    except docker.errors.NotFound:
        pass


def container_by_id(container_id: str) -> ContainerInfo | None:
    try:
        return ContainerInfo.from_inspect(client().api.inspect_container(container_id))
    except docker.errors.NotFound:
        return None


def networks(environment: str | None = None) -> list[dict[str, Any]]:
    return client().api.networks(filters={"label": L.managed_filter(environment)})


def volumes(environment: str | None = None) -> list[dict[str, Any]]:
    return client().api.volumes(filters={"label": L.managed_filter(environment)}).get("Volumes") or []


def network_by_name(name: str) -> dict[str, Any] | None:
    """A network by its exact name, inspected (with its attached containers), or None."""
    for found in client().api.networks(names=[name]):
        if found.get("Name") == name:
            try:
                return client().api.inspect_network(found["Id"])
            except docker.errors.NotFound:
                return None
    return None


def exists(kind: str, name: str) -> bool:
    """Whether a volume or network of that name exists."""
    try:
        (client().api.inspect_volume if kind == "volume" else client().api.inspect_network)(name)
    except docker.errors.NotFound:
        return False
    return True


def _remove(kind: str, item: dict[str, Any], remove, key: str, foreign: bool) -> bool:
    """Remove a network or volume of ours; True if gone, False if still in use. Refuses anything
    without our labels unless `foreign` (the user's explicit --force)."""
    if not foreign and not L.is_ours(item.get("Labels")):
        raise NetraError(f"refusing to remove {kind} {item.get('Name')}: it is not netra-stack's")
    try:
        remove(item[key])
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError:  # still has endpoints, or a container uses it
        return False
    return True


def remove_network(network: dict[str, Any], *, foreign: bool = False) -> bool:
    return _remove("network", network, client().api.remove_network, "Id", foreign)


def remove_volume(volume: dict[str, Any]) -> bool:
    return _remove("volume", volume, client().api.remove_volume, "Name", False)


@dataclass(frozen=True)
class ImageInfo:
    id: str
    tags: tuple[str, ...]
    labels: dict[str, str]


def image(reference: str) -> ImageInfo | None:
    """A local image by reference or id, or None when the engine has no such image."""
    try:
        found = client().api.inspect_image(reference)
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:  # e.g. an invalid reference: no such image either
        if exc.status_code and exc.status_code < 500:
            return None
        raise
    return ImageInfo(found["Id"], tuple(found.get("RepoTags") or ()), dict((found.get("Config") or {}).get("Labels") or {}))


def image_id(reference: str) -> str | None:
    found = image(reference)
    return found.id if found else None


def remove_superseded_image(image_id: str) -> bool:
    """Remove an image that a new build has replaced: only one netra-stack built, only once it
    has no tag left, and only if no container uses it (the engine refuses then). True if removed."""
    found = image(image_id)
    if found is None or found.tags or not L.is_ours(found.labels):
        return False
    try:
        client().api.remove_image(found.id, force=False, noprune=False)
        return True
    except docker.errors.APIError:  # in use by a container, or already gone
        return False
