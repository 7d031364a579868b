"""`netra-stack graph` on the real engine: the files' graph, a running environment's with each
service's health, a dependency stopped with `docker stop` marked with what it holds up, the
formats written to files, and a failed `up` that shows what held what up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from netra_stack.model.errors import ExitCode
from tests.engine import engine

from .conftest import REPO, run_cli


def test_the_files_graph_needs_no_engine_state_and_names_edges_and_ports(mini_env):
    shown = run_cli("graph", "--profile", "mini-chain", env=mini_env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == ["mini-chain", "└── web  :8080", "    └── healthy → db  :8080"]


IMPORTED = """
import atexit, runpy, sys
atexit.register(lambda: print(*[m for m in ("docker", "python_on_whales") if m in sys.modules], file=sys.stderr))
sys.argv = ["netra-stack", *sys.argv[1:]]
runpy.run_module("netra_stack", run_name="__main__")
"""


@pytest.mark.parametrize("args, clients", [
    (("graph", "--profile", "mini-chain"), ""),  # compose reads the files: no client library
    (("status",), "docker"),  # the engine answers through the docker SDK
])
def test_a_command_imports_only_the_client_library_it_asks_with(mini_env, args, clients):
    done = subprocess.run([sys.executable, "-c", IMPORTED, *args], capture_output=True, text=True, env=mini_env,
                          cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1:] == ([clients] if clients else [])


def test_a_running_environment_is_drawn_with_health_and_a_stopped_dependency_holds_its_dependent_up(
        mini_env, tmp_path):
    up = run_cli("up", "--profile", "mini-chain", "--json", env=mini_env)
    assert up.returncode == 0, up.stderr
    name = json.loads(up.stdout)["environment"]
    try:
        shown = run_cli("graph", "--name", name, "--profile", "mini-chain", env=mini_env)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert lines[0] == f"{name}  HEALTHY"
        assert lines[1].startswith("└── web  HEALTHY  :") and lines[2].startswith("    └── healthy → db  HEALTHY  :")
        web_port = json.loads(up.stdout)["ports"]["web"]
        assert f":{web_port}→8080" in lines[1]

        db = {c.service: c for c in engine.containers(name)}["db"]
        engine.client().api.stop(db.id, timeout=1)
        shown = run_cli("graph", "--name", name, "--profile", "mini-chain", env=mini_env)
        lines = shown.stdout.splitlines()
        assert lines[0] == f"{name}  UNHEALTHY"
        assert lines[1].startswith("└── web  UNHEALTHY (health command failing (exit 1) after being HEALTHY)")
        assert lines[2].startswith("    └── healthy → db  STOPPED") and lines[2].endswith("✗ holds up web")

        mermaid = run_cli("graph", "--name", name, "--profile", "mini-chain", "-f", "mermaid", "-o",
                          str(tmp_path / "graph.mmd"), env=mini_env)
        assert mermaid.returncode == 0, mermaid.stderr
        text = (tmp_path / "graph.mmd").read_text()
        assert "s_web -->|healthy| s_db" in text and "class s_db stopped" in text and "linkStyle 0 stroke:" in text
        image = run_cli("graph", "--name", name, "--profile", "mini-chain", "-f", "png", "-o", str(tmp_path / "g.png"),
                        env=mini_env)
        assert image.returncode == 0, image.stderr
        assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    finally:
        run_cli("down", "--profile", "mini-chain", "--name", name, env=mini_env)


def test_a_failed_up_shows_what_held_what_up(mini_env):
    failed = run_cli("up", "--profile", "mini-chain-stuck", env=mini_env)
    assert failed.returncode == ExitCode.NOT_HEALTHY, failed.stderr
    err = failed.stderr
    assert "what held what up:" in err
    held = err.split("what held what up:", 1)[1].splitlines()
    assert held[2] == "└── web  not started"
    assert held[3].startswith("    └── healthy → db  STARTING") and held[3].endswith("✗ holds up web")
    assert "Traceback" not in err
