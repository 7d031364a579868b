"""The compatibility corpus (tests/fixtures/corpus): small compose projects written for plain
`docker compose up`, each after a pattern of well-known open-source stacks (named at the top of
its compose file), with a netra-stack profile beside it. Each is brought up twice, side by side,
through the real CLI: both healthy, each reached through its own host port and answering from
its own containers; `config` parses as YAML; `down` leaves nothing, container names included."""

from __future__ import annotations

import json
import os
import secrets
import socket
import urllib.request
from dataclasses import dataclass

import pytest
import yaml

from tests.engine import engine
from netra_stack.model import labels as L

from ..conftest import REPO
from .conftest import remove_environment, run_cli

CORPUS = REPO / "tests" / "fixtures" / "corpus"
FIXTURE_LABEL = "netra-stack-tests.fixture"  # on what a test creates outside netra-stack (the external volume)


@dataclass(frozen=True)
class Probe:
    """One exchange with a service through its reported host port: an HTTP GET of `path`, or,
    with path None, a TCP exchange that sends `send`. The answer must hold each of `answers`
    and the hostname (short container id) of `written_by`'s container of the same environment
    (default: the service itself), which proves it came from that environment."""

    service: str
    path: str | None = "/"
    send: bytes = b""
    answers: tuple[str, ...] = ()
    written_by: str = ""

    def exchange(self, port: int) -> str:
        if self.path is not None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{self.path}", timeout=5) as response:
                return response.read().decode()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(self.send)
            conn.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := conn.recv(4096):
                chunks.append(chunk)
        return b"".join(chunks).decode()


DB_PASSWORD = (CORPUS / "secrets" / "secrets" / "db_password.txt").read_bytes()

PROBES = {
    "migrations": [Probe("web", answers=("schema 3 migrated", "seeded"), written_by="migrate")],
    "anchors": [Probe("api", answers=("anchors api",)),
                Probe("debug-shell", path=None, answers=("anchors debug",))],
    "modular": [Probe("web", answers=("modular web", "cache +PONG"))],
    "dotenv": [Probe("web", answers=("hello from .env, release 2026.12, mode corpus, log info",))],
    "secrets": [Probe("db", path=None, send=DB_PASSWORD, answers=("welcome",)),
                Probe("app", answers=("db welcome", "token 22"))],
    "volumes": [Probe("web", path="/reports/", answers=("report by",), written_by="writer")],
    "names-ports": [Probe("proxy", answers=("app server",), written_by="app")],
    "gated": [Probe("proxy", answers=("database ready",), written_by="backend")],
    # the app answers in vpn's network namespace, under vpn's hostname, with db's answer
    "sidecar": [Probe("vpn", answers=("sidecar app", "greeting = hello from configs")),
                Probe("vpn", answers=("db: database",), written_by="db")],
}
SLOW = {"gated"}  # 10 s healthcheck intervals
MEMORY_LIMITS = {"sidecar": {"db": 96 * 1024**2}}  # the profile's, over the file's deploy.resources.limits


def _projects():
    return [pytest.param(p, marks=pytest.mark.slow) if p in SLOW else p for p in sorted(PROBES)]


def _compose_model(project: str) -> dict:
    return yaml.safe_load((CORPUS / project / "compose.yaml").read_text())


def _builds(project: str) -> bool:
    return any("build" in (s or {}) for s in _compose_model(project)["services"].values())


def _container_names(project: str) -> set[str]:
    return {s["container_name"] for s in _compose_model(project)["services"].values() if "container_name" in (s or {})}


def _why(result) -> str:
    """The end of a failed command's stderr: netra-stack's one-line error is its last line."""
    return "\n".join(result.stderr.strip().splitlines()[-5:])


@pytest.fixture
def external_volume():
    """The volume the `volumes` project declares `external: true`, created first (under a name of
    this test's own, labelled) and removed afterwards, with any netra-stack environment still
    using it."""
    client = engine.client()
    volume = client.volumes.create(name=f"corpus-archive-{secrets.token_hex(4)}", labels={FIXTURE_LABEL: "corpus"})
    yield volume.name
    for container in client.containers.list(all=True, filters={"volume": volume.name}):
        if L.is_ours(container.labels):
            remove_environment(container.labels[L.ENVIRONMENT])
    volume.remove()


@pytest.fixture
def corpus_env(request, monkeypatch):
    """Environment variables that point netra-stack at one project's profiles."""

    def make(project: str) -> dict:
        monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(CORPUS / project / "profiles"))
        for var in ("COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_FILE"):
            monkeypatch.delenv(var, raising=False)
        if project == "volumes":
            monkeypatch.setenv("ARCHIVE_VOLUME", request.getfixturevalue("external_volume"))
        if _builds(project):
            request.getfixturevalue("built_images")  # removes the images the test built
        return dict(os.environ)

    return make


@pytest.mark.parametrize("project", _projects())
def test_two_environments_side_by_side(project, corpus_env):
    env = corpus_env(project)
    started = []
    for _ in range(2):
        up = run_cli("up", "--profile", project, "--json", env=env)
        assert up.returncode == 0, f"{project}: up exited {up.returncode}: {_why(up)}"
        started.append(json.loads(up.stdout))
    names = [s["environment"] for s in started]
    assert names[0] != names[1] and all(n.startswith(f"{project}-") for n in names)

    for probe in PROBES[project]:
        assert all(probe.service in s["ports"] for s in started), f"{project}: no host port for {probe.service}: {started}"
        ports = [s["ports"][probe.service] for s in started]
        assert ports[0] != ports[1] and all(30000 <= p <= 40000 for p in ports), ports
    ids = {name: {c.service: c.id[:12] for c in engine.containers(name)} for name in names}
    for name in names:
        for service, limit in MEMORY_LIMITS.get(project, {}).items():
            assert engine.client().api.inspect_container(ids[name][service])["HostConfig"]["Memory"] == limit
    for name, result in zip(names, started):
        health = run_cli("health", "--profile", project, "--name", name, "--json", env=env)
        assert health.returncode == 0 and json.loads(health.stdout)["state"] == "HEALTHY", \
            f"{project}: {name} not healthy: {health.stdout or _why(health)}"
        for probe in PROBES[project]:
            answer = probe.exchange(result["ports"][probe.service])
            for text in probe.answers:
                assert text in answer, f"{project}: {probe.service} of {name} answered {answer!r}"
            assert ids[name][probe.written_by or probe.service] in answer, \
                f"{project}: {probe.service} of {name} answered {answer!r}, not from its own containers {ids[name]}"
    if project == "volumes":  # the external volume is the one thing both share: each serves the other's copy
        for result, other in zip(started, reversed(names)):
            copy = Probe("web", path=f"/archive/{ids[other]['writer']}.txt").exchange(result["ports"]["web"])
            assert copy.strip() == f"report by {ids[other]['writer']}"

    config = run_cli("config", "--profile", project, env=env)
    assert config.returncode == 0, f"{project}: config exited {config.returncode}: {_why(config)}"
    try:
        model = yaml.safe_load(config.stdout)
    except yaml.YAMLError as exc:
        pytest.fail(f"{project}: config is not valid YAML: {' '.join(str(exc).split())}")
    assert {p.service for p in PROBES[project]} <= set(model["services"]), sorted(model["services"])

    for name in names:
        down = run_cli("down", "--profile", project, "--name", name, env=env)
        assert down.returncode == 0, f"{project}: down exited {down.returncode}: {_why(down)}"
        assert engine.containers(name) == [] and engine.networks(name) == [] and engine.volumes(name) == []
    for container_name in _container_names(project):
        left = engine.client().containers.list(all=True, filters={"name": container_name})
        assert not left, f"{project}: containers named like {container_name!r} remain: {[c.name for c in left]}"
