"""Up, healthy, ports, restart, down against the real engine, with the tiny busybox stack."""

from __future__ import annotations

import json
import urllib.request

import pytest

from netra_stack import StackManager
from tests.engine import engine
from netra_stack.model import labels as L
from netra_stack.model.errors import ExitCode, NotHealthyError

from ..helpers import ON_PODMAN
from .conftest import run_cli

pytestmark = pytest.mark.podman  # also run against Podman


def http_get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return response.read().decode()


def test_api_lifecycle(mini_env):
    manager = StackManager("mini", environ=mini_env)
    name, ports = manager.acquire_environment(timeout=60)
    assert name.startswith("mini-") and set(ports) == {"web"}
    assert 30000 <= ports["web"] <= 40000
    assert http_get(ports["web"]).strip() == "ok"

    containers = {c.service: c for c in engine.containers(name)}
    assert set(containers) == {"web", "worker"}
    for c in containers.values():
        assert c.labels[L.MANAGED] == "true" and c.labels[L.ENVIRONMENT] == name and c.labels[L.PROFILE] == "mini"
    assert [n["Name"] for n in engine.networks(name)] == [f"{name}_default"]
    worker = engine.client().api.inspect_container(containers["worker"].id)
    assert worker["HostConfig"]["Memory"] == 32 * 1024**2
    assert worker["HostConfig"]["NanoCpus"] == 500_000_000
    assert "/scratch" in worker["HostConfig"]["Tmpfs"]
    assert "ROLE=worker" in worker["Config"]["Env"]

    report = manager.get_health_report()
    assert report.healthy and report.state.value == "HEALTHY"
    web = next(s for s in report.services if s.service == "web")
    assert web.check.ok and web.check.latency_ms > 0
    # ready before Docker's own first probe: then netra-stack ran Docker's test itself, and it passed
    assert web.docker_health == "healthy" or (web.docker_health == "starting" and web.container_check.ok)

    started = containers["web"].started
    report = manager.restart_service("web")
    assert report.healthy
    assert engine.containers(name) and {c.service: c for c in engine.containers(name)}["web"].started > started
    assert http_get(manager.ports()["web"]).strip() == "ok"

    manager.release_environment(name)
    assert engine.containers(name) == [] and engine.networks(name) == []


def test_cli_lifecycle(mini_env):
    up = run_cli("up", "--profile", "mini", "--json", env=mini_env)
    assert up.returncode == 0, up.stderr
    result = json.loads(up.stdout)
    name, port = result["environment"], result["ports"]["web"]
    assert http_get(port).strip() == "ok"

    status = json.loads(run_cli("status", "--json", env=mini_env).stdout)
    mine = next(e for e in status if e["name"] == name)
    assert mine["profile"] == "mini" and mine["state"] == "running" and set(mine["services"]) == {"web", "worker"}

    health = run_cli("health", "--profile", "mini", "--name", name, "--json", env=mini_env)
    assert health.returncode == 0 and json.loads(health.stdout)["state"] == "HEALTHY"

    ports = run_cli("ports", "--profile", "mini", "--name", name, "--env", env=mini_env)
    assert ports.stdout.strip() == f"NETRA_WEB_PORT={port}"

    restart = run_cli("restart", "--profile", "mini", "--name", name, "--services", "web", env=mini_env)
    assert restart.returncode == 0, restart.stderr

    down = run_cli("down", "--profile", "mini", "--name", name, env=mini_env)
    assert down.returncode == 0, down.stderr
    assert engine.containers(name) == []
    assert name not in run_cli("status", env=mini_env).stdout


def test_two_environments_of_a_profile_need_a_name_and_the_hint_says_how(mini_env):
    names = [json.loads(run_cli("up", "--profile", "mini", "--json", env=mini_env).stdout)["environment"]
             for _ in range(2)]
    ambiguous = run_cli("down", "--profile", "mini", env=mini_env)
    assert ambiguous.returncode == ExitCode.NOT_FOUND and "Traceback" not in ambiguous.stderr
    assert all(name in ambiguous.stderr for name in names) and "--name NAME" in ambiguous.stderr
    assert all(engine.containers(name) for name in names)  # nothing removed
    for name in names:
        assert run_cli("down", "--profile", "mini", "--name", name, env=mini_env).returncode == 0
        assert engine.containers(name) == []


def test_failed_wait_reports_and_leaves_nothing(mini_env):
    manager = StackManager("mini-broken", environ=mini_env)
    with pytest.raises(NotHealthyError) as failure:
        manager.acquire_environment()
    report = failure.value.report
    web = next(s for s in report.services if s.service == "web")
    # Docker's healthcheck passes and the health command fails: UNHEALTHY. Podman runs no
    # healthcheck by itself, so its verdict never comes and the service is still STARTING.
    expected = ("STARTING", "starting") if ON_PODMAN else ("UNHEALTHY", "healthy")
    assert (web.state.value, web.docker_health) == expected and not web.check.ok
    assert "web" in str(failure.value) and "not healthy after 4s" in str(failure.value)
    assert engine.containers(manager.env_name) == []
    assert engine.networks(manager.env_name) == []


def test_cli_failed_up_exit_code_and_report(mini_env):
    result = run_cli("up", "--profile", "mini-broken", "--timeout", "3", env=mini_env)
    assert result.returncode == ExitCode.NOT_HEALTHY
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # the report is a diagnostic: stderr
    assert "web" in result.stderr and "health command output" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: environment mini-broken-")


def test_fixed_project_name_reuses_a_live_environment(mini_env):
    env = {**mini_env, "COMPOSE_PROJECT_NAME": "netra-test-fixed"}
    first = StackManager("mini", environ=env)
    name, ports = first.acquire_environment()
    again, ports_again = StackManager("mini", environ=env).acquire_environment()
    assert (again, ports_again) == (name, ports) == ("netra-test-fixed", ports)
    assert len(engine.containers(name)) == 2  # not a second copy
    first.release_environment()


def test_own_stale_container_is_cleared_before_up(mini_env):
    env = {**mini_env, "COMPOSE_PROJECT_NAME": "netra-test-stale"}
    manager = StackManager("mini", environ=env)
    manager.acquire_environment()
    web = {c.service: c for c in engine.containers("netra-test-stale")}["web"]
    for c in engine.containers("netra-test-stale"):
        engine.client().api.stop(c.id, timeout=1)
    name, ports = StackManager("mini", environ=env).acquire_environment()
    assert http_get(ports["web"]).strip() == "ok"
    assert {c.service: c for c in engine.containers(name)}["web"].id != web.id
    manager.release_environment(name)


def test_health_watch_is_live_until_interrupted(mini_env):
    import signal
    import subprocess
    import sys
    import time

    from ..conftest import REPO

    manager = StackManager("mini", environ=mini_env)
    name, _ = manager.acquire_environment()
    watcher = subprocess.Popen([sys.executable, "-m", "netra_stack", "health", "--profile", "mini", "--name", name,
                                "--watch"], env=mini_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    time.sleep(2.5)
    engine.client().api.stop({c.service: c for c in engine.containers(name)}["worker"].id, timeout=1)
    time.sleep(2.5)  # the watch refreshes every second
    watcher.send_signal(signal.SIGINT)
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == ExitCode.FAILED, err  # the last report was not all HEALTHY
    # it followed the change: one of two stopped is UNHEALTHY, not STOPPED
    assert f"{name} (mini): HEALTHY, 2/2 running" in out and f"{name} (mini): UNHEALTHY, 1/2 running" in out
    manager.release_environment(name)
