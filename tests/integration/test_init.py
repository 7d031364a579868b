"""`netra-stack init` on an ordinary compose project (tests/fixtures/init), and the profile it writes
brought up twice side by side on the real engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import urllib.request

from tests.engine import engine
from netra_stack.model.errors import ExitCode
from netra_stack.planning.init import MEMORY_HINT
from netra_stack.model.profiles import load_profile

from ..conftest import REPO
from .conftest import run_cli

PROJECT = REPO / "tests" / "fixtures" / "init"


def http_get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return response.read().decode()


def copy_project(tmp_path):
    root = tmp_path / "shop"
    shutil.copytree(PROJECT, root)
    return root


def test_init_writes_a_profile_that_comes_up_twice_side_by_side(tmp_path):
    root = copy_project(tmp_path)
    profile_path = root / "profiles" / "test.toml"

    printed = run_cli("init", "--dir", str(root), "--print")
    assert printed.returncode == 0, printed.stderr
    assert not (root / "profiles").exists()  # --print writes nothing

    made = run_cli("init", "--dir", str(root))
    assert made.returncode == 0, made.stderr
    assert str(profile_path) in made.stdout
    text = profile_path.read_text()
    assert text == printed.stdout
    data = tomllib.loads(text)
    assert data["compose_files"] == ["compose.yaml"] and data["ports"] == {"strategy": "range", "range": [30000, 40000]}
    assert data["services"] == {
        "setup": {"one_shot": True},
        "web": {"health": ["/bin/sh", "-c", "wget -q -O /dev/null http://127.0.0.1:80/ || exit 1"]},
    }
    assert text.count(MEMORY_HINT) == 2
    assert load_profile(str(profile_path)).root == root

    again = run_cli("init", "--dir", str(root))
    assert again.returncode == ExitCode.USAGE
    assert again.stderr.strip().count("\n") == 0 and str(profile_path) in again.stderr and "--print" in again.stderr
    assert profile_path.read_text() == text
    reprinted = run_cli("init", "--dir", str(root), "--print")  # --print never minds an existing profile
    assert reprinted.returncode == 0 and reprinted.stdout == text, reprinted.stderr

    env = {**os.environ, "NETRA_STACK_PROFILE_PATH": str(root / "profiles")}
    env.pop("COMPOSE_PROJECT_NAME", None)
    env.pop("WEB_IMAGE", None)  # the project's .env gives it
    command = [sys.executable, "-m", "netra_stack", "up", "--profile", "test", "--json"]
    ups = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root)
           for _ in range(2)]
    results = [up.communicate(timeout=300) for up in ups]
    for up, (out, err) in zip(ups, results):
        assert up.returncode == 0, err
    environments = [json.loads(out) for out, _ in results]
    names = [e["environment"] for e in environments]
    ports = [e["ports"]["web"] for e in environments]
    assert names[0] != names[1] and ports[0] != ports[1]
    for name, port in zip(names, ports):
        assert name.startswith("test-") and 30000 <= port <= 40000
        assert http_get(port).strip() == "hello-from-dotenv"  # GREETING from the project's .env
        health = run_cli("health", "--profile", "test", "--name", name, "--json", env=env)
        assert health.returncode == 0 and json.loads(health.stdout)["state"] == "HEALTHY", health.stdout

    for name in names:
        down = run_cli("down", "--profile", "test", "--name", name, env=env)
        assert down.returncode == 0, down.stderr
        assert engine.containers(name) == []


def test_init_reports_what_compose_rejects_and_what_is_missing(tmp_path):
    root = copy_project(tmp_path)
    rejected = run_cli("init", "--dir", str(root), "-f", "broken.yaml")
    assert rejected.returncode == ExitCode.PROFILE_INVALID
    assert rejected.stderr.strip().count("\n") == 0 and "neither an image nor a build context" in rejected.stderr
    assert "broken.yaml" in rejected.stderr and "Traceback" not in rejected.stderr
    assert not (root / "profiles").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    missing = run_cli("init", "--dir", str(empty))
    assert missing.returncode == ExitCode.NOT_FOUND
    assert missing.stderr.strip().count("\n") == 0 and str(empty) in missing.stderr and "compose.yaml" in missing.stderr
