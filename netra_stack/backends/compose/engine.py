"""The Docker engine through the docker SDK: queries, execs, logs, events, stats and removals.

Everything here reads or changes the engine directly (one HTTP call where the CLI would spawn a
process). Compose operations live in project.py. Removals refuse anything that does not carry
netra-stack's labels.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import docker
import docker.errors
import docker.types
import requests.exceptions

from netra_stack.model import labels as L
from netra_stack.model.decisions import PortBinding, is_loopback
from netra_stack.model.errors import DockerUnavailableError, NetraError
from netra_stack.model.instances import ImageInfo, Instance

if TYPE_CHECKING:
    from netra_stack.backends.compose.usage import ContainerStats

PROBE_TIMEOUT = 5.0  # seconds a health command may take (a wait may overrun its timeout by this much)


def parse_time(value: str | None) -> datetime | None:
    """A time as the engine writes it (RFC 3339 with nanoseconds), in UTC; None for none."""
    if not value or value.startswith("0001-"):
        return None
    value = value.rstrip("Z")
    head, _, frac = value.partition(".")
    stamp = datetime.fromisoformat(head + (f".{frac[:6]}" if frac else ""))
    return stamp.replace(tzinfo=timezone.utc)


def _ssh_hint(address: str) -> str:
    url = urlsplit(address)
    target = f"{url.username}@{url.hostname}" if url.username else url.hostname
    port = f"-p {url.port} " if url.port else ""
    return f"check that `ssh {port}{target} docker version` works: netra-stack connects as the docker CLI does"


@contextmanager
def _stderr_into(lines: list[str]) -> Iterator[None]:
    """This process's stderr (file descriptor 2) into `lines` for the duration: the ssh command
    the docker SDK runs for an ssh:// endpoint inherits it, and says there why it failed."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines.extend(line for line in caught.read().decode("utf-8", "replace").splitlines() if line.strip())


def _status(status: str) -> str:
    """Docker's name of a container state; Podman calls an exited container whose cleanup is
    still to come `stopped`."""
    return "exited" if status == "stopped" else status


def instance_from_inspect(data: dict[str, Any]) -> Instance:
    """A container's inspect data as an Instance."""
    state = data.get("State") or {}
    health = state.get("Health") or {}
    log = health.get("Log") or []
    config = data.get("Config") or {}
    labels = config.get("Labels") or {}
    networks = (data.get("NetworkSettings") or {}).get("Networks") or {}
    return Instance(
        id=data["Id"],
        name=data.get("Name", "").lstrip("/"),
        labels=labels,
        status=_status(state.get("Status", "unknown")),
        exit_code=state.get("ExitCode"),
        health=health.get("Status") or None,  # Podman says "" where a container has no healthcheck
        health_output=(log[-1].get("Output") or "").strip() if log else "",
        ports=parse_port_map(L.service_of(labels), (data.get("NetworkSettings") or {}).get("Ports") or {}),
        created=parse_time(data.get("Created")),
        started=parse_time(state.get("StartedAt")),
        restart_count=data.get("RestartCount", 0),
        healthcheck=tuple((config.get("Healthcheck") or {}).get("Test") or ()),
        addresses={network: found.get("IPAddress") or found.get("GlobalIPv6Address")
                   for network, found in networks.items()
                   if found and (found.get("IPAddress") or found.get("GlobalIPv6Address"))},
    )


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


def _summary(row: dict[str, Any]) -> Instance:
    """A row of the container list call: labels, state, exit code (from its text, "Exited (1) 2
    minutes ago"), creation time and ports, no health."""
    labels = row.get("Labels") or {}
    service = L.service_of(labels)
    ports = [PortBinding(service, p["PrivatePort"], p.get("Type", "tcp"), p.get("IP") or "0.0.0.0", p["PublicPort"])
             for p in row.get("Ports") or [] if p.get("PublicPort")]
    return Instance(
        id=row["Id"], name=(row.get("Names") or ["?"])[0].lstrip("/"), labels=labels,
        status=_status(row.get("State", "unknown")), health=None, health_output="",
        exit_code=int(code.group(1)) if (code := re.match(r"Exited \((-?\d+)\)", row.get("Status") or "")) else None,
        ports=sorted(ports, key=lambda b: (b.container_port, b.host_ip)),
        created=datetime.fromtimestamp(row["Created"], timezone.utc) if row.get("Created") else None)


DEFAULT_HOST = "unix:///var/run/docker.sock"
UNREACHABLE_HINT = "start the daemon (`up --start-engine` does) or point DOCKER_HOST at it"


class Engine:
    """One Docker engine, as the given process environment (DOCKER_HOST, DOCKER_TLS_VERIFY, ...)
    names it. The client is made, and checked reachable, on first use."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = dict(environ)

    def client(self) -> docker.DockerClient:
        """The SDK's client, checked reachable once."""
        return self._client

    @cached_property
    def address(self) -> str:
        """The engine's endpoint, chosen as the docker CLI (and so compose) chooses it:
        DOCKER_HOST, else the context DOCKER_CONTEXT names, else the one `docker context use`
        chose; an error naming the known contexts for one that does not exist."""
        if self.environ.get("DOCKER_HOST"):
            return self.environ["DOCKER_HOST"]
        from docker.context import ContextAPI
        from docker.context.config import get_current_context_name

        name = self.environ.get("DOCKER_CONTEXT") or get_current_context_name()
        context = ContextAPI.get_context(name)
        if context is None:
            chosen = "DOCKER_CONTEXT" if self.environ.get("DOCKER_CONTEXT") else "the current context"
            known = ", ".join(sorted(c.Name for c in ContextAPI.contexts()))
            raise DockerUnavailableError(f"{chosen} {name!r} is no Docker context; known: {known}",
                                         hint="`docker context ls` lists them; `docker context use NAME` chooses one")
        return context.Host or DEFAULT_HOST

    @cached_property
    def remote_host(self) -> str | None:
        """The engine's machine where it is another one than this (a tcp or ssh endpoint off
        loopback): where its published ports are reached. None for a local engine."""
        url = urlsplit(self.address)
        local = url.scheme not in ("tcp", "ssh", "http", "https") or url.hostname is None or is_loopback(url.hostname)
        return None if local else url.hostname

    @cached_property
    def version(self) -> dict[str, Any]:
        """The engine's `version`: its product, versions and API version."""
        return self.api.version()

    @property
    def is_podman(self) -> bool:
        """Podman's Docker-compatible API answers, not Docker Engine."""
        return any("Podman" in c.get("Name", "") for c in self.version.get("Components") or [])

    def reachable(self) -> bool:
        try:
            self.client()
        except DockerUnavailableError:
            return False
        return True

    def _sdk(self, **options) -> docker.DockerClient:
        """A client of this engine; over ssh through the ssh command, with the user's own
        configuration and agent, as the docker CLI does."""
        return docker.from_env(environment=self.environ, use_ssh_client=self.address.startswith("ssh://"), **options)

    @cached_property
    def _client(self) -> docker.DockerClient:
        where = self.address  # checked first: an unknown context is said as such
        ssh = where.startswith("ssh://")
        if ssh and importlib.util.find_spec("paramiko") is None:
            raise DockerUnavailableError(f"cannot reach the Docker engine at {where}: the docker SDK needs paramiko "
                                         "for ssh:// endpoints", hint="pip install 'netra-stack[ssh]'")
        said: list[str] = []  # what the ssh command printed
        try:
            with _stderr_into(said) if ssh else nullcontext():
                found = self._sdk(timeout=60)
                found.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
            reason = said[-1].strip() if said else (str(exc).split("(")[0].strip() or type(exc).__name__)
            raise DockerUnavailableError(f"cannot reach the Docker engine at {where}: {reason}",
                                         hint=_ssh_hint(where) if ssh else UNREACHABLE_HINT) from None
        if said:  # a warning of a connection that worked: not hidden
            sys.stderr.write("\n".join(said) + "\n")
        return found

    @property
    def api(self) -> docker.APIClient:
        return self._client.api

    @cached_property
    def _stats_api(self) -> docker.APIClient:
        """A client for stats streams: each holds a connection for as long as it lasts."""
        self._client  # reachable, or a clear error
        return self._sdk(timeout=60, max_pool_size=256).api

    @cached_property
    def _probe_api(self) -> docker.APIClient:
        """A separate low-level client whose timeout bounds a hanging health command."""
        self._client  # reachable, or a clear error
        return self._sdk(timeout=PROBE_TIMEOUT).api

    # --- containers ------------------------------------------------------------------------------

    def containers(self, environment: str | None = None, *, project: str | None = None) -> list[Instance]:
        """Containers of netra-stack (of one environment, or of any compose project by name), inspected."""
        filters = {"label": [f"{L.COMPOSE_PROJECT}={project}"] if project else L.managed_filter(environment)}
        found = []
        for summary in self.api.containers(all=True, filters=filters):
            try:
                found.append(instance_from_inspect(self.api.inspect_container(summary["Id"])))
            except docker.errors.NotFound:  # removed between the list and the inspect
                continue
        return found

    def summaries(self, environment: str | None = None) -> list[Instance]:
        """Our containers from a single engine query: what `status` needs, in one round trip."""
        return [_summary(row) for row in self.api.containers(all=True, filters={"label": L.managed_filter(environment)})]

    def container_by_id(self, reference: str) -> Instance | None:
        try:
            return instance_from_inspect(self.api.inspect_container(reference))
        except docker.errors.NotFound:
            return None

    def execute(self, container_id: str, argv: Sequence[str]) -> tuple[int, str, float]:
        """Run a command inside a container: (exit code, output, seconds). Bounded by PROBE_TIMEOUT."""
        api = self._probe_api
        started = time.perf_counter()
        try:
            exec_id = api.exec_create(container_id, list(argv), stdout=True, stderr=True)["Id"]
            output = api.exec_start(exec_id).decode("utf-8", "replace")
            code = api.exec_inspect(exec_id).get("ExitCode")
        except requests.exceptions.ReadTimeout:
            return 124, f"health command timed out after {PROBE_TIMEOUT:.0f}s", time.perf_counter() - started
        except docker.errors.APIError as exc:
            return 126, exc.explanation or str(exc), time.perf_counter() - started
        return (code if code is not None else 1), output.strip(), time.perf_counter() - started

    def logs(self, container_id: str, tail: int | str = 20, since: float | None = None) -> str:
        """The last `tail` lines of a container's log (or those written after `since`, a Unix time)."""
        try:
            return self.api.logs(container_id, tail=tail, since=since, timestamps=False).decode("utf-8", "replace")
        except docker.errors.APIError as exc:
            return f"(no logs: {exc.explanation})"

    def stats(self, environment: str) -> ContainerStats:
        """The environment's resource use, streamed: one stats stream per container."""
        from netra_stack.backends.compose.usage import ContainerStats

        return ContainerStats(self._stats_api, environment)

    def remove_container(self, info: Instance, *, foreign: bool = False) -> None:
        """Remove one of our containers (force). Refuses anything without our labels unless
        `foreign` (the user's explicit --force)."""
        if not foreign and not L.is_ours(info.labels):
            raise NetraError(f"refusing to remove container {info.name}: it is not netra-stack's")
        try:
            self._force_remove(info.id)
        except docker.errors.NotFound:
            pass

    def stop_and_remove(self, container_id: str, grace: float) -> None:
        """Stop a container (its stop signal, then the kill after `grace` seconds) and remove it;
        one that is gone already, or being removed, is left to that."""
        try:
            self.api.stop(container_id, timeout=max(0, round(grace)))
            self._force_remove(container_id)
        except docker.errors.APIError:  # NotFound, or a removal already in progress (409)
            pass

    def _force_remove(self, container_id: str) -> None:
        """Remove a container, running or not. Podman refuses one that has just exited, until its
        cleanup is done ("container state improper"): that is retried, for at most 5 s."""
        deadline = time.monotonic() + 5
        while True:
            try:
                self.api.remove_container(container_id, force=True, v=True)
                return
            except docker.errors.APIError as exc:
                if "state improper" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    # --- networks and volumes --------------------------------------------------------------------

    def networks(self, environment: str | None = None) -> list[dict[str, Any]]:
        return self.api.networks(filters={"label": L.managed_filter(environment)})

    def volumes(self, environment: str | None = None) -> list[dict[str, Any]]:
        return self.api.volumes(filters={"label": L.managed_filter(environment)}).get("Volumes") or []

    def network_by_name(self, name: str) -> dict[str, Any] | None:
        """A network by its exact name, inspected (with its attached containers), or None."""
        for found in self.api.networks(names=[name]):
            if found.get("Name") == name:
                try:
                    return self.api.inspect_network(found["Id"])
                except docker.errors.NotFound:
                    return None
        return None

    def exists(self, kind: str, name: str) -> bool:
        """Whether a volume or network of that name exists."""
        try:
            (self.api.inspect_volume if kind == "volume" else self.api.inspect_network)(name)
        except docker.errors.NotFound:
            return False
        return True

    def _remove(self, kind: str, item: dict[str, Any], remove, key: str, foreign: bool) -> bool:
        """Remove a network or volume of ours; True if gone, False if still in use. Refuses
        anything without our labels unless `foreign` (the user's explicit --force)."""
        if not foreign and not L.is_ours(item.get("Labels")):
            raise NetraError(f"refusing to remove {kind} {item.get('Name')}: it is not netra-stack's")
        try:
            remove(item[key])
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError:  # still has endpoints, or a container uses it
            return False
        return True

    def remove_network(self, network: dict[str, Any], *, foreign: bool = False) -> bool:
        return self._remove("network", network, self.api.remove_network, "Id", foreign)

    def remove_volume(self, volume: dict[str, Any]) -> bool:
        return self._remove("volume", volume, self.api.remove_volume, "Name", False)

    # --- images ----------------------------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        """A local image by reference or id, or None when the engine has no such image."""
        try:
            found = self.api.inspect_image(reference)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:  # e.g. an invalid reference: no such image either
            if exc.status_code and exc.status_code < 500:
                return None
            raise
        return ImageInfo(found["Id"], tuple(found.get("RepoTags") or ()),
                         dict((found.get("Config") or {}).get("Labels") or {}))

    def image_id(self, reference: str) -> str | None:
        found = self.image(reference)
        return found.id if found else None

    def remove_superseded_image(self, image_id: str) -> bool:
        """Remove an image that a new build has replaced: only one netra-stack built, only once
        it has no tag left, and only if no container uses it (the engine refuses then)."""
        found = self.image(image_id)
        if found is None or found.tags or not L.is_ours(found.labels):
            return False
        return self.remove_image(found.id)

    def host_has(self, path: str) -> bool | None:
        """Whether the engine's own machine has `path` (e.g. /proc/net/ip_vs, which a kernel with
        IPVS has): the engine refuses to create a container that bind-mounts a missing path. The
        container is never started. None when the engine has no image to create one from."""
        images = [tag for image in self.api.images() for tag in image.get("RepoTags") or () if tag != "<none>:<none>"]
        if not images:
            return None
        mount = docker.types.Mount("/probe", path, type="bind", read_only=True)
        try:
            created = self.api.create_container(images[0], labels={L.MANAGED: "true"},
                                                host_config=self.api.create_host_config(mounts=[mount]))
        except docker.errors.APIError as exc:
            if "does not exist" in str(exc.explanation or exc):
                return False
            raise
        self.api.remove_container(created["Id"], force=True)
        return True

    def remove_image(self, reference: str) -> bool:
        """Remove an image (its tag; the image once no tag is left), unless a container uses it."""
        try:
            self.api.remove_image(reference, force=False, noprune=False)
            return True
        except docker.errors.APIError:  # in use by a container, or already gone
            return False

    # --- events ----------------------------------------------------------------------------------

    def events(self, environment: str | None) -> EventWatch:
        return EventWatch(self._client, environment)


class EventWatch:
    """The engine's container events for one environment (None: every one of netra-stack's), as
    a wake-up call: `wake` is set on every change (start, die, health_status, ...), so a wait
    reacts at once instead of sleeping. Execs are no news: most are the wait's own checks, which
    would wake it at once, every round."""

    def __init__(self, client: docker.DockerClient, environment: str | None) -> None:
        self.wake = threading.Event()
        self._stream = client.events(decode=True, filters={"type": "container", "label": L.managed_filter(environment)})
        threading.Thread(target=self._follow, name=f"netra-events-{environment or 'all'}", daemon=True).start()

    def _follow(self) -> None:
        try:
            for event in self._stream:
                action = str(event.get("Action", ""))
                if action != "exec" and not action.startswith("exec_"):  # Podman: exec, exec_died
                    self.wake.set()
        except Exception:  # the stream was closed under us, or the engine went away: stop quietly
            pass

    def close(self) -> None:
        try:
            self._stream.close()
        except Exception:
            pass
