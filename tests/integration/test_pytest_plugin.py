"""The pytest plugin and `netra-stack test`, on the sample project (tests/sample_project) against
the example stack: skipping without --real-services, one environment shared by four xdist
workers or one each, failure reports, Ctrl-C, and the test command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import REPO
from .conftest import _our_environments

SAMPLE = REPO / "tests" / "sample_project"
pytestmark = pytest.mark.slow


@pytest.fixture
def sample_env(monkeypatch, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("COMPOSE_PROJECT_NAME", "NETRA_STACK_ENV", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    return {**env, "NETRA_STACK_PROFILE_PATH": str(REPO / "profiles"), "SAMPLE_RECORD": str(tmp_path / "record")}


def pytest_in_sample(*args: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=SAMPLE, env=env, capture_output=True,
                          text=True, timeout=timeout)


def recorded(env: dict) -> list[tuple[str, str]]:
    path = Path(env["SAMPLE_RECORD"])
    return [tuple(line.split()) for line in path.read_text().splitlines()] if path.exists() else []


def test_without_real_services_the_tests_are_skipped_with_a_reason(sample_env):
    result = pytest_in_sample("-rs", env=sample_env)
    assert result.returncode == 0, result.stdout
    assert "14 skipped" in result.stdout
    assert "needs real services (backend, postgres, redis): run pytest with --real-services" in result.stdout
    assert recorded(sample_env) == [] and "netra-stack:" not in result.stdout  # nothing started


@pytest.mark.parametrize("isolate", [False, True], ids=["shared", "isolated"])
def test_xdist_workers_share_one_environment_or_get_one_each(isolate, sample_env):
    before = _our_environments()
    result = pytest_in_sample("-n", "4", "--real-services", "--netra-profile", "alpine-test",
                              *(["--netra-isolate"] if isolate else []), env=sample_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 passed" in result.stdout
    workers = {worker for worker, _ in recorded(sample_env)}
    environments = {name for _, name in recorded(sample_env)}
    assert workers == {"gw0", "gw1", "gw2", "gw3"}
    assert len(environments) == (4 if isolate else 1)  # started once for all, or once per worker
    assert all(name.startswith("alpine-test-") for name in environments)
    assert _our_environments() - before == set()  # and released at the end


def test_a_failing_test_reports_health_and_the_logs_of_the_services_it_used(sample_env):
    result = pytest_in_sample("--real-services", "--netra-profile", "alpine-test", "-k", "deliberately",
                              env={**sample_env, "SAMPLE_FAIL": "1"})
    assert result.returncode == 1, result.stdout
    out = result.stdout
    ((_, name),) = recorded(sample_env)
    assert f"netra-stack health of {name}" in out
    assert f"environment {name} (profile alpine-test): HEALTHY" in out
    for service in ("postgres", "redis", "backend", "auth", "frontend"):
        assert f"  {service:<12} HEALTHY" in out  # the whole environment's health...
    assert "netra-stack logs of backend (last 40 lines)" in out  # ...and the logs of what it used
    assert "backend 1.0.0 listening on :8000" in out
    assert "netra-stack logs of postgres" in out and "database system is ready to accept connections" in out
    assert "netra-stack logs of redis" not in out and "netra-stack logs of auth" not in out


def test_a_failing_test_shows_what_held_what_up_when_a_dependency_went_down(sample_env):
    result = pytest_in_sample("--real-services", "--netra-profile", "alpine-test", "-k", "deliberately",
                              env={**sample_env, "SAMPLE_FAIL": "1", "SAMPLE_STOP": "redis"})
    assert result.returncode == 1, result.stdout
    section = result.stdout.split("netra-stack: what held what up", 1)[1].split("netra-stack logs of", 1)[0]
    assert "UNHEALTHY" in section.splitlines()[1]  # the environment's state, under its name
    redis = [line for line in section.splitlines() if "→ redis  STOPPED" in line]
    assert redis and "✗ holds up" in redis[0] and "backend" in redis[0].split("✗ holds up", 1)[1]


def test_ctrl_c_in_the_middle_of_a_session_leaves_nothing_behind(sample_env, tmp_path):
    before = _our_environments()
    ready = tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-m", "pytest", "--real-services", "--netra-profile", "alpine-test",
                              "-k", "sleeping"], cwd=SAMPLE, env={**sample_env, "SAMPLE_SLEEP": str(ready)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the session never got to its test"
            time.sleep(0.2)
        name = ready.read_text()
        assert name in _our_environments()
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 2, output  # pytest's "interrupted"
    assert "KeyboardInterrupt" in output
    assert _our_environments() - before == set()


def test_netra_stack_test_runs_pytest_against_an_environment_and_exits_with_its_status(sample_env):
    before = _our_environments()
    command = [sys.executable, "-m", "netra_stack", "test", "--profile", "alpine-test"]
    result = subprocess.run([*command, "--categories", "api", "smoke", "--parallel", "2", "--", "-rs"], cwd=SAMPLE,
                            env=sample_env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    # tests/api (a directory) and the marker smoke: 10 api tests (the env test now runs) + 1 smoke test
    assert "11 passed" in result.stdout and "redis_ping" not in result.stdout
    assert len({name for _, name in recorded(sample_env)}) == 1
    assert _our_environments() - before == set()

    failing = subprocess.run([*command, "--", "-k", "deliberately"], cwd=SAMPLE,
                             env={**sample_env, "SAMPLE_FAIL": "1"}, capture_output=True, text=True, timeout=600)
    assert failing.returncode == 1, failing.stdout + failing.stderr  # pytest's status
    assert _our_environments() - before == set()


def test_keep_then_reuse_the_same_environment(sample_env):
    before = _our_environments()
    kept = pytest_in_sample("--real-services", "--netra-profile", "alpine-test", "--netra-keep", "-k", "redis",
                            env=sample_env)
    assert kept.returncode == 0, kept.stdout
    ((_, name),) = recorded(sample_env)
    assert f"kept environment {name}" in kept.stdout and name in _our_environments()
    try:
        reused = pytest_in_sample("--real-services", "--netra-profile", "alpine-test", "--netra-reuse", "-k", "redis",
                                  env=sample_env)
        assert reused.returncode == 0, reused.stdout
        assert f"using environment {name}" in reused.stdout
        assert recorded(sample_env)[1] == ("master", name) and name in _our_environments()  # still up
    finally:
        subprocess.run([sys.executable, "-m", "netra_stack", "down", "--name", name], env=sample_env,
                       capture_output=True, timeout=120)
    assert _our_environments() - before == set()


def test_a_bad_profile_fails_the_tests_that_need_services_with_one_line(sample_env):
    before = _our_environments()
    result = pytest_in_sample("--real-services", "--netra-profile", "no-such-profile", "-k", "redis or postgres",
                              env=sample_env)
    assert result.returncode == 1
    assert "2 errors" in result.stdout
    assert "netra-stack: unknown profile 'no-such-profile'" in result.stdout
    assert "Traceback" not in result.stdout and _our_environments() == before
