"""Conflicts the engine reports are recognised and resolved through the conflict policy."""

from __future__ import annotations

import json
import os
import socket

import pytest

from tests.engine import engine
from netra_stack.plugins.builtin.ports import is_free
from netra_stack.model.errors import ExitCode

from .conftest import run_cli, session_containers

pytestmark = pytest.mark.podman  # also run against Podman


def test_fixed_port_held_by_a_foreign_process(mini_env):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        before = {c.id for c in session_containers()}
        result = run_cli("up", "--profile", "mini-fixed", env={**mini_env, "MINI_WEB_PORT": str(port)})
        assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: starting mini-fixed-") and str(port) in last
        assert f"fixed by the profile and taken by another process: pid {os.getpid()} (" in last
        assert {c.id for c in session_containers()} == before  # the half-made environment is gone
    finally:
        holder.close()
    assert is_free(port)


def test_foreign_container_holding_a_name_survives_unless_forced(mini_env):
    from netra_stack import StackManager

    api = engine.client().api
    foreign = api.create_container("netra-example/busybox:1.35", ["sleep", "600"], name="netra-test-named-service")
    try:
        result = run_cli("up", "--profile", "mini-named", env=mini_env)
        assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert "netra-test-named-service" in last and "is not netra-stack's" in last and "--force" in last
        assert api.inspect_container(foreign["Id"])["Id"] == foreign["Id"]  # untouched

        manager = StackManager("mini-named", environ=mini_env, force=True)
        name, _ = manager.acquire_environment()
        named = {c.service: c for c in engine.containers(name)}["named"]
        assert named.name == "netra-test-named-service" and named.id != foreign["Id"]
        manager.release_environment(name)
    finally:
        if _exists(foreign["Id"]):
            api.remove_container(foreign["Id"], force=True)


def _exists(container_id: str) -> bool:
    return engine.container_by_id(container_id) is not None


def test_own_stale_container_holding_a_name_is_replaced(mini_env):
    from netra_stack import StackManager

    first = StackManager("mini-named", environ=mini_env)
    name, _ = first.acquire_environment()
    stale = {c.service: c for c in engine.containers(name)}["named"]
    for container in engine.containers(name):  # its environment is gone: nothing of it runs, no holder lives
        engine.client().api.stop(container.id, timeout=1)
    again, _ = StackManager("mini-named", environ=mini_env).acquire_environment()
    named = {c.service: c for c in engine.containers(again)}["named"]
    assert named.running and named.id != stale.id and engine.container_by_id(stale.id) is None
    for env in {name, again}:
        StackManager("mini-named", environ=mini_env).release_environment(env)


def test_a_kept_container_name_is_never_taken_from_a_live_environment(mini_env):
    from netra_stack import StackManager

    name, _ = StackManager("mini-named", environ=mini_env).acquire_environment()
    holder = {c.service: c for c in engine.containers(name)}["named"]
    engine.client().api.stop(holder.id, timeout=1)  # stopped, but its environment still runs
    result = run_cli("up", "--profile", "mini-named", env=mini_env)
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert f"container name netra-test-named-service is held by environment {name}, which is in use" in error
    assert "Traceback" not in result.stderr
    assert engine.container_by_id(holder.id) is not None  # not removed
    assert {c.environment for c in session_containers()} >= {name}
    assert [c.environment for c in session_containers() if c.service == "named"] == [name]  # nothing else started
    StackManager("mini-named", environ=mini_env).release_environment(name)


def test_foreign_network_of_the_same_name_survives_unless_forced(mini_env):
    from netra_stack import StackManager

    api = engine.client().api
    env = {**mini_env, "COMPOSE_PROJECT_NAME": "netra-test-netclash"}
    foreign = api.create_network("netra-test-netclash_default")
    try:
        result = run_cli("up", "--profile", "mini", env=env)
        assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert "network netra-test-netclash_default exists and is not netra-stack's" in last and "--force" in last
        assert api.inspect_network(foreign["Id"])["Id"] == foreign["Id"]

        name, _ = StackManager("mini", environ=env, force=True).acquire_environment()
        assert engine.network_by_name("netra-test-netclash_default")["Id"] != foreign["Id"]
        StackManager("mini", environ=env).release_environment(name)
    finally:
        if engine.network_by_name("netra-test-netclash_default") and \
                engine.network_by_name("netra-test-netclash_default")["Id"] == foreign["Id"]:
            api.remove_network(foreign["Id"])


def test_leftover_network_of_a_gone_environment_is_cleaned(mini_env):
    from netra_stack import StackManager

    name, _ = StackManager("mini", environ=mini_env).acquire_environment()
    for container in engine.containers(name):  # the containers vanish, the network stays behind
        engine.remove_container(container)
    assert engine.networks(name)
    result = run_cli("clean", "--json", env=mini_env)
    assert result.returncode == 0, result.stderr
    assert {"kind": "network", "name": f"{name}_default"} in json.loads(result.stdout)["removed"]
    assert engine.networks(name) == []
