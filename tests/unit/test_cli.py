"""The command line on the in-memory backend: results on stdout and everything else on stderr,
-v/-q on the group or the command alike, JSON alone on stdout, failures as their report and one
error line; views drawn as plain aligned columns; the built-in commands come through the hook."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from netra_stack.cli.main import main
from netra_stack.cli.terminal import Styled, Terminal, View
from netra_stack.model.errors import ExitCode
from tests.unit.conftest import PLUGIN

pytestmark = pytest.mark.usefixtures("no_engine")


@pytest.fixture
def cli(tmp_path, world):
    """cli(*args) -> click's result of `netra-stack ARGS` with profile `p` on the fake backend."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "p.toml").write_text(
        f'environment = "test"\ncompose_files = ["docker-compose.yml"]\nbackend = "fake"\n'
        f'plugins = [{json.dumps(str(PLUGIN))}]\nwait_timeout = 1\n[services.db]\nhealth = "pg_isready"\n')
    environ = {"NETRA_STACK_PROFILE_PATH": str(folder), "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
               "NETRA_STACK_OWNER": "tester@fake", "NO_COLOR": "1"}

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env=environ, catch_exceptions=False)

    return run


def test_up_prints_its_result_on_stdout_and_its_progress_on_stderr(cli, world):
    result = cli("up", "-p", "p")
    assert result.exit_code == 0, result.output
    (name,) = world.environments()
    assert re.fullmatch(rf"{name} is up \(p\): cache=\d+, db=\d+\n", result.stdout), result.stdout
    assert "netra-stack: " in result.stderr and "db: HEALTHY" in result.stderr


@pytest.mark.parametrize("args", [("-q", "up", "-p", "p"), ("up", "-q", "-p", "p")])
def test_quiet_on_the_group_or_the_command_leaves_only_the_result(cli, world, args):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.startswith(f"{next(iter(world.environments()))} is up")


def test_json_is_alone_on_stdout(cli, world):
    result = cli("up", "-p", "p", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["environment"] in world.environments() and set(found["ports"]) == {"db", "cache"}


def test_a_failed_wait_shows_its_report_on_stderr_and_ends_with_one_error_line(cli, world):
    world.health["db"] = 1
    world.log_text["db"] = "FATAL: the database system is starting up\n"
    result = cli("up", "-p", "p")
    assert result.exit_code == ExitCode.NOT_HEALTHY
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("error: environment p-") and "not healthy after 1s" in lines[-1]
    assert any(line.split()[:2] == ["db", "STARTING"] for line in lines), result.stderr
    assert "--- db: STARTING: health command failing (exit 1)" in lines
    assert "      FATAL: the database system is starting up" in lines
    assert world.environments() == set()  # removed after the failure


def test_the_builtin_commands_are_contributed_through_the_hook(cli):
    listing = json.loads(cli("plugins", "--json").stdout)
    commands = next(hook for hook in listing if hook["hook"] == "netra_cli_commands")
    assert [impl["plugin"] for impl in commands["implementations"]][-1:] == ["netra.commands"]
    assert "release" in cli("--help").stdout and "The same as `down`." in cli("--help").stdout


def test_a_plain_view_aligns_its_columns_and_ends_each_line_with_the_last():
    view = View(("service", "state", "why"), [("db", Styled("STOPPED", "red"), "exited"), ("api-gateway", "HEALTHY", "")],
                title="env")
    assert view.plain() == ["env", "service      state    why", "db           STOPPED  exited", "api-gateway  HEALTHY"]
    assert View(("a",), title="t", empty="none here").plain() == ["t", "none here"]


def test_colour_is_forced_or_refused_whatever_the_stream(capsys):
    import io

    assert Terminal(color=True).fancy(io.StringIO()) and not Terminal(color=False).fancy(io.StringIO())
    assert not Terminal(environ={"NO_COLOR": "1"}).fancy(io.StringIO())


def test_scale_asks_the_backend_for_each_count_and_waits(cli, world):
    name = next(iter(json.loads(cli("up", "-p", "p", "--json").stdout)["environment"].split()))
    result = cli("scale", "-p", "p", "--name", name, "--services", "db=3, cache=0")
    assert result.exit_code == 0, result.output
    assert world.calls_of("scale") == [(name, {"db": 3, "cache": 0})]
    assert result.stdout == "scaled db to 3, cache to 0: healthy\n"


@pytest.mark.parametrize("counts", ["db", "db=x", "=2", "db=-1"])
def test_a_count_that_is_no_count_is_one_line_and_exit_2(cli, world, counts):
    result = cli("scale", "-p", "p", "--services", counts)
    assert result.exit_code == ExitCode.USAGE and world.calls_of("scale") == []
    assert result.stderr.splitlines() == [f"error: --services {counts!r}: expected SERVICE=COUNT, COUNT a whole number "
                                          "from 0 (hint: e.g. --services web=3,worker=2)"]


def test_compose_says_it_does_not_scale(tmp_path):
    from netra_stack.backends.compose.backend import ComposeBackend
    from netra_stack.model.errors import UsageError

    with pytest.raises(UsageError, match="the compose backend runs one instance of a service: it does not scale"):
        ComposeBackend({"NETRA_STACK_STATE_DIR": str(tmp_path)}).scale("env", {"web": 2})
