"""The lifecycle (netra_stack.lifecycle) through StackManager, on the in-memory backend of
tests/fake_backend.py: retries, teardown on failure and on interrupt, staged starts behind healthy
gates, choosing the environment, backend selection and the manager's own environ. No Docker:
the docker SDK's client, the compose backend and child processes are refused for every test."""

from __future__ import annotations

import json
import textwrap
import time
from types import SimpleNamespace

import pytest

from netra_stack.backends.base import Backend
from netra_stack.lifecycle import up as up_module
from netra_stack.lifecycle.context import Reporter
from netra_stack.manager import StackManager
from netra_stack.model.decisions import MAX_UP_ATTEMPTS
from netra_stack.model.errors import (DockerUnavailableError, EngineError, ExitCode, NotFoundError, NotHealthyError,
                                      PluginError, ProfileError)
from netra_stack.model.health import HealthState
from netra_stack.planning.graph import COMPLETED, HEALTHY, STARTED
from tests.fake_backend import FakeBackend
from tests.unit.conftest import DB, PLUGIN


GATED = {"services": {"db": DB, "app": {"image": "app", "depends_on": {
    "db": {"condition": "service_healthy", "required": True}}}}}
ONE_SHOT = {"services": {"db": DB, "migrate": {"image": "migrate"}, "app": {"image": "app", "depends_on": {
    "migrate": {"condition": "service_completed_successfully", "required": True}}}}}
RANGE = '[ports]\nstrategy = "range"\nrange = [38000, 38999]\n'


pytestmark = pytest.mark.usefixtures("no_engine")


class Recorder(Reporter):
    def __init__(self) -> None:
        self.events: list[str] = []

    def event(self, message: str) -> None:
        self.events.append(message)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The back-off sleeps between attempts of `up`, recorded instead of slept."""
    found: list[float] = []
    monkeypatch.setattr(up_module, "time", SimpleNamespace(sleep=found.append))
    return found


@pytest.fixture
def stack(tmp_path, world):
    """stack(profile text, model=..., name="p", **environ) -> a StackManager on the fake backend,
    with its profile written under tmp_path and its state in tmp_path/state."""

    def make(extra: str = "", *, model: dict | None = None, name: str = "p", backend: str = "fake", wait_timeout: float = 1,
             plugins: tuple[str, ...] = (str(PLUGIN),), **environ: str) -> StackManager:
        if model is not None:
            world.model = model
        folder = tmp_path / "profiles"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.toml").write_text(
            f'environment = "test"\ncompose_files = ["docker-compose.yml"]\nbackend = "{backend}"\n'
            f"plugins = {json.dumps(list(plugins))}\nwait_timeout = {wait_timeout}\n" + textwrap.dedent(extra))
        return StackManager(name, environ={"NETRA_STACK_PROFILE_PATH": str(folder),
                                           "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
                                           "NETRA_STACK_OWNER": "tester@fake", **environ},
                            reporter=Recorder())

    return make


def clash(plan) -> str:
    return (f"Error response from daemon: driver failed programming external connectivity on endpoint "
            f"{plan.name}-db-1: Bind for 127.0.0.1:{plan.ports['db:5432/tcp']} failed: port is already allocated")


# --- (a) retries ----------------------------------------------------------------------------------


def test_a_port_clash_is_retried_with_ports_chosen_again(stack, world, sleeps, tmp_path):
    world.fail_up(1, clash, "port_allocated", address="127.0.0.1", port=lambda plan: plan.ports["db:5432/tcp"])
    manager = stack(RANGE)
    name, ports = manager.acquire_environment()

    assert world.ops("up") == ["up", "up"]
    first, second = world.calls_of("prepare")  # the plan was made again before the second attempt
    assert first[0] == second[0] == name
    assert ports == {"db": second[1]["db:5432/tcp"], "cache": second[1]["cache:6379/tcp"]}
    assert all(38000 <= port <= 38999 for port in ports.values())
    assert sleeps == [0.5]
    assert any("attempt 1/3" in e and "port is already allocated" in e and "choosing again" in e
               for e in manager.reporter.events), manager.reporter.events
    assert "down" not in world.ops() and world.environments() == {name}
    assert not list((tmp_path / "state" / "ports").iterdir())  # the engine holds the ports now: released


def test_a_failure_no_policy_resolves_fails_after_one_attempt_and_names_it(stack, world, sleeps):
    world.fail_up(5, "Error response from daemon: no space left on device", "other")
    manager = stack()
    with pytest.raises(EngineError) as error:
        manager.acquire_environment()

    name = manager.env_name
    assert world.ops("up") == ["up"] and sleeps == []
    assert str(error.value) == f"starting {name} failed: Error response from daemon: no space left on device"
    assert error.value.stderr == "Error response from daemon: no space left on device"
    assert error.value.exit_code == ExitCode.ENGINE_ERROR
    assert world.calls_of("down") == [(name,)]  # what this run made is removed


def test_a_clash_on_a_fixed_port_is_not_retried(stack, world, sleeps):
    world.fail_up(5, "Bind for 127.0.0.1:45999 failed: port is already allocated", "port_allocated",
                  address="127.0.0.1", port="45999")
    manager = stack('[services.db]\nports = [{ container = 5432, strategy = "fixed", host = 45999 }]\n')
    with pytest.raises(EngineError) as error:
        manager.acquire_environment()

    assert world.ops("up") == ["up"] and sleeps == []
    assert "Bind for 127.0.0.1:45999 failed: port is already allocated" in str(error.value)
    assert "host port 45999 is fixed by the profile" in error.value.hint
    assert world.calls_of("down") == [(manager.env_name,)]


def test_retries_stop_after_the_last_attempt(stack, world, sleeps):
    world.fail_up(MAX_UP_ATTEMPTS, clash, "port_allocated", port=lambda plan: plan.ports["db:5432/tcp"])
    manager = stack(RANGE)
    with pytest.raises(EngineError, match="port is already allocated"):
        manager.acquire_environment()

    assert world.ops("up") == ["up"] * MAX_UP_ATTEMPTS
    assert sleeps == [0.5, 1.0]
    assert world.ops("down") == ["down"] and world.environments() == set()


def test_a_failure_after_ports_were_chosen_again_releases_their_reservations(stack, world, sleeps, tmp_path):
    world.fail_up(1, clash, "port_allocated", port=lambda plan: plan.ports["db:5432/tcp"])
    world.fail_up(1, "Error response from daemon: no space left on device", "other")
    with pytest.raises(EngineError, match="no space left on device"):
        stack(RANGE).acquire_environment()

    assert len(world.calls_of("prepare")) == 2
    assert not list((tmp_path / "state" / "ports").iterdir())


# --- (b) teardown on failure ----------------------------------------------------------------------


def test_a_health_check_that_keeps_failing_removes_the_environment(stack, world, tmp_path):
    world.health["db"] = 1
    world.log_text["db"] = "FATAL: the database system is starting up\n"
    manager = stack('[services.db]\nhealth = "pg_isready -U postgres"\n')
    started = time.monotonic()
    with pytest.raises(NotHealthyError) as error:
        manager.acquire_environment()

    name = manager.env_name
    assert time.monotonic() - started < 5
    assert f"environment {name} not healthy after 1s" in str(error.value)
    assert error.value.exit_code == ExitCode.NOT_HEALTHY
    db = {s.service: s for s in error.value.report.services}["db"]
    assert db.state is HealthState.STARTING and db.detail == "health command failing (exit 1)"
    assert "the database system is starting up" in db.logs  # the report carries the failing service's log
    assert ("db", ("pg_isready", "-U", "postgres"), 1) in world.calls_of("exec")
    assert world.calls_of("down") == [(name,)] and world.of(name) == []
    assert not (tmp_path / "state" / name).exists()


def test_an_exited_one_shot_fails_at_once_and_is_removed(stack, world):
    world.exits["migrate"] = 3
    manager = stack(model=ONE_SHOT, wait_timeout=30)
    started = time.monotonic()
    with pytest.raises(NotHealthyError) as error:
        manager.acquire_environment()

    assert time.monotonic() - started < 5  # an exit is final: no waiting out the 30 s
    assert f"environment {manager.env_name} failed: migrate: STOPPED (exited (exit 3))" in str(error.value)
    states = {s.service: s.state for s in error.value.report.services}
    assert states["migrate"] is HealthState.STOPPED and states["db"] is HealthState.HEALTHY
    assert world.calls_of("down") == [(manager.env_name,)] and world.environments() == set()


def test_keep_on_failure_removes_nothing(stack, world, tmp_path):
    world.health["db"] = 1
    manager = stack('[services.db]\nhealth = "pg_isready"\n')
    with pytest.raises(NotHealthyError):
        manager.acquire_environment(keep_on_failure=True)

    name = manager.env_name
    assert name and "down" not in world.ops()
    assert {i.service for i in world.of(name)} == {"db", "cache"}
    assert (tmp_path / "state" / name).is_dir()


# --- (c) teardown on interrupt --------------------------------------------------------------------


def test_an_interrupt_during_up_removes_the_environment_and_propagates(stack, world, tmp_path):
    world.up_raises = KeyboardInterrupt()
    manager = stack(RANGE)
    with pytest.raises(KeyboardInterrupt):
        manager.acquire_environment()

    name = manager.env_name
    assert world.ops("prepare", "up", "down") == ["prepare", "up", "down"]
    assert world.calls_of("down") == [(name,)]
    assert not (tmp_path / "state" / name).exists()
    assert not list((tmp_path / "state" / "ports").iterdir())  # its port reservations are released


# --- (d) early checks and the staged start --------------------------------------------------------


def test_a_dependent_starts_only_after_its_healthy_gate_passed(stack, world):
    world.health["db"] = [1, 1, 0]  # two failed checks, then it passes
    manager = stack('[services.db]\nhealth = "pg_isready"\n', model=GATED)
    name, ports = manager.acquire_environment()

    assert world.calls_of("up") == [(name, ("db",), True), (name, ("app",), False)]
    calls = world.calls
    up_app = calls.index(("up", (name, ("app",), False)))
    checks = [(i, args[2]) for i, (op, args) in enumerate(calls) if op == "exec" and args[0] == "db"]
    assert [code for at, code in checks if at < up_app][:2] == [1, 1]  # the gate really waited
    passed = next(i for i, code in checks if code == 0)
    assert calls.index(("up", (name, ("db",), True))) < passed < up_app
    assert set(ports) == {"db"} and {i.service for i in world.of(name)} == {"db", "app"}


def test_a_backend_that_orders_nothing_gets_every_condition_as_a_stage(stack, world):
    world.gate_conditions = frozenset({HEALTHY, COMPLETED, STARTED})  # as swarm: depends_on is netra-stack's
    model = {"services": {"db": DB, "migrate": {"image": "migrate", "depends_on": {
        "db": {"condition": "service_started", "required": True}}}, "app": {"image": "app", "depends_on": {
            "migrate": {"condition": "service_completed_successfully", "required": True}}}}}
    world.health["db"] = [1, 0]
    world.exits["migrate"] = 0  # it runs to completion
    manager = stack('[services.db]\nhealth = "pg_isready"\n', model=model)
    name, _ = manager.acquire_environment()

    assert world.calls_of("up") == [(name, ("db",), True), (name, ("migrate",), False), (name, ("app",), False)]
    calls = world.calls
    passed = next(i for i, (op, args) in enumerate(calls) if op == "exec" and args[0] == "db" and args[2] == 0)
    assert passed < calls.index(("up", (name, ("migrate",), False)))  # started only once db was ready


def test_a_gate_that_never_opens_starts_nothing_behind_it(stack, world):
    world.health["db"] = 1
    manager = stack('[services.db]\nhealth = "pg_isready"\n', model=GATED)
    with pytest.raises(NotHealthyError, match="db: STARTING"):
        manager.acquire_environment()

    assert world.calls_of("up") == [(manager.env_name, ("db",), True)]  # app was never started
    assert world.calls_of("down") == [(manager.env_name,)]


def test_without_gates_everything_starts_in_one_up(stack, world):
    name, _ = stack().acquire_environment()
    assert world.calls_of("up") == [(name, (), True)]
    assert world.ops("check", "prepare", "up")[:3] == ["check", "prepare", "up"]


# --- (e) choosing the environment -----------------------------------------------------------------


def test_choosing_among_the_profiles_environments(stack, world):
    with pytest.raises(NotFoundError, match="no environment of profile p is up"):
        stack().current_environment()
    assert stack().current_environment(required=False) is None

    one, _ = stack().acquire_environment()
    two, _ = stack().acquire_environment()
    stack(name="q").acquire_environment()  # another profile's environment does not count
    assert one != two
    with pytest.raises(NotFoundError) as error:
        stack().current_environment()
    assert "2 environments of profile p are up" in str(error.value)
    assert one in str(error.value) and two in str(error.value)
    assert error.value.exit_code == ExitCode.NOT_FOUND

    assert stack(COMPOSE_PROJECT_NAME="picked").current_environment() == "picked"  # wins over the count

    stack().release_environment(one)
    assert world.calls_of("down") == [(one,)]
    assert stack().current_environment() == two


def test_compose_project_name_names_the_environment_and_is_reused(stack, world):
    name, ports = stack(COMPOSE_PROJECT_NAME="named-env").acquire_environment()
    assert name == "named-env"
    again, same = stack(COMPOSE_PROJECT_NAME="named-env").acquire_environment()
    assert (again, same) == (name, ports)
    assert world.ops("up") == ["up"]  # the running one was reused, not started again


# --- (f) choosing the backend ---------------------------------------------------------------------


def test_an_unknown_backend_is_a_profile_error_naming_the_known_ones(stack, world, tmp_path):
    with pytest.raises(ProfileError) as error:
        stack(backend="nosuch")
    message = str(error.value)
    assert error.value.exit_code == ExitCode.PROFILE_INVALID == 3
    assert f"{tmp_path / 'profiles' / 'p.toml'}: backend = 'nosuch': unknown backend; known: compose, fake, kubernetes, swarm" in message
    assert world.backends == []  # no backend was made


BAD_BACKENDS = {
    "a list": ('["fake"]', "netra_backends returned ['fake']: expected a dict of name -> factory"),
    "a value that is not callable": ('{"fake": 42}', "netra_backends returned {'fake': 42}: expected a dict"),
    "a name that is not a string": ('{1: lambda environ: None}', "expected a dict of name -> factory"),
}


@pytest.mark.parametrize("answer, expected", BAD_BACKENDS.values(), ids=list(BAD_BACKENDS))
def test_a_plugin_whose_netra_backends_is_not_a_dict_of_callables_is_named(stack, tmp_path, answer, expected):
    plugin = tmp_path / "bad_backends.py"
    plugin.write_text(f"from netra_stack import hookimpl\n\n@hookimpl\ndef netra_backends():\n    return {answer}\n")
    with pytest.raises(PluginError) as error:
        stack(plugins=("bad_backends.py", str(PLUGIN)))
    assert error.value.exit_code == ExitCode.PLUGIN_ERROR == 9
    assert str(error.value).startswith("plugin 'bad_backends.py': ")
    assert expected in str(error.value)
    assert "profile p: bad_backends.py" in error.value.hint  # where the plugin comes from


def test_a_backend_factory_that_raises_is_a_plugin_error_naming_the_plugin(stack, tmp_path):
    plugin = tmp_path / "broken_backend.py"
    plugin.write_text("from netra_stack import hookimpl\n\ndef make(environ):\n    raise OSError('no socket')\n\n"
                      "@hookimpl\ndef netra_backends():\n    return {'broken': make}\n")
    with pytest.raises(PluginError) as error:
        stack(backend="broken", plugins=("broken_backend.py",))
    assert str(error.value) == "plugin 'broken_backend.py': backend 'broken' failed to start: OSError: no socket"


def test_the_backend_option_overrides_the_profile(stack, world, tmp_path):
    stack()  # writes the profile (backend = "fake")
    environ = {"NETRA_STACK_PROFILE_PATH": str(tmp_path / "profiles"), "NETRA_STACK_STATE_DIR": str(tmp_path / "s")}
    with pytest.raises(ProfileError, match=r"^--backend = 'other': unknown backend; known: compose, fake, kubernetes, swarm$"):
        StackManager("p", environ=environ, backend="other")
    assert isinstance(StackManager("p", environ=environ, backend="fake").backend, FakeBackend)


# --- (g) the manager's own environ ----------------------------------------------------------------


def test_the_given_environ_reaches_the_backend_and_decides_the_state_directory(tmp_path, world, monkeypatch):
    ours, theirs = tmp_path / "given-state", tmp_path / "process-state"
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "p.toml").write_text(f'environment = "test"\ncompose_files = ["docker-compose.yml"]\nbackend = "fake"\n'
                                   f"plugins = {json.dumps([str(PLUGIN)])}\nwait_timeout = 1\n{RANGE}"
                                   '[services.db]\nhealth = "pg_isready"\n')
    monkeypatch.setenv("NETRA_STACK_STATE_DIR", str(theirs))  # the process's: must not be used
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(tmp_path / "nowhere"))
    monkeypatch.delenv("FAKE_MARKER", raising=False)
    environ = {"NETRA_STACK_PROFILE_PATH": str(folder), "NETRA_STACK_STATE_DIR": str(ours), "FAKE_MARKER": "42"}

    manager = StackManager("p", environ=environ)
    backend = manager.backend
    assert isinstance(backend, FakeBackend) and isinstance(backend, Backend)
    assert world.backends == [backend]
    assert backend.made_with["FAKE_MARKER"] == "42" and backend.made_with["NETRA_STACK_STATE_DIR"] == str(ours)
    assert backend.state == ours

    name, _ = manager.acquire_environment()
    memory = ours / name / "healthy.json"
    assert set(json.loads(memory.read_text())) == {f"{name}-db-1", f"{name}-cache-1"}  # HealthMemory wrote where the environ says
    assert (ours / "ports").is_dir()  # and the port reservations were made there
    assert not theirs.exists()

    manager.release_environment()
    assert not (ours / name).exists() and world.environments() == set()


def test_what_the_backend_runs_differently_is_said_once_by_up(stack, world):
    world.notes = ["web: container_name web-1 dropped (swarm names each task)"]
    manager = stack()
    manager.acquire_environment()
    said = [e for e in manager.reporter.events if "container_name" in e]
    assert said == ["fake: web: container_name web-1 dropped (swarm names each task)"]


# --- (h) an engine that is down ---------------------------------------------------------------------


def test_an_engine_that_is_down_is_started_only_when_asked_with_the_command_asked_for(stack, world):
    world.engine_down = True
    with pytest.raises(DockerUnavailableError):
        stack().acquire_environment()
    assert not [c for c in world.calls if c[0] == "start"]

    name, _ = stack("[engine]\nstart = true\nstart_timeout = 5\n").acquire_environment()  # the profile asks
    assert [c for c in world.calls if c[0] == "start"] == [("start", (None, 5.0))]  # the platform's way
    assert not world.engine_down and name

    world.engine_down, world.calls[:] = True, []
    stack(NETRA_STACK_START_ENGINE="1", NETRA_STACK_ENGINE_START_COMMAND="sudo 'my start' --now").acquire_environment()
    assert [c for c in world.calls if c[0] == "start"] == [("start", (["sudo", "my start", "--now"], 60.0))]


@pytest.mark.parametrize("services, state, up", [
    ({"db": "running", "web": "running"}, "running", 2),
    ({"db": "running", "migrate": "completed"}, "running", 2),  # a one-shot that succeeded is done
    ({"db": "running", "migrate": "exited"}, "partial", 1),
    ({"db": "exited", "migrate": "completed"}, "stopped", 1),
    ({"migrate": "completed"}, "completed", 1),
    ({}, "stopped", 0),
])
def test_an_environments_state_counts_a_completed_one_shot_as_done(services, state, up):
    from netra_stack.lifecycle.inventory import Environment

    env = Environment("e", "p", "test", services=services)
    assert (env.state, env.up) == (state, up)


def test_a_one_shot_that_exited_0_is_listed_completed_and_one_that_failed_exited():
    from netra_stack.lifecycle.inventory import list_environments
    from netra_stack.model import labels as L
    from netra_stack.model.instances import Instance

    def instance(service, status, code, one_shot):
        labels = {L.ENVIRONMENT: "e", L.COMPOSE_SERVICE: service, **({L.ONE_SHOT: "true"} if one_shot else {})}
        return Instance(service, service, labels, status, code, None, "")

    class Listing:
        def instances(self, detail=True):
            return [instance("db", "running", None, False), instance("migrate", "exited", 0, True),
                    instance("seed", "exited", 1, True), instance("worker", "exited", 0, False)]

    [env] = list_environments(Listing())
    assert env.services == {"db": "running", "migrate": "completed", "seed": "exited", "worker": "exited"}


def test_rebuild_recreates_a_running_service_whose_image_came_out_the_same(stack, world, tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    model = {"services": {"db": DB, "app": {"image": "app", "build": {"context": str(tmp_path / "app")}}}}
    manager = stack(model=model)
    name, _ = manager.acquire_environment()
    before = {i.service: i.id for i in world.of(name)}
    manager.rebuild(["app"], env_name=name)  # the fake's build changes no image: compose would leave app as it is
    after = {i.service: i.id for i in world.of(name)}
    assert world.calls_of("recreate") == [(name, ("app",))]
    assert after["app"] != before["app"] and after["db"] == before["db"]
