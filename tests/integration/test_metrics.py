"""Resource metrics on the real engine (tests/fixtures/metrics): `stats` against services whose
use is known, OOM kills and CPU throttling, a plugin's own measurement, run records from
`up --record`, `advise --write` and the limit `config` then applies, and the pytest plugin's
summary and OOM report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ..helpers import FIXTURES
from .conftest import run_cli

METRICS = FIXTURES / "metrics"
MIB = 2**20
HELD = 128 * MIB  # what `alloc` allocates and touches


@pytest.fixture
def metrics_env(tmp_path, monkeypatch) -> dict[str, str]:
    """A copy of the fixture (advise --write writes beside its profile) and a state folder of its own."""
    root = tmp_path / "metrics"
    shutil.copytree(METRICS, root)
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(root / "profiles"))
    monkeypatch.setenv("NETRA_STACK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    return dict(os.environ)


def up(env: dict, *args: str) -> str:
    done = run_cli("up", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["environment"]


def stats(env: dict, name: str) -> dict:
    done = run_cli("stats", "--name", name, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def by_service(report: dict) -> dict[str, dict]:
    return {row["service"]: row for row in report["services"]}


def oom_kill(name: str) -> None:
    """Make `hog` grow past its 64 MiB limit, and wait (bounded) until the kernel has killed it."""
    container = f"{name}-hog-1"
    subprocess.run(["docker", "exec", container, "touch", "/tmp/go"], check=True, timeout=30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = subprocess.run(["docker", "inspect", "-f", "{{.State.Status}} {{.State.OOMKilled}}", container],
                               capture_output=True, text=True, timeout=30).stdout.split()
        if state == ["exited", "true"]:
            return
        time.sleep(0.2)
    pytest.fail(f"{container} was not OOM-killed within 60 s: {state}")


def test_stats_reports_what_services_use_their_limits_throttling_and_an_oom_kill(metrics_env):
    name = up(metrics_env, "--profile", "metrics-plugin")
    rows = by_service(stats(metrics_env, name))
    assert set(rows) == {"alloc", "idle", "hog", "spin"}
    held = rows["alloc"]["memory_bytes"] - rows["idle"]["memory_bytes"]  # the same Python, holding nothing
    assert abs(held - HELD) <= 0.1 * HELD, f"alloc holds {held / MIB:.1f} MiB more than idle, not 128"
    assert rows["alloc"]["memory_limit_bytes"] == 512 * MIB and rows["idle"]["memory_limit_bytes"] == 256 * MIB
    assert rows["alloc"]["memory_peak_bytes"] >= rows["alloc"]["memory_bytes"]
    assert rows["spin"]["cpu_limit"] == 0.2 and rows["spin"]["throttled_periods"] > 0
    assert 10 <= rows["spin"]["cpu_percent"] <= 30  # a busy loop held to a fifth of a core
    assert rows["alloc"]["pids"] >= 1 and rows["alloc"]["net_rx_bytes"] > 0
    assert rows["alloc"]["extra"] == {"held_mib": 128.0}  # the plugin's measurement (netra_collect_samples)

    oom_kill(name)
    rows = by_service(stats(metrics_env, name))
    assert rows["hog"]["status"] == "exited" and rows["hog"]["oom_kills"] == 1
    assert rows["alloc"]["oom_kills"] == 0

    table = run_cli("stats", "--name", name, env=metrics_env)
    assert table.returncode == 0, table.stderr
    hog = next(line for line in table.stdout.splitlines() if line.startswith("hog"))
    assert "(exited)" in hog and "1 OOM-killed" in hog
    assert any(line.startswith("total") for line in table.stdout.splitlines())


def test_stats_watch_prints_a_line_per_service_and_round_when_not_a_terminal(metrics_env):
    name = up(metrics_env, "--profile", "metrics")
    watch = subprocess.Popen([sys.executable, "-m", "netra_stack", "stats", "--name", name, "--watch"],
                             env=metrics_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while len(lines) < 8:  # two rounds of four services
            line = watch.stdout.readline()
            assert line, watch.stderr.read()
            lines.append(line)
    finally:
        watch.terminate()
        watch.wait(timeout=30)
    assert {line.split()[1] for line in lines} == {"alloc", "idle", "hog", "spin"}
    assert len({line.split()[0] for line in lines}) >= 2  # rounds a second apart
    assert all(" mem " in line and "/512MiB" in line for line in lines if line.split()[1] == "alloc")


def test_stats_of_an_environment_that_does_not_exist_names_the_known_ones(metrics_env):
    name = up(metrics_env, "--profile", "metrics")
    done = run_cli("stats", "--name", "no-such-env", env=metrics_env)
    assert done.returncode == 4
    assert "no netra-stack environment named 'no-such-env'" in done.stderr and name in done.stderr
    assert "Traceback" not in done.stderr


def wait_for_record(env: dict, profile: str) -> dict:
    """The run record, once the recorder has written it after the environment went (bounded)."""
    folder = Path(env["NETRA_STACK_STATE_DIR"]) / "runs" / profile
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = sorted(folder.glob("*.json"))
        if found:
            record = json.loads(found[0].read_text())
            if record["services"].get("hog", {}).get("oom_kills"):
                return record
        time.sleep(0.5)
    pytest.fail(f"no run record with hog's OOM kill in {folder}")


def test_a_recorded_run_makes_advise_raise_a_killed_limit_and_config_applies_it(metrics_env):
    name = up(metrics_env, "--profile", "metrics", "--record")
    time.sleep(3)  # a few rounds of samples before the kill
    oom_kill(name)
    time.sleep(2)
    assert run_cli("down", "--name", name, "--profile", "metrics", env=metrics_env).returncode == 0
    record = wait_for_record(metrics_env, "metrics")
    hog, alloc = record["services"]["hog"], record["services"]["alloc"]
    assert hog["memory_limit_bytes"] == 64 * MIB and 16 * MIB <= hog["peak_memory_bytes"] <= 64 * MIB
    assert abs(alloc["peak_memory_bytes"] - HELD) <= 0.15 * HELD and len(alloc["points"]) >= 3
    assert record["services"]["spin"]["throttled_periods"] > 0
    assert record["machine"]["memory_bytes"] > 0 and record["machine"]["cpus"] >= 1

    runs = run_cli("runs", "--profile", "metrics", env=metrics_env)
    assert runs.returncode == 0 and name in runs.stdout, runs.stderr

    advised = run_cli("advise", "--profile", "metrics", "--json", env=metrics_env)
    assert advised.returncode == 0, advised.stderr
    advice = {r["service"]: r for r in json.loads(advised.stdout)["recommendations"]}
    assert advice["hog"]["memory_bytes"] > 64 * MIB >= hog["peak_memory_bytes"]  # above the limit it was killed at
    assert any("OOM-killed" in flag for flag in advice["hog"]["flags"])
    assert advice["alloc"]["memory_bytes"] > alloc["peak_memory_bytes"]

    written = run_cli("advise", "--profile", "metrics", "--write", env=metrics_env)
    assert written.returncode == 0, written.stderr
    layer = Path(metrics_env["NETRA_STACK_PROFILE_PATH"]) / "metrics.limits.toml"
    assert layer.is_file() and "metrics.limits.toml" in written.stdout + written.stderr
    config = run_cli("config", "--profile", "metrics", env=metrics_env)
    assert config.returncode == 0, config.stderr
    limits = {service: spec.get("mem_limit") for service, spec in yaml.safe_load(config.stdout)["services"].items()}
    assert int(limits["hog"]) == advice["hog"]["memory_bytes"]  # the layer's limit, applied
    assert int(limits["alloc"]) == advice["alloc"]["memory_bytes"]


OOM_TEST = '''
import subprocess, time
import pytest

@pytest.mark.real_services("hog")
def test_queries_while_hog_grows(netra_env):
    container = f"{netra_env.name}-hog-1"
    subprocess.run(["docker", "exec", container, "touch", "/tmp/go"], check=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Status}}", container], capture_output=True, text=True).stdout.strip() != "exited":
        time.sleep(0.2)
    time.sleep(2)  # the recorder's next rounds
    assert False, "the query failed"

@pytest.mark.real_services("alloc")
def test_alloc_is_fine(netra_env):
    assert "alloc" in netra_env.services  # nothing is killed while this one runs
'''


def test_the_pytest_plugin_reports_an_oom_kill_first_and_peaks_against_limits(metrics_env, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_oom.py").write_text(OOM_TEST)
    env = {k: v for k, v in metrics_env.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--real-services",
                           "--netra-profile", "metrics", "test_oom.py"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert done.returncode == 1 and "1 failed, 1 passed" in out, out + done.stderr
    report = out[out.index("test_queries_while_hog_grows"):]
    assert report.index("netra-stack: OOM kill") < report.index("netra-stack health of")  # first
    assert "service hog was OOM-killed during this test (memory limit 64MiB" in report
    summary = out[out.index("netra-stack: peak memory against the limit"):]
    assert "OOM-killed 1x" in next(line for line in summary.splitlines() if line.startswith("hog"))
    assert "of 512MiB" in next(line for line in summary.splitlines() if line.startswith("alloc"))
    assert list((Path(env["NETRA_STACK_STATE_DIR"]) / "runs" / "metrics").glob("*.json"))  # recorded by default
