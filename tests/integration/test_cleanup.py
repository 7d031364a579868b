"""Cleanup through the API and `clean`: only what netra-stack created, and `--dry-run` removes nothing."""

from __future__ import annotations

import json

import pytest

from netra_stack import StackManager
from tests.engine import engine

from .conftest import run_cli

pytestmark = pytest.mark.podman  # also run against Podman


def test_orphaned_containers_and_old_environments(mini_env):
    manager = StackManager("mini", environ=mini_env)
    name, _ = manager.acquire_environment()
    worker = {c.service: c for c in engine.containers(name)}["worker"]
    engine.client().api.stop(worker.id, timeout=1)
    assert manager.cleanup_orphaned_containers() == [worker.name]
    assert {c.service for c in engine.containers(name)} == {"web"}

    assert manager.cleanup_old_environments(max_age=3600) == []  # young: kept
    assert engine.containers(name)
    assert manager.cleanup_old_environments(max_age=0) == [name]
    assert engine.containers(name) == [] and engine.networks(name) == []


def test_clean_dry_run_then_clean_all_spares_foreign_resources(mini_env):
    api = engine.client().api
    foreign = api.create_container("netra-example/busybox:1.35", ["sleep", "60"], name="not-netra-stack-clean-test",
                                   labels={"com.docker.compose.project": "someone-else"})
    foreign_net = api.create_network("not-netra-stack-clean-test")
    foreign_volume = api.create_volume("not-netra-stack-clean-test")
    try:
        name, _ = StackManager("mini", environ=mini_env).acquire_environment()
        dry = run_cli("clean", "--all", "--dry-run", "--json", env=mini_env)
        assert dry.returncode == 0, dry.stderr
        planned = json.loads(dry.stdout)
        assert planned["dry_run"] and {"kind": "environment", "name": name} in planned["removed"]
        assert len(engine.containers(name)) == 2  # nothing removed

        done = run_cli("clean", "--all", "--json", env=mini_env)
        assert done.returncode == 0, done.stderr
        assert {"kind": "environment", "name": name} in json.loads(done.stdout)["removed"]
        assert engine.containers(name) == [] and engine.networks(name) == []
        assert api.inspect_container(foreign["Id"])["Id"] == foreign["Id"]  # untouched
        assert api.inspect_network(foreign_net["Id"])["Id"] == foreign_net["Id"]
        assert api.inspect_volume(foreign_volume["Name"])["Name"] == foreign_volume["Name"]
    finally:
        api.remove_container(foreign["Id"], force=True)
        api.remove_network(foreign_net["Id"])
        api.remove_volume(foreign_volume["Name"])


def test_logs_are_shown_with_secrets_masked(mini_env):
    manager = StackManager("mini", environ=mini_env)
    name, _ = manager.acquire_environment()
    container = {c.service: c for c in engine.containers(name)}["worker"]
    code, _, _ = engine.execute(container.id, ["sh", "-c", "echo API_TOKEN=$API_TOKEN > /proc/1/fd/1"])
    assert code == 0
    result = run_cli("logs", "--profile", "mini", "--name", name, "--services", "worker", env=mini_env)
    assert result.returncode == 0, result.stderr
    assert "API_TOKEN=***" in result.stdout and "s3cr3t-value" not in result.stdout
    manager.release_environment(name)
