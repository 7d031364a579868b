"""Host ports: parallel environments from separate processes never collide, ports held by any
process are skipped, and what is reported is what the engine has bound."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from netra_stack import StackManager
from tests.engine import engine

from ..conftest import REPO

pytestmark = pytest.mark.podman  # also run against Podman


def test_concurrent_acquires_from_separate_processes_get_distinct_ports(mini_env):
    children = [subprocess.Popen([sys.executable, "-m", "netra_stack", "up", "--profile", "mini-narrow", "--json"],
                                 env=mini_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    results = [(child, *child.communicate(timeout=300)) for child in children]
    for child, _, err in results:
        assert child.returncode == 0, err
    ups = [json.loads(out) for _, out, _ in results]
    ports = [up["ports"]["web"] for up in ups]
    assert len(set(ports)) == 4 and all(29800 <= p <= 29805 for p in ports)
    assert len({up["environment"] for up in ups}) == 4
    for up in ups:  # what each was told is what the engine bound
        web = {c.service: c for c in engine.containers(up["environment"])}["web"]
        assert {b.host_port for b in web.ports} == {up["ports"]["web"]}
    status = {e.name: e for e in StackManager("mini", environ=mini_env).environments()}
    assert all(status[up["environment"]].owner.endswith("@" + socket.gethostname()) for up in ups)


def test_a_port_held_by_a_foreign_process_is_skipped(mini_env):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 29900))
    holder.listen()
    try:
        manager = StackManager("mini-tiny", environ=mini_env)
        name, ports = manager.acquire_environment()
        assert ports["web"] == 29901
        manager.release_environment(name)
    finally:
        holder.close()
