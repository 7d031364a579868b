"""`netra-stack doctor` against the real engine: what it says of this machine matches what the
engine and Compose say themselves, a memory limit is really tried on a container (and the
container removed), and each broken part is a failed check with its fix, never a traceback:
an engine that cannot be reached, a state directory that cannot be written, a port range all
held, a plugin that does not load. Leftovers of earlier runs are a warning, not a failure."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from netra_stack import StackManager
from netra_stack.model import labels as L
from tests.engine import engine

from ..helpers import ON_PODMAN
from .conftest import run_cli


def doctor(*args: str, **env: str) -> tuple[int, dict[str, dict], str]:
    result = run_cli("doctor", "--json", *args, env={**os.environ, **env})
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    found = json.loads(result.stdout)
    assert found["ok"] == (result.returncode == 0)
    return result.returncode, {c["check"]: c for c in found["checks"]}, result.stderr


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.podman
def test_this_machine_is_described_as_the_engine_and_compose_describe_it(mini_env):
    code, checks, _ = doctor("--profile", "mini")
    assert code == 0, checks
    engine_detail = checks["engine"]["detail"]
    assert checks["engine"]["status"] == "ok"
    assert engine_detail.startswith("Podman " if ON_PODMAN else "Docker Engine ")
    assert _docker("version", "--format", "{{.Server.Version}}") in engine_detail
    assert f"API {_docker('version', '--format', '{{.Server.APIVersion}}')}" in engine_detail
    assert checks["compose"]["status"] == "ok" and _docker("compose", "version", "--short") in checks["compose"]["detail"]
    assert checks["memory limits"] == {"check": "memory limits", "status": "ok", "fix": "",
                                       "detail": "enforced: a container given 32 MiB has a 33554432-byte cgroup limit"}
    if ON_PODMAN:  # its own builder; healthchecks run by netra-stack, said so
        assert checks["buildx"]["status"] == "ok" and "Podman builds with its own builder" in checks["buildx"]["detail"]
        assert checks["healthchecks"]["status"] == "ok" and "systemd" in checks["healthchecks"]["detail"]
    else:
        assert checks["buildx"]["status"] in ("ok", "warn")  # absent here: builds still work, without BuildKit
        assert "healthchecks" not in checks
    assert checks["state directory"]["status"] == "ok" and checks["profile"]["detail"].startswith("mini (")
    assert "host ports free in 30000-40000 on 127.0.0.1" in checks["ports"]["detail"]
    assert not [c for c in engine.containers() if c.labels.get(L.ENVIRONMENT, "").startswith("doctor-")]


def test_each_broken_part_is_a_failed_check_with_its_fix_and_the_rest_still_looked_at(mini_env, tmp_path):
    code, checks, _ = doctor("--profile", "mini", DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    assert code == 1 and checks["engine"]["status"] == "fail"
    assert f"unix://{tmp_path}/no-engine.sock" in checks["engine"]["detail"] and checks["engine"]["fix"]
    assert "compose" not in checks and "leftovers" not in checks  # nothing to ask without an engine
    assert checks["state directory"]["status"] == "ok" and checks["profile"]["status"] == "ok"

    blocked = tmp_path / "file"
    blocked.write_text("")
    code, checks, _ = doctor("--profile", "mini", NETRA_STACK_STATE_DIR=str(blocked / "state"))
    assert code == 1 and checks["state directory"]["status"] == "fail"
    assert str(blocked / "state") in checks["state directory"]["detail"]
    assert "NETRA_STACK_STATE_DIR" in checks["state directory"]["fix"]
    assert checks["engine"]["status"] == "ok"

    code, checks, _ = doctor("--profile", "mini-plugin-broken")
    assert code == 1 and checks["plugins"]["status"] == "fail" and "no_such_plugin.py" in checks["plugins"]["detail"]
    assert checks["engine"]["status"] == "ok"  # reached without the profile's plugins


def test_a_range_all_held_fails_and_names_it(mini_env):
    holders = []
    try:
        for port in (29900, 29901):  # mini-tiny's whole range
            holder = socket.socket()
            holder.bind(("127.0.0.1", port))
            holder.listen()
            holders.append(holder)
        code, checks, _ = doctor("--profile", "mini-tiny")
    finally:
        for holder in holders:
            holder.close()
    assert code == 1 and checks["ports"]["status"] == "fail"
    assert checks["ports"]["detail"].startswith("0 of 2 host ports free in 29900-29901") and "ports.range" in \
        checks["ports"]["fix"]


def test_a_stopped_container_of_ours_is_a_leftover_warning_with_clean_as_its_fix(mini_env):
    manager = StackManager("mini", environ=mini_env)
    name, _ = manager.acquire_environment()
    try:
        worker = {c.service: c for c in engine.containers(name)}["worker"]
        engine.client().api.stop(worker.id, timeout=1)
        code, checks, _ = doctor("--profile", "mini")
        assert code == 0 and checks["leftovers"]["status"] == "warn", checks["leftovers"]
        assert "stopped container(s) of ours" in checks["leftovers"]["detail"]
        assert "netra-stack clean" in checks["leftovers"]["fix"]
    finally:
        manager.release_environment(name)


def test_the_table_names_every_check(mini_env):
    result = run_cli("doctor", "--profile", "mini", env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    for check in ("engine", "compose", "buildx", "memory limits", "leftovers", "ports", "state directory", "profile",
                  "plugins"):
        assert check in result.stdout
