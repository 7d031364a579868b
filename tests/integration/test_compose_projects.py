"""Compose files as people write them (tests/fixtures/compat): the project's .env, init services,
fixed container names, healthy gates, stubborn PID 1s, compose profiles; and the bad input such
projects bring (a file compose rejects, a missing external volume, shared bind mounts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

import pytest

from netra_stack import StackManager
from tests.engine import engine
from netra_stack.model import labels as L
from netra_stack.model.errors import ExitCode

from ..conftest import REPO
from .conftest import run_cli

COMPAT = REPO / "tests" / "fixtures" / "compat"


@pytest.fixture
def compat_env(monkeypatch):
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(COMPAT / "profiles"))
    for var in ("COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "GREETING", "MIGRATE_EXIT"):
        monkeypatch.delenv(var, raising=False)
    return dict(os.environ)


def _up(profile: str, env: dict, *extra: str) -> dict:
    result = run_cli("up", "--profile", profile, "--json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
        return answer.read().decode().strip()


def _started(container_id: str) -> datetime:
    return engine.container_by_id(container_id).started


def test_the_projects_env_file_is_read_as_compose_reads_it(compat_env):
    # image: ${DOTENV_IMAGE} comes from .env alone; GREETING from .env, then the process wins
    up = _up("compat-dotenv", compat_env)
    assert _get(up["ports"]["dotenv"]) == "hello from dotenv"
    config = run_cli("config", "--profile", "compat-dotenv", env={**compat_env, "GREETING": "from the shell"})
    assert config.returncode == 0, config.stderr
    assert "GREETING: from the shell" in config.stdout and "image: netra-example/busybox:1.35" in config.stdout
    assert run_cli("down", "--profile", "compat-dotenv", "--name", up["environment"], env=compat_env).returncode == 0


def test_a_service_others_wait_to_complete_is_one_shot_without_saying_so(compat_env):
    up = _up("compat-init", compat_env)
    found = {c.service: c for c in engine.containers(up["environment"])}
    assert found["migrate"].status == "exited" and found["migrate"].exit_code == 0 and found["app"].running
    health = run_cli("health", "--profile", "compat-init", "--json", env=compat_env)
    assert health.returncode == 0, health.stdout
    assert {s["service"]: s["state"] for s in json.loads(health.stdout)["services"]}["migrate"] == "HEALTHY"
    status = run_cli("status", "--profile", "compat-init", "--json", env=compat_env)
    listed = {e["name"]: e for e in json.loads(status.stdout)}[up["environment"]]
    assert listed["state"] == "running" and listed["services"]["migrate"] == "completed", listed  # not "partial"
    run_cli("down", "--profile", "compat-init", "--name", up["environment"], env=compat_env)


def test_a_one_shot_service_that_fails_fails_the_up_with_its_logs(compat_env):
    result = run_cli("up", "--profile", "compat-init", env={**compat_env, "MIGRATE_EXIT": "3"})
    assert result.returncode == ExitCode.NOT_HEALTHY, result.stderr
    assert "migrate: STOPPED (exited (exit 3)" in result.stderr.splitlines()[-1]
    assert "migrating" in result.stdout + result.stderr  # its log lines are in the report


def test_fixed_container_names_are_unique_per_environment_and_still_resolve(compat_env):
    first = _up("compat-names", compat_env)
    second = _up("compat-names", compat_env)
    for up in (first, second):
        names = {c.service: c for c in engine.containers(up["environment"])}
        assert names["db"].name == f"{up['environment']}-compat-db" and names["db"].running
        # api reached db by the name the compose file gives it, on its own environment's network
        assert engine.execute(names["api"].id, ["cat", "/ready"])[1] == "db"
    first_db = {c.service: c for c in engine.containers(first["environment"])}["db"]
    assert engine.container_by_id(first_db.id).running  # the second never touched the first
    for up in (first, second):
        run_cli("down", "--profile", "compat-names", "--name", up["environment"], env=compat_env)


def test_a_kept_container_name_held_by_a_live_environment_fails_naming_it(compat_env):
    first = _up("compat-names-kept", compat_env)
    db = {c.service: c for c in engine.containers(first["environment"])}["db"]
    assert db.name == "compat-db"
    result = run_cli("up", "--profile", "compat-names-kept", env=compat_env)
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    assert f"held by environment {first['environment']}, which is in use" in result.stderr.splitlines()[-1]
    assert engine.container_by_id(db.id).running
    run_cli("down", "--profile", "compat-names-kept", "--name", first["environment"], env=compat_env)


def test_a_dependent_of_a_healthy_gate_starts_on_netra_stacks_check_not_dockers_interval(compat_env):
    # base's healthcheck interval is 30 s: compose would start web only after Docker's first probe
    up = _up("compat-gated", compat_env)
    found = {c.service: c for c in engine.containers(up["environment"])}
    base = engine.client().api.inspect_container(found["base"].id)
    probes = (base["State"].get("Health") or {}).get("Log") or []
    first_probe = min((datetime.fromisoformat(p["Start"][:26]) for p in probes), default=None)
    web_started = _started(found["web"].id).replace(tzinfo=None)
    assert first_probe is None or web_started < first_probe, (web_started, first_probe)
    assert engine.execute(found["base"].id, ["test", "-f", "/ready"])[0] == 0  # but only once base was ready
    assert engine.execute(found["web"].id, ["true"])[0] == 0
    run_cli("down", "--profile", "compat-gated", "--name", up["environment"], env=compat_env)


def test_test_environments_stop_in_2_seconds_unless_the_file_says_otherwise(compat_env):
    up = _up("compat-stubborn", compat_env)
    found = {c.service: engine.client().api.inspect_container(c.id) for c in engine.containers(up["environment"])}
    assert found["stubborn"]["Config"].get("StopTimeout") == 2  # compose's default would be 10
    assert found["graceful"]["Config"].get("StopTimeout") == 3  # the file's stop_grace_period
    run_cli("down", "--profile", "compat-stubborn", "--name", up["environment"], env=compat_env)


def test_ctrl_c_during_removal_says_what_remains_and_a_third_stops_waiting(compat_env, tmp_path):
    # graceful ignores SIGTERM for its 3 s stop timeout: the removal takes that long
    up = _up("compat-stubborn", compat_env)
    child = subprocess.Popen([sys.executable, "-m", "netra_stack", "down", "--profile", "compat-stubborn",
                              "--name", up["environment"]], env={**compat_env, "NO_COLOR": "1"}, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in child.stderr:  # once the removal has begun
        lines.append(line)
        if "removing environment" in line:
            break
    time.sleep(0.3)
    child.send_signal(signal.SIGINT)
    for line in child.stderr:
        lines.append(line)
        if "still removing" in line:
            break
    child.send_signal(signal.SIGINT)
    rest = child.communicate(timeout=60)[1]
    text = "".join(lines) + rest
    assert child.returncode == ExitCode.INTERRUPTED, text
    assert f"still removing {up['environment']}: " in text
    assert "stopped waiting" in text and "netra-stack clean" in text and "Traceback" not in text


def test_compose_profiles_from_the_profile_the_cli_and_compose_profiles(compat_env):
    def services(*extra: str, env: dict = compat_env) -> set[str]:
        config = run_cli("config", "--profile", "compat-profiles", *extra, env=env)
        assert config.returncode == 0, config.stderr
        return {line.strip().rstrip(":") for line in config.stdout.splitlines() if line.startswith("  ") and
                not line.startswith("   ") and line.strip().endswith(":")} & {"always", "debugger", "seeder"}

    assert services() == {"always", "debugger"}
    assert services("--compose-profile", "seed") == {"always", "debugger", "seeder"}
    assert services(env={**compat_env, "COMPOSE_PROFILES": "seed"}) == {"always", "debugger", "seeder"}


def test_an_unknown_compose_profile_is_one_line_listing_the_known_ones(compat_env):
    result = run_cli("up", "--profile", "compat-unknown-profile", env=compat_env)
    assert result.returncode == ExitCode.PROFILE_INVALID
    (line,) = result.stderr.strip().splitlines()
    assert "compose_profiles: unknown compose profile 'debgu'" in line
    assert "the compose files define: debug, seed" in line


def test_a_file_compose_rejects_is_one_line_with_the_file_and_composes_message(compat_env):
    result = run_cli("up", "--profile", "compat-broken", env=compat_env)
    assert result.returncode == ExitCode.PROFILE_INVALID
    (line,) = result.stderr.strip().splitlines()
    assert str(COMPAT / "broken.yml") in line and "comand" in line and "not allowed" in line


def test_a_missing_external_volume_is_named_and_nothing_starts(compat_env):
    result = run_cli("up", "--profile", "compat-external", env={**compat_env, "EXTERNAL_VOLUME": "netra-compat-nope"})
    assert result.returncode == ExitCode.NOT_FOUND, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert "external volume 'netra-compat-nope', which does not exist" in line
    assert "docker volume create netra-compat-nope" in line
    assert not [c for c in engine.summaries() if c.labels.get(L.PROFILE) == "compat-external"]


def test_shared_bind_mounts_and_external_volumes_are_warned_about(compat_env):
    name = f"netra-compat-{int(time.time() * 1000)}"
    engine.client().volumes.create(name, labels={"io.netra-stack.test": "true"})
    env = {**compat_env, "EXTERNAL_VOLUME": name}
    try:
        config = run_cli("config", "--profile", "compat-external", env=env)
        assert config.returncode == 0, config.stderr
        for result in (config, run_cli("up", "--profile", "compat-external", env=env)):
            assert f"store: bind mount {COMPAT / 'data'} (writable)" in result.stderr
            assert "store: external volume shared-data" in result.stderr
    finally:
        for environment in StackManager("compat-external", environ=env).environments("compat-external"):
            StackManager("compat-external", environ=env).release_environment(environment.name)
        engine.client().volumes.get(name).remove(force=True)


def test_config_of_a_running_environment_has_its_real_ports(compat_env):
    up = _up("compat-dotenv", compat_env)
    config = run_cli("config", "--profile", "compat-dotenv", "--name", up["environment"], env=compat_env)
    assert config.returncode == 0, config.stderr
    assert config.stdout.startswith(f"# environment {up['environment']} as it runs")
    assert f'published: "{up["ports"]["dotenv"]}"' in config.stdout
    preview = run_cli("config", "--profile", "compat-dotenv", env=compat_env)
    assert preview.stdout.startswith("# preview of a new environment") and "example" in preview.stdout.splitlines()[0]
    missing = run_cli("config", "--profile", "compat-dotenv", "--name", "compat-dotenv-nope", env=compat_env)
    assert missing.returncode == ExitCode.NOT_FOUND
    run_cli("down", "--profile", "compat-dotenv", "--name", up["environment"], env=compat_env)
