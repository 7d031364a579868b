"""Real-engine tests. Every test leaves the engine as it found it: whatever netra-stack
environment this session made during a test is removed afterwards by its labels, pass or fail.
The session's environments carry an owner of their own (NETRA_STACK_OWNER, inherited by the
commands the tests run), so a test session never removes another's on the same engine."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys

import docker.errors
import pytest

from tests.engine import engine
from netra_stack.model import labels as L
from netra_stack.model.state import state_dir
from netra_stack.planning.plan import OWNER_VAR

from ..conftest import MINI_PROFILES, REPO
from ..helpers import BUSYBOX as DEFAULT_BUSYBOX
from ..helpers import EXAMPLE_IMAGES

BUSYBOX = os.environ.get("BUSYBOX_IMAGE", DEFAULT_BUSYBOX)
SESSION_OWNER = os.environ.setdefault(OWNER_VAR, f"pytest-{os.getpid()}@{socket.gethostname()}")


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.docker)


def pytest_collection_finish(session):
    """Build what the selected tests' test beds need before the first test runs: on a fresh
    machine that is set-up (the Kubernetes binaries take about ten minutes), not part of one
    test's time and timeout. Each build is skipped while current; one that fails is said here,
    and its test bed's fixture fails on what is missing."""
    from tests.testbed import cluster, kube, nodes

    builds = {"swarm_node_image": nodes.build_image, "kube_api": kube.build, "kube_cluster": cluster.build}
    wanted = {name for item in session.items for name in item.fixturenames}
    for fixture, build in builds.items():
        if fixture in wanted:
            try:
                build()
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                print(f"\nbuilding the test bed of {fixture} failed: {error}", file=sys.stderr)


def session_containers() -> list:
    """The containers this test session made (others may run on the same engine)."""
    return [c for c in engine.containers() if c.labels.get(L.OWNER) == SESSION_OWNER]


def session_networks() -> list:
    return [n for n in engine.networks() if (n.get("Labels") or {}).get(L.OWNER) == SESSION_OWNER]


def _our_environments() -> set[str]:
    """The environments of this test session."""
    labels = [c.labels for c in engine.containers()]
    labels += [n.get("Labels") or {} for n in engine.networks()]
    labels += [v.get("Labels") or {} for v in engine.volumes()]
    return {found[L.ENVIRONMENT] for found in labels
            if found.get(L.OWNER) == SESSION_OWNER and found.get(L.ENVIRONMENT)}


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
    shutil.rmtree(state_dir() / name, ignore_errors=True)  # and its generated files in the state directory


@pytest.fixture(scope="session")
def docker_ready():
    engine.client()  # a clear error, not a skip: these tests must run where CI runs
    missing = [i for i in {BUSYBOX, *EXAMPLE_IMAGES} if not engine.client().images.list(name=i)]
    if missing:
        pytest.fail(f"images {missing} are missing: run scripts/bootstrap first (README: Quickstart)")


def _remove_new_environments(before: set[str]) -> None:
    for name in _our_environments() - before:
        remove_environment(name)
    assert not (_our_environments() - before), "could not remove test environments"


@pytest.fixture(autouse=True)
def leave_no_trace(request, docker_ready):
    before = _our_environments()
    yield
    _remove_new_environments(before)


@pytest.fixture
def mini_env(monkeypatch):
    """Environment variables that point netra-stack at the mini fixture stack."""
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(MINI_PROFILES))
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    return dict(os.environ)


@pytest.fixture
def built_images():
    """Removes, after the test, every image that appeared during it and that netra-stack built
    (it carries netra-stack's label): the test's own builds, never anyone else's images."""
    before = {i.id for i in engine.client().images.list(all=True)}
    environments = _our_environments()
    yield
    _remove_new_environments(environments)  # first: their containers hold the images
    remove_images_built_since(before)


@pytest.fixture(scope="module")
def module_built_images(docker_ready):
    """As built_images, for a module whose tests share what the first of them built."""
    before = {i.id for i in engine.client().images.list(all=True)}
    yield
    remove_images_built_since(before)


def remove_images_built_since(before: set[str]) -> None:
    """The images netra-stack built (they carry its label) that are not among `before`."""
    for image in engine.client().images.list(all=True, filters={"label": f"{L.MANAGED}=true"}):
        if image.id not in before:
            try:
                engine.client().images.remove(image.id, force=True)
            except docker.errors.NotFound:
                pass


@pytest.fixture
def mini_build(tmp_path, monkeypatch, built_images):
    """A copy of the mini fixture (its build context may be changed) whose built image has a tag
    of its own (DOCKER_TAG); returns (environment variables, the copy's root)."""
    root = tmp_path / "mini"
    shutil.copytree(MINI_PROFILES.parent, root)
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(root / "profiles"))
    monkeypatch.setenv("DOCKER_TAG", f"t{secrets.token_hex(4)}")
    for var in ("COMPOSE_PROJECT_NAME", "USE_PRODUCTION_IMAGES", "MINI_GREETING"):
        monkeypatch.delenv(var, raising=False)
    return dict(os.environ), root


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real console entry point, in a child process."""
    return subprocess.run([sys.executable, "-m", "netra_stack", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="session")
def swarm_node_image(docker_ready) -> str:
    """The Docker-in-Docker node image (built before the session's first test)."""
    from tests.testbed import nodes

    return nodes.IMAGE


def _swarm(count: int, registry: bool = False):
    """A swarm of `count` Docker-in-Docker node containers (the host engine never enters swarm
    mode), with the busybox image loaded; removed at the end of the session, pass or fail."""
    from tests.testbed import nodes

    nodes.remove_leftovers()
    cluster = nodes.start(count, registry=registry)
    try:
        cluster.load(BUSYBOX)
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def swarm(swarm_node_image):
    """A single-node swarm."""
    yield from _swarm(1)


@pytest.fixture(scope="session")
def swarm3(swarm_node_image):
    """A manager and two workers, and a registry they pull from."""
    yield from _swarm(3, registry=True)


@pytest.fixture(scope="session")
def kube_api():
    """A Kubernetes API server (etcd + kube-apiserver on loopback, no nodes), for the session."""
    from tests.testbed import kube

    server = kube.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kube_cluster(docker_ready):
    """A whole single-node Kubernetes 1.20 cluster in one Docker-in-Docker node container
    (tests/testbed/cluster.py: control plane, kubelet on the node's dockerd, kube-proxy), for the
    session; removed by its label at the end, pass or fail."""
    from tests.testbed import cluster as testbed_cluster

    testbed_cluster.remove_leftovers()
    found = testbed_cluster.start()
    try:
        yield found
    finally:
        found.stop()
