"""The engine netra-stack talks to, for real, on a second dockerd (tests/testbed/engine2.py: its
own socket, tcp port on loopback, data root and bridge; the machine's engine is never stopped or
touched):
- starting it: `up --start-engine` runs the configured start command, waits until the engine
  answers and brings the environment up on it; without the flag it is one line naming the
  engine, exit 5; a start command that fails is bounded and its output shown, exit 5;
- choosing it as the docker CLI does: DOCKER_HOST (unix, tcp), else DOCKER_CONTEXT, else the
  context `docker context use` chose; a context that does not exist is named with the known ones;
  an ssh endpoint that refuses is the ssh command's error, in one line;
- as a remote engine (tcp on an address of this machine off loopback, its bridge's): ports are
  published on every address of the engine's machine, and reported and probed there."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

from netra_stack.model.errors import ExitCode
from tests.engine import engine
from tests.helpers import REPO
from tests.testbed import engine2

from .conftest import BUSYBOX, run_cli

pytestmark = pytest.mark.slow
SCRIPT = REPO / "tests" / "testbed" / "engine2.py"


def docker2(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "-H", engine2.socket_of(folder), *args], capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def host_bridge_kept():
    """The machine's engine keeps its default bridge, whatever the second engine does."""
    had = subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0
    yield
    assert not had or subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0, \
        "the host engine's docker0 is gone"


@pytest.fixture(scope="module")
def busybox_tar(tmp_path_factory) -> Path:
    tar = tmp_path_factory.mktemp("images") / "busybox.tar"
    subprocess.run(["docker", "save", "-o", str(tar), BUSYBOX], check=True)
    return tar


@pytest.fixture
def engine_folder():
    """The folder of a second engine, not started; whatever is started there is stopped and removed."""
    folder = Path(tempfile.mkdtemp(prefix="ns2-", dir="/tmp"))  # short: a unix socket's path is bounded
    folder.rmdir()  # start makes it
    yield folder
    engine2.stop(folder)


@pytest.fixture
def second_engine(engine_folder, busybox_tar):
    """A second engine, running, with the busybox image; its folder and tcp port."""
    port = _free_port()
    engine2.start(engine_folder, port, load=busybox_tar)
    return engine_folder, port


def _names_on(folder: Path) -> list[str]:
    return sorted(n.rsplit("-", 2)[1] for n in docker2(folder, "ps", "--format", "{{.Names}}").stdout.split())


def test_up_starts_the_engine_it_cannot_reach_with_the_configured_command(mini_env, engine_folder, busybox_tar):
    folder = engine_folder
    command = f"{sys.executable} {SCRIPT} start {folder} --load {busybox_tar}"
    env = {**mini_env, "DOCKER_HOST": engine2.socket_of(folder), "NETRA_STACK_ENGINE_START_COMMAND": command}
    refused = run_cli("up", "--profile", "mini", env=env)
    assert refused.returncode == ExitCode.DOCKER_UNAVAILABLE, refused.stderr
    line, = refused.stderr.strip().splitlines()
    assert engine2.socket_of(folder) in line and "--start-engine" in line
    assert docker2(folder, "version").returncode != 0  # still down: nothing started it

    started = run_cli("up", "--profile", "mini", "--start-engine", "--json", env=env)
    assert started.returncode == 0, started.stderr
    assert f"starting it with `{command}` (configured)" in started.stderr
    assert f"the engine at {engine2.socket_of(folder)} answers" in started.stderr
    assert _names_on(folder) == ["web", "worker"]  # on the second engine
    assert run_cli("down", "--profile", "mini", env=env).returncode == 0
    assert docker2(folder, "ps", "-aq").stdout.strip() == ""


def test_a_start_command_that_fails_is_one_line_with_its_output_exit_5(mini_env, engine_folder):
    env = {**mini_env, "DOCKER_HOST": engine2.socket_of(engine_folder), "NETRA_STACK_START_ENGINE": "1",
           "NETRA_STACK_ENGINE_START_COMMAND": f"{sys.executable} -c \"print('permission denied'); exit(4)\""}
    result = run_cli("up", "--profile", "mini", env=env)
    assert result.returncode == ExitCode.DOCKER_UNAVAILABLE, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot start the Docker engine: `") and "exited 4: permission denied" in last
    assert "Traceback" not in result.stderr


def test_an_ssh_engine_that_refuses_is_the_ssh_error_in_one_line_exit_5(mini_env):
    with socket.socket() as closed:  # a port nothing listens on: the ssh command's connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**mini_env, "DOCKER_HOST": f"ssh://nobody@127.0.0.1:{port}"}
    for command in (["status"], ["up", "--profile", "mini"]):
        result = run_cli(*command, env=env)
        assert result.returncode == ExitCode.DOCKER_UNAVAILABLE, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"error: cannot reach the Docker engine at ssh://nobody@127.0.0.1:{port}: ssh: connect to host 127.0.0.1 "
            f"port {port}: Connection refused (hint: check that `ssh -p {port} nobody@127.0.0.1 docker version` "
            "works: netra-stack connects as the docker CLI does)"]


def test_docker_host_over_tcp_reaches_the_engine_there(mini_env, second_engine):
    folder, port = second_engine
    env = {**mini_env, "DOCKER_HOST": f"tcp://127.0.0.1:{port}"}
    up = run_cli("up", "--profile", "mini", "--json", env=env)
    assert up.returncode == 0, up.stderr
    assert _names_on(folder) == ["web", "worker"]
    status = run_cli("status", env=env)
    assert status.returncode == 0 and "mini-" in status.stdout and "HEALTHY" not in status.stderr
    assert run_cli("down", "--profile", "mini", env=env).returncode == 0
    assert docker2(folder, "ps", "-aq").stdout.strip() == ""


def test_the_engine_a_docker_context_names_is_used_and_an_unknown_one_is_named(mini_env, second_engine, tmp_path):
    folder, _ = second_engine
    config = tmp_path / "docker-config"  # a docker CLI configuration of this test's own, with its plugins
    config.mkdir()
    (config / "config.json").write_text("{}")  # the docker SDK looks for contexts beside it
    plugins = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins"
    if plugins.is_dir():
        (config / "cli-plugins").symlink_to(plugins)
    env = {k: v for k, v in {**mini_env, "DOCKER_CONFIG": str(config)}.items() if k != "DOCKER_HOST"}
    subprocess.run(["docker", "context", "create", "second", "--docker", f"host={engine2.socket_of(folder)}"],
                   env=env, check=True, capture_output=True)

    unknown = run_cli("status", env={**env, "DOCKER_CONTEXT": "nosuch"})
    assert unknown.returncode == ExitCode.DOCKER_UNAVAILABLE
    line, = unknown.stderr.strip().splitlines()
    assert "DOCKER_CONTEXT 'nosuch' is no Docker context; known: default, second" in line

    subprocess.run(["docker", "context", "use", "second"], env=env, check=True, capture_output=True)
    up = run_cli("up", "--profile", "mini", "--json", env=env)
    assert up.returncode == 0, up.stderr
    assert _names_on(folder) == ["web", "worker"]  # on the context's engine, not the machine's
    assert not [c for c in engine.containers() if c.labels.get("io.netra-stack.profile") == "mini"
                and c.environment in up.stdout]
    assert run_cli("down", "--profile", "mini", env=env).returncode == 0
    assert docker2(folder, "ps", "-aq").stdout.strip() == ""


def test_a_remote_engines_ports_are_published_reported_and_reached_at_its_machines_address(
        mini_env, engine_folder, busybox_tar):
    port = _free_port()
    engine2.start(engine_folder, port, load=busybox_tar, tcp_host=engine2.BRIDGE_ADDRESS)
    env = {**mini_env, "DOCKER_HOST": f"tcp://{engine2.BRIDGE_ADDRESS}:{port}"}
    up = run_cli("up", "--profile", "mini", "--json", env=env)
    assert up.returncode == 0, up.stderr
    assert f"ports: published on every address of {engine2.BRIDGE_ADDRESS}, the engine's machine" in up.stderr
    web = docker2(engine_folder, "ps", "--filter", "label=com.docker.compose.service=web", "--format", "{{.Ports}}")
    assert web.stdout.startswith("0.0.0.0:"), web.stdout  # not the profile's 127.0.0.1: out of reach over there
    shown = json.loads(run_cli("ports", "--profile", "mini", "--json", env=env).stdout)
    bound = [b for b in shown if b["service"] == "web" and ":" not in b["host_ip"]]
    assert [b["host_ip"] for b in bound] == [engine2.BRIDGE_ADDRESS], shown
    with urllib.request.urlopen(f"http://{engine2.BRIDGE_ADDRESS}:{bound[0]['host_port']}/", timeout=10) as answer:
        assert answer.read().strip() == b"ok"  # mini's web, where netra-stack said it is
    assert run_cli("down", "--profile", "mini", env=env).returncode == 0
