"""Starting an engine that cannot be reached, for real: a second dockerd (tests/testbed/engine2.py,
its own socket, data root and bridge; the machine's engine is never stopped or touched) is the
engine DOCKER_HOST names, down at first. `up --start-engine` runs the configured start command,
waits until the engine answers, and brings the environment up on it; without the flag it is one
line naming the engine, exit 5, nothing started; a start command that fails is bounded and its
output shown, exit 5."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from netra_stack.model.errors import ExitCode
from tests.helpers import REPO
from tests.testbed import engine2

from .conftest import BUSYBOX, run_cli

pytestmark = pytest.mark.slow
SCRIPT = REPO / "tests" / "testbed" / "engine2.py"


def docker2(folder: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "-H", engine2.socket_of(folder), *args], capture_output=True, text=True, **kwargs)


@pytest.fixture
def stopped_engine():
    """A second engine that holds the busybox image and is not running: started once, loaded, stopped."""
    folder = Path(tempfile.mkdtemp(prefix="ns2-", dir="/tmp"))  # short: a unix socket's path is bounded
    try:
        engine2.start(folder)
        deadline = time.monotonic() + 60
        while docker2(folder, "version").returncode != 0:
            assert time.monotonic() < deadline, (folder / "dockerd.log").read_text()[-2000:]
            time.sleep(0.2)
        saved = subprocess.run(["docker", "save", BUSYBOX], capture_output=True, check=True).stdout
        subprocess.run(["docker", "-H", engine2.socket_of(folder), "load"], input=saved, capture_output=True, check=True)
        engine2.stop(folder, remove=False)
        yield folder
    finally:
        engine2.stop(folder)


def test_up_starts_the_engine_it_cannot_reach_with_the_configured_command(mini_env, stopped_engine):
    env = {**mini_env, "DOCKER_HOST": engine2.socket_of(stopped_engine),
           "NETRA_STACK_ENGINE_START_COMMAND": f"{sys.executable} {SCRIPT} start {stopped_engine}"}
    refused = run_cli("up", "--profile", "mini", env=env)
    assert refused.returncode == ExitCode.DOCKER_UNAVAILABLE, refused.stderr
    line, = refused.stderr.strip().splitlines()
    assert engine2.socket_of(stopped_engine) in line and "--start-engine" in line
    assert not (stopped_engine / "started.pid").exists() or docker2(stopped_engine, "version").returncode != 0

    started = run_cli("up", "--profile", "mini", "--start-engine", "--json", env=env)
    assert started.returncode == 0, started.stderr
    assert f"starting it with `{sys.executable} {SCRIPT} start {stopped_engine}` (configured)" in started.stderr
    assert f"the engine at {engine2.socket_of(stopped_engine)} answers" in started.stderr
    names = docker2(stopped_engine, "ps", "--format", "{{.Names}}").stdout.split()
    assert sorted(n.rsplit("-", 2)[1] for n in names) == ["web", "worker"], names  # on the second engine
    assert run_cli("down", "--profile", "mini", env=env).returncode == 0
    assert docker2(stopped_engine, "ps", "-aq").stdout.strip() == ""


def test_a_start_command_that_fails_is_one_line_with_its_output_exit_5(mini_env, stopped_engine):
    env = {**mini_env, "DOCKER_HOST": engine2.socket_of(stopped_engine), "NETRA_STACK_START_ENGINE": "1",
           "NETRA_STACK_ENGINE_START_COMMAND": f"{sys.executable} -c \"print('permission denied'); exit(4)\""}
    result = run_cli("up", "--profile", "mini", env=env)
    assert result.returncode == ExitCode.DOCKER_UNAVAILABLE, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot start the Docker engine: `") and "exited 4: permission denied" in last
    assert "Traceback" not in result.stderr
