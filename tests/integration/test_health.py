"""Waiting and reporting against services that misbehave in every way (tests/fixtures/health).
Waits are bounded by timeouts; no test asserts on wall-clock speed."""

from __future__ import annotations

import time

import pytest

from netra_stack import StackManager, engine
from netra_stack.manager import Reporter
from netra_stack.errors import NotHealthyError

from ..conftest import REPO

HEALTH_PROFILES = REPO / "tests" / "fixtures" / "health" / "profiles"


@pytest.fixture
def health_env(monkeypatch):
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(HEALTH_PROFILES))
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
    assert "needs: STARTING (health command failing (exit 1); held up by never)" in str(error)
    assert ("never", "waiting for the database that never comes") in manager.reporter.lines  # streamed
    assert engine.containers(manager.env_name) == []


def test_crash_loop_fails_fast(health_env):
    error, _, manager = failing("health-crashloop", health_env)
    crash = service(error.report, "crashloop")
    assert crash.state.value == "STOPPED" and crash.detail.startswith("crash-looping (")
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
    watch = engine.EventWatch(name)
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
