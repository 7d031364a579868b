"""Every policy replaced by a user plugin — one loaded from a file, one installed as a package with
an entry point — changes what really happens on the engine; broken plugins are named."""

from __future__ import annotations

import importlib.metadata
import json
import socket

import pytest

from netra_stack import StackManager
from tests.engine import engine
from netra_stack.model.errors import EngineError, ExitCode, NotHealthyError

from .conftest import run_cli, session_containers, session_networks


def built_layer(name: str) -> str:
    """The layer the Dockerfile's last RUN makes (it holds the build time): the same layer when
    it came from the layer cache."""
    return engine.client().api.inspect_image(name)["RootFS"]["Layers"][-1]


def no_new_containers(before: set[str]) -> bool:
    return {c.id for c in session_containers()} == before


def needs_entry_point_plugin() -> None:
    """The tests' entry-point plugin package is visible only to the test run that scripts/test
    starts (it puts the package on PYTHONPATH): say so, rather than fail on its missing effects."""
    try:
        importlib.metadata.distribution("netra-test-plugin")
        return
    except importlib.metadata.PackageNotFoundError:
        pass
    pytest.fail("the tests' entry-point plugin (tests/fixtures/entrypoint_plugin) is not visible: run the "
                "tests with scripts/test (e.g. scripts/test tests/integration/test_plugins.py)", pytrace=False)


# --- ports ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile, low, service", [("mini-ports-plugin", 41000, "web"),
                                                  ("mini-ep-ports", 42000, "web-public")])
def test_port_plugins_choose_and_discover_the_bound_ports(profile, low, service, mini_env):
    if profile.startswith("mini-ep-"):
        needs_entry_point_plugin()
    manager = StackManager(profile, environ=mini_env)
    name, ports = manager.acquire_environment()
    assert list(ports) == [service]  # mini-ep-ports also discovers web under an alias
    assert low <= ports[service] < low + 1000  # the profile's own range is 30000-40000
    bound = engine.client().api.inspect_container({c.service: c for c in engine.containers(name)}["web"].id)
    assert {int(b["HostPort"]) for b in bound["NetworkSettings"]["Ports"]["8080/tcp"]} == {ports[service]}
    manager.release_environment(name)


# --- health ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile, service, detail", [
    ("mini-health-plugin", "worker", "in maintenance (health_veto plugin)"),
    ("mini-ep-health", "web", "vetoed by netra_test_plugin"),
])
def test_health_plugins_decide(profile, service, detail, mini_env):
    if profile.startswith("mini-ep-"):
        needs_entry_point_plugin()
    manager = StackManager(profile, environ=mini_env)
    with pytest.raises(NotHealthyError) as failure:
        manager.acquire_environment(timeout=60)
    judged = next(s for s in failure.value.report.services if s.service == service)
    assert judged.state.value == "STOPPED" and judged.detail == detail
    assert "failed" in str(failure.value)  # at once, not after the 60 s timeout
    assert engine.containers(manager.env_name) == []


def test_disabling_the_builtin_health_policy(mini_env):
    # web's health command is `false`; with netra.health blocked, a running service counts
    manager = StackManager("mini-plugin-disabled", environ=mini_env)
    name, _ = manager.acquire_environment()
    web = next(s for s in manager.get_health_report().services if s.service == "web")
    assert web.state.value == "HEALTHY" and web.check is None
    manager.release_environment(name)


# --- conflicts ------------------------------------------------------------------------------------

def test_file_conflict_plugin_refuses_before_anything_starts(mini_env):
    before = {c.id for c in session_containers()}
    with pytest.raises(EngineError) as refused:
        StackManager("mini-conflict-plugin", environ=mini_env).acquire_environment()
    assert "deployments are frozen (conflict_freeze plugin)" in str(refused.value)
    assert "plugins/conflict_freeze.py" in refused.value.line  # the hint names the plugin
    assert no_new_containers(before)


def test_entry_point_conflict_plugin_retries_a_port_clash(mini_env):
    needs_entry_point_plugin()
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        before = {c.id for c in session_containers()}
        result = run_cli("up", "--profile", "mini-ep-conflicts",
                         env={**mini_env, "MINI_WEB_PORT": str(holder.getsockname()[1])})
        assert result.returncode == ExitCode.ENGINE_ERROR
        # the built-in gives up at once on a fixed port; the plugin makes it try three times
        assert "attempt 3/3" in result.stderr and "netra_test_plugin insists (attempt 2)" in result.stderr
        assert no_new_containers(before)
    finally:
        holder.close()


# --- build cache ----------------------------------------------------------------------------------

def test_cache_plugins_change_what_is_built(mini_build):
    needs_entry_point_plugin()
    mini_env, _ = mini_build
    image = f"netra-test/mini-built:{mini_env['DOCKER_TAG']}"
    manager = StackManager("mini-build", environ=mini_env, no_cache_app_code=False)  # layer cache
    name, _ = manager.acquire_environment()
    manager.release_environment(name)
    cached = built_layer(image)

    name, _ = StackManager("mini-build", environ=mini_env, no_cache_app_code=False).acquire_environment()
    StackManager("mini-build", environ=mini_env).release_environment(name)
    assert built_layer(image) == cached  # built-in layer cache: same image

    result = run_cli("up", "--profile", "mini-cache-plugin", "--json", env=mini_env)  # file plugin: no build
    assert result.returncode == 0, result.stderr
    assert "built: not built (never_build plugin keeps the image of built)" in result.stderr
    assert built_layer(image) == cached
    run_cli("down", "--profile", "mini-cache-plugin", "--name", json.loads(result.stdout)["environment"], env=mini_env)

    result = run_cli("up", "--profile", "mini-ep-cache", "--json", env=mini_env)  # entry point: fresh build
    assert result.returncode == 0, result.stderr
    assert "(netra_test_plugin wants a fresh build)" in result.stderr
    assert "built without the layer cache" in result.stderr
    assert built_layer(image) != cached
    run_cli("down", "--profile", "mini-ep-cache", "--name", json.loads(result.stdout)["environment"], env=mini_env)


# --- planning and lifecycle hooks ----------------------------------------------------------------

def events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_planning_and_lifecycle_hooks(mini_build, tmp_path, monkeypatch):
    mini_env, _ = mini_build  # the recorder adds the built service
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("NETRA_TEST_RECORD", str(record))  # read by the plugin from its process
    env = {**mini_env, "NETRA_TEST_RECORD": str(record)}
    manager = StackManager("mini-recorder", environ=env, no_cache_app_code=False)
    name, _ = manager.acquire_environment()
    assert name.startswith("recorded-")  # netra_environment_name
    assert {c.service for c in engine.containers(name)} == {"web", "worker", "built"}  # netra_compose_files
    manager.release_environment(name)
    assert [e["event"] for e in events(record)] == ["before_up", "after_up", "before_down", "after_down"]
    assert events(record)[1]["ports"]["web"] > 0


def test_on_failure_diagnostics(mini_build, tmp_path):
    mini_env, _ = mini_build
    record = tmp_path / "record.jsonl"
    env = {**mini_env, "NETRA_TEST_RECORD": str(record)}
    result = run_cli("up", "--profile", "mini-recorder-failing", "--cache", env=env)
    assert result.returncode == ExitCode.NOT_HEALTHY
    assert "recorder: recorded-" in result.stderr and "failed with 1 service(s) not healthy" in result.stderr
    assert [e["event"] for e in events(record)] == ["before_up", "on_failure", "before_down", "after_down"]


def test_contributed_command_and_listing(mini_env):
    needs_entry_point_plugin()
    hello = run_cli("test-plugin-hello", env=mini_env)
    assert hello.returncode == 0 and hello.stdout.strip() == "hello from netra_test_plugin"
    listing = json.loads(run_cli("plugins", "--profile", "mini-health-plugin", "--json", env=mini_env).stdout)
    health = next(h for h in listing if h["hook"] == "netra_check_health")
    assert health["kind"] == "first-result"
    assert [i["plugin"] for i in health["implementations"]] == ["plugins/health_veto.py", "netra_test_plugin",
                                                               "netra.health"]
    assert health["implementations"][1]["origin"] == "entry point of netra-test-plugin 0.1.0"
    assert health["implementations"][2]["order"] == "trylast"


# --- bad plugins ----------------------------------------------------------------------------------

@pytest.mark.parametrize("profile, needles", [
    ("mini-plugin-broken", ["plugin 'plugins/no_such_plugin.py' of profile mini-plugin-broken", "no such file"]),
    ("mini-plugin-unknown-hook", ["plugin 'plugins/unknown_hook.py'", "netra_allocate_ports"]),
    ("mini-plugin-wrong-type", ["plugin 'plugins/wrong_type.py'", "netra_allocate_port returned 'high'",
                                "expected int or None"]),
    ("mini-plugin-raises", ["plugin 'plugins/raises_after_up.py'", "netra_after_up raised RuntimeError",
                            "the smoke test of raises_after_up failed"]),
])
def test_bad_plugins_are_named_and_nothing_leaks(profile, needles, mini_env):
    before = {c.id for c in session_containers()}
    networks = {n["Id"] for n in session_networks()}
    result = run_cli("up", "--profile", profile, env=mini_env)
    assert result.returncode == ExitCode.PLUGIN_ERROR, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "(hint: " in last
    for needle in needles:
        assert needle in last, (needle, last)
    assert no_new_containers(before) and {n["Id"] for n in session_networks()} == networks
