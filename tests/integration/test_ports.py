"""Host ports: parallel environments from separate processes never collide, ports held by any
process are skipped, and what is reported is what the engine has bound."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys

import pytest

from netra_stack import StackManager
from tests.engine import engine

from ..conftest import MINI_PROFILES, ON_PODMAN, REPO

pytestmark = pytest.mark.podman  # also run against Podman

# The Podman run goes on beside the Docker one (scripts/test): its fixed ranges are its own.
SHIFT = 10 if ON_PODMAN else 0
NARROW = (29800 + SHIFT, 29805 + SHIFT)
TINY = (29900 + SHIFT, 29901 + SHIFT)  # below the kernel's ephemeral range: no outgoing connection takes one


@pytest.fixture
def ranges_env(mini_env, tmp_path, monkeypatch):
    """The mini stack with its narrow (mini-narrow) and two-port (mini-tiny) ranges as above."""
    root = tmp_path / "mini"
    shutil.copytree(MINI_PROFILES.parent, root)
    for name, (low, high) in (("mini-narrow", NARROW), ("mini-tiny", TINY)):
        path = root / "profiles" / f"{name}.toml"
        path.write_text(re.sub(r"range = \[\d+, \d+\]", f"range = [{low}, {high}]", path.read_text()))
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(root / "profiles"))
    return {**mini_env, "NETRA_STACK_PROFILE_PATH": str(root / "profiles")}


def test_concurrent_acquires_from_separate_processes_get_distinct_ports(ranges_env):
    children = [subprocess.Popen([sys.executable, "-m", "netra_stack", "up", "--profile", "mini-narrow", "--json"],
                                 env=ranges_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    results = [(child, *child.communicate(timeout=300)) for child in children]
    for child, _, err in results:
        assert child.returncode == 0, err
    ups = [json.loads(out) for _, out, _ in results]
    ports = [up["ports"]["web"] for up in ups]
    assert len(set(ports)) == 4 and all(NARROW[0] <= p <= NARROW[1] for p in ports)
    assert len({up["environment"] for up in ups}) == 4
    for up in ups:  # what each was told is what the engine bound
        web = {c.service: c for c in engine.containers(up["environment"])}["web"]
        assert {b.host_port for b in web.ports} == {up["ports"]["web"]}
    status = {e.name: e for e in StackManager("mini", environ=ranges_env).environments()}
    assert all(status[up["environment"]].owner.endswith("@" + socket.gethostname()) for up in ups)


def test_a_port_held_by_a_foreign_process_is_skipped(ranges_env):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", TINY[0]))
    holder.listen()
    try:
        manager = StackManager("mini-tiny", environ=ranges_env)
        name, ports = manager.acquire_environment()
        assert ports["web"] == TINY[1]
        manager.release_environment(name)
    finally:
        holder.close()
