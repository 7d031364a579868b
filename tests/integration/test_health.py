"""Waiting and reporting against services that misbehave in every way (tests/fixtures/health).
Waits are bounded by timeouts; no test asserts on wall-clock speed."""

from __future__ import annotations

import json
import secrets
import time

import pytest

from netra_stack import StackManager
from tests.engine import engine
from netra_stack.lifecycle.context import Reporter
from netra_stack.model.errors import ExitCode, NotHealthyError

from ..conftest import REPO
from ..helpers import ON_PODMAN
from .conftest import run_cli

pytestmark = pytest.mark.podman  # also run against Podman


HEALTH_PROFILES = REPO / "tests" / "fixtures" / "health" / "profiles"


@pytest.fixture
def health_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(HEALTH_PROFILES))
    monkeypatch.setenv("NETRA_STACK_STATE_DIR", str(tmp_path / "state"))  # the health record goes with it
    monkeypatch.setenv("DOCKER_TAG", f"t{secrets.token_hex(4)}")  # images built here are this test's own
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    import os

    return dict(os.environ)


class Recorder(Reporter):
    """Keeps every report a wait produced, and the log lines it streamed."""

    stream_logs = True

    def __init__(self) -> None:
        self.reports, self.lines = [], []

    def health(self, report):
        self.reports.append(report)

    def log_line(self, service, line):
        self.lines.append((service, line))

    def states(self, service: str) -> list[str]:
        return [next(s.state.value for s in r.services if s.service == service) for r in self.reports]


def failing(profile: str, env: dict, **options) -> tuple[NotHealthyError, float, StackManager]:
    manager = StackManager(profile, environ=env, reporter=Recorder(), **options)
    started = time.monotonic()
    with pytest.raises(NotHealthyError) as failure:
        manager.acquire_environment()
    return failure.value, time.monotonic() - started, manager


def service(report, name):
    return next(s for s in report.services if s.service == name)


def test_never_healthy_times_out_with_logs_and_the_dependency_named(health_env):
    wait_started = []

    class Timed(Recorder):
        def health(self, report):
            if not wait_started:
                wait_started.append(time.monotonic())
            super().health(report)

    manager = StackManager("health-never", environ=health_env, reporter=Timed())
    with pytest.raises(NotHealthyError) as failure:
        manager.acquire_environment()
    waited = time.monotonic() - wait_started[0]
    assert waited < 3 + 2  # the profile's wait_timeout is 3 s: the timeout is honoured
    error = failure.value
    assert "not healthy after 3s" in str(error)
    never = service(error.report, "never")
    assert never.state.value == "STARTING" and never.check.exit_code == 1
    assert "waiting for the database that never comes" in never.logs
    assert "needs: STARTING (health command failing (exit 1); held up by never (STARTING))" in str(error)
    assert ("never", "waiting for the database that never comes") in manager.reporter.lines  # streamed
    assert engine.containers(manager.env_name) == []


def test_crash_loop_fails_fast(health_env):
    error, _, manager = failing("health-crashloop", health_env)
    crash = service(error.report, "crashloop")
    # Docker shows the loop as `restarting`, and two restarts make it one; Podman restarts at
    # once, and whichever exit a probe sees first ends the wait (docs/engines.md)
    looping = crash.detail.startswith("crash-looping (") or ON_PODMAN and crash.detail == "exited (exit 1)"
    assert crash.state.value == "STOPPED" and looping, crash.detail
    assert "crashing on purpose" in crash.logs
    assert "failed" in str(error)  # not the 20 s timeout
    assert engine.containers(manager.env_name) == []


def test_exit_fails_fast_with_its_code_and_logs(health_env):
    error, _, manager = failing("health-exits", health_env)
    gone = service(error.report, "exits")
    assert gone.state.value == "STOPPED" and gone.exit_code == 3 and "giving up" in gone.logs
    assert "environment health-exits-" in str(error) and "failed" in str(error)


def test_slow_starter_is_seen_ready_before_dockers_first_probe(health_env):
    recorder = Recorder()
    manager = StackManager("health-slow", environ=health_env, reporter=recorder)
    name, _ = manager.acquire_environment()  # wait_timeout 20 s < Docker's 30 s interval
    slow = service(recorder.reports[-1], "slow")
    assert slow.state.value == "HEALTHY" and slow.docker_health == "starting" and slow.container_check.ok
    assert "STARTING" in recorder.states("slow")
    manager.release_environment(name)


def test_dockers_test_is_run_only_once_the_services_own_command_passes(health_env):
    recorder = Recorder()
    manager = StackManager("health-slow-checked", environ=health_env, reporter=recorder)
    name, _ = manager.acquire_environment()
    slows = [service(report, "slow") for report in recorder.reports]
    failing = [s for s in slows if s.check is not None and not s.check.ok]
    assert failing and all(s.state.value == "STARTING" and s.container_check is None for s in failing)
    assert slows[-1].state.value == "HEALTHY" and slows[-1].check.ok and slows[-1].container_check.ok
    manager.release_environment(name)


def test_a_health_command_that_is_dockers_test_runs_once_per_round(health_env):
    # the command appends to /passes each time it passes; Docker's own first probe comes after 30 s
    recorder = Recorder()
    manager = StackManager("health-counted", environ=health_env, reporter=recorder)
    name, _ = manager.acquire_environment()
    counted = service(recorder.reports[-1], "counted")
    assert counted.state.value == "HEALTHY" and counted.docker_health == "starting" and counted.container_check.ok
    container = engine.containers(name)[0]
    assert engine.execute(container.id, ["cat", "/passes"])[1].split() == ["passed"]
    manager.release_environment(name)


def test_waits_wake_on_container_changes_not_on_their_own_execs(health_env):
    manager = StackManager("health-plain", environ=health_env)
    name, _ = manager.acquire_environment()
    plain = next(c for c in engine.containers(name) if c.service == "plain")
    watch = engine.events(name)
    try:
        assert engine.execute(plain.id, ["true"])[0] == 0
        assert not watch.wake.wait(1.0)  # its events (exec_create, exec_start, exec_die) came and went
        engine.client().api.restart(plain.id, timeout=1)
        assert watch.wake.wait(30)
    finally:
        watch.close()
    manager.release_environment(name)


def test_services_are_checked_while_compose_still_starts_later_ones(health_env):
    # compose starts `later` only once Docker's first probe of `first` has passed (2 s after its
    # start); the wait must not begin only then: `first` is checked while compose still waits.
    manager = StackManager("health-early", environ=health_env)
    assert manager.awaited_healthy == {"first"}  # the services checked while compose's `up` runs
    name, _ = manager.acquire_environment()
    found = {c.service: c for c in engine.containers(name)}
    checked = float(engine.execute(found["first"].id, ["cat", "/checked"])[1])
    started = float(engine.execute(found["later"].id, ["cat", "/started"])[1])
    assert checked < started, f"first checked at {checked}, later started at {started}"
    assert manager.get_health_report().healthy
    manager.release_environment(name)


def test_one_shot_service_that_exits_0_is_done(health_env):
    manager = StackManager("health-oneshot", environ=health_env)
    name, _ = manager.acquire_environment()
    report = manager.get_health_report()
    migrate = service(report, "migrate")
    assert report.healthy and migrate.container_state == "exited" and migrate.detail == "completed (exit 0)"
    manager.release_environment(name)


def test_no_healthcheck_and_service_level_only(health_env):
    recorder = Recorder()
    manager = StackManager("health-plain", environ=health_env, reporter=recorder)
    name, _ = manager.acquire_environment()
    plain, svconly = service(recorder.reports[-1], "plain"), service(recorder.reports[-1], "svconly")
    assert plain.state.value == "HEALTHY" and plain.docker_health is None and plain.check is None
    assert svconly.state.value == "HEALTHY" and svconly.docker_health is None and svconly.check.ok
    assert "STARTING" in recorder.states("svconly")  # its command failed until /ready appeared
    manager.release_environment(name)


def test_restart_reenters_starting_and_is_waited_for(health_env):
    recorder = Recorder()
    manager = StackManager("health-slow", environ=health_env, reporter=recorder)
    name, _ = manager.acquire_environment()
    recorder.reports.clear()
    report = manager.restart_service("slow")
    assert report.healthy
    assert recorder.states("slow")[0] == "STARTING" and recorder.states("slow")[-1] == "HEALTHY"
    manager.release_environment(name)


# --- states after `up` -------------------------------------------------------------------------------


def health_json(name: str, env: dict) -> tuple[int, dict]:
    """`netra-stack health --json` in a fresh process: its exit code and report."""
    result = run_cli("health", "--profile", "health-trio", "--name", name, "--json", env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def by_service(found: dict) -> dict[str, dict]:
    return {s["service"]: s for s in found["services"]}


def test_a_check_that_fails_after_success_is_unhealthy_not_starting(health_env):
    manager = StackManager("health-trio", environ=health_env)
    name, _ = manager.acquire_environment()
    web = {c.service: c for c in engine.containers(name)}["web"]
    assert engine.execute(web.id, ["rm", "/ready"])[0] == 0  # its health command fails from now on
    code, found = health_json(name, health_env)
    assert code == ExitCode.FAILED and found["state"] == "UNHEALTHY" and found["running"] == "3/3"
    web_line = by_service(found)["web"]
    assert web_line["state"] == "UNHEALTHY" and web_line["detail"] == "health command failing (exit 1) after being HEALTHY"
    assert {s: line["state"] for s, line in by_service(found).items() if s != "web"} == {"api": "HEALTHY", "db": "HEALTHY"}
    assert engine.execute(web.id, ["touch", "/ready"])[0] == 0  # and it recovers
    assert health_json(name, health_env)[1]["state"] == "HEALTHY"
    engine.client().api.restart(web.id, timeout=1)  # a new run: STARTING again until its first success
    assert engine.execute(web.id, ["rm", "-f", "/ready"])[0] == 0
    restarted = by_service(manager.get_health_report().as_dict())["web"]
    assert restarted["state"] in ("STARTING", "HEALTHY")  # its command re-creates /ready at start
    manager.release_environment(name)


def test_one_stopped_of_three_is_partly_running_and_named_on_its_dependents_line(health_env):
    manager = StackManager("health-trio", environ=health_env)
    name, _ = manager.acquire_environment()
    found = {c.service: c for c in engine.containers(name)}
    engine.client().api.stop(found["db"].id, timeout=1)
    code, report = health_json(name, health_env)
    assert code == ExitCode.FAILED
    assert (report["state"], report["running"]) == ("UNHEALTHY", "2/3")  # some running: not STOPPED
    lines = by_service(report)
    assert lines["db"]["state"] == "STOPPED" and lines["web"]["state"] == "HEALTHY"
    assert lines["api"]["state"] == "UNHEALTHY" and lines["api"]["held_up_by"] == ["db"]
    text = run_cli("health", "--profile", "health-trio", "--name", name, env=health_env).stdout
    assert f"{name} (health-trio): UNHEALTHY, 2/3 running" in text
    api_line = next(line for line in text.splitlines() if line.strip().startswith("api "))
    assert api_line.endswith("held up by db (STOPPED)"), text
    for container in (found["api"], found["web"]):
        engine.client().api.stop(container.id, timeout=1)
    code, report = health_json(name, health_env)
    assert (code, report["state"], report["running"]) == (ExitCode.FAILED, "STOPPED", "0/3")  # none running
    manager.release_environment(name)


# --- checks from the host, for images without a shell ------------------------------------------------------


def test_http_check_passes_on_an_image_without_a_shell(health_env, built_images):
    recorder = Recorder()
    manager = StackManager("health-http", environ=health_env, reporter=recorder)
    name, _ = manager.acquire_environment()
    noshell = service(recorder.reports[-1], "noshell")
    assert noshell.state.value == "HEALTHY" and noshell.detail == "http check passes"
    assert (noshell.check.kind, noshell.check.output, noshell.check.exit_code) == ("http", "HTTP 200", None)
    container = engine.containers(name)[0]
    assert engine.execute(container.id, ["sh", "-c", "true"])[0] != 0  # no shell: nothing runs inside it
    assert manager.get_health_report().healthy
    manager.release_environment(name)


def test_http_check_with_the_wrong_status_fails_naming_the_status(health_env, built_images):
    error, _, _ = failing("health-http-wrong", health_env)
    noshell = service(error.report, "noshell")
    assert noshell.state.value == "STARTING" and not noshell.check.ok  # never healthy: still starting
    assert noshell.check.output == "HTTP 404, expected 200"
    assert "noshell: STARTING (http check failing (HTTP 404, expected 200))" in str(error)


def test_tcp_check_connects_from_the_host(health_env, built_images):
    manager = StackManager("health-tcp", environ=health_env)
    name, _ = manager.acquire_environment()
    noshell = service(manager.get_health_report(), "noshell")
    assert noshell.state.value == "HEALTHY" and noshell.check.kind == "tcp"
    assert noshell.check.output.startswith("connected to ") and noshell.check.output.endswith(":8080")
    manager.release_environment(name)


def test_tcp_check_fails_where_nothing_listens_though_the_port_is_published(health_env, built_images):
    # docker-proxy accepts a connection to a published port even when nothing listens behind it:
    # the check must not take that for the service.
    manager = StackManager("health-tcp-closed", environ=health_env)
    name, _ = manager.acquire_environment(wait=False)
    assert 9999 in {b.container_port for b in manager.get_ports(name)}
    with pytest.raises(NotHealthyError) as failure:
        manager.wait_for_services(timeout=3)
    noshell = service(failure.value.report, "noshell")
    assert not noshell.check.ok and noshell.check.output.startswith("connection refused at ")
    assert noshell.check.output.endswith(":9999")
    manager.release_environment(name)


def test_log_check_waits_until_the_line_has_appeared_times_times(health_env):
    recorder = Recorder()
    manager = StackManager("health-log", environ=health_env, reporter=recorder)
    name, _ = manager.acquire_environment()
    outputs = [service(r, "logline").check.output for r in recorder.reports if service(r, "logline").check]
    assert "'ready to serve' seen 0 of 2 times" in outputs and "'ready to serve' seen 1 of 2 times" in outputs
    assert outputs[-1] == "'ready to serve' seen 2 of 2 times"
    assert recorder.states("logline")[0] == "STARTING" and recorder.states("logline")[-1] == "HEALTHY"
    assert service(recorder.reports[-1], "logline").detail == "log check passes"
    manager.release_environment(name)
