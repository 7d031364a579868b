"""Real-engine tests. Every test leaves the engine as it found it: whatever netra-stack
environment appeared during a test is removed afterwards by its labels, pass or fail."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from netra_stack import engine
from netra_stack import labels as L
from netra_stack.compose import Compose

from ..conftest import MINI_PROFILES, REPO

BUSYBOX = os.environ.get("BUSYBOX_IMAGE", "netra-example/busybox:1.35")


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.docker)


def _our_environments() -> set[str]:
    names = {c.environment for c in engine.containers()}
    names |= {(n.get("Labels") or {}).get(L.ENVIRONMENT) for n in engine.networks()}
    names |= {(v.get("Labels") or {}).get(L.ENVIRONMENT) for v in engine.volumes()}
    return {n for n in names if n}


def remove_environment(name: str) -> None:
    """By label only: compose down, then anything of this environment still there."""
    subprocess.run(["docker", "compose", "--project-directory", str(REPO / "tests" / "fixtures"), "-p", name,
                    "down", "-v", "--remove-orphans", "-t", "1"], capture_output=True, timeout=120)
    for c in engine.containers(name):
        engine.remove_container(c)
    for n in engine.networks(name):
        engine.remove_network(n)
    for v in engine.volumes(name):
        engine.remove_volume(v)
    Compose.forget(name)  # and its generated files in the state directory


@pytest.fixture(scope="session")
def docker_ready():
    engine.client()  # a clear error, not a skip: these tests must run where CI runs
    missing = [i for i in (BUSYBOX, "netra-example/base:bookworm") if not engine.client().images.list(name=i)]
    if missing:
        pytest.fail(f"images {missing} are missing: run scripts/bootstrap first (README: Quickstart)")


@pytest.fixture(autouse=True)
def leave_no_trace(request, docker_ready):
    before = _our_environments()
    yield
    leaked = _our_environments() - before
    for name in leaked:
        remove_environment(name)
    assert not (_our_environments() - before), "could not remove test environments"


@pytest.fixture
def mini_env(monkeypatch):
    """Environment variables that point netra-stack at the mini fixture stack."""
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(MINI_PROFILES))
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    return dict(os.environ)


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real console entry point, in a child process."""
    return subprocess.run([sys.executable, "-m", "netra_stack", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO)
