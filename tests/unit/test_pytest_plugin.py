"""The pytest plugin and `netra-stack test` without Docker: options, skipping, categories, the
environment's URLs, and the pytest command line. (The real runs are in
tests/integration/test_pytest_plugin.py.)"""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from netra_stack.cli import main as cli
from netra_stack.cli.commands import test as test_command
from netra_stack.testing import testrun
from netra_stack.testing.pytest_plugin import NetraEnvironment

pytest_plugins = ["pytester"]

SAMPLE = '''
import pytest

@pytest.mark.real_services("backend", "postgres")
def test_marked():
    pass

def test_fixture(netra_env):
    pass

@pytest.mark.smoke
def test_plain():
    pass
'''


def test_without_real_services_tests_that_need_them_are_skipped(pytester):
    pytester.makepyfile(test_sample=SAMPLE)
    pytester.makeini("[pytest]\nmarkers = smoke: quick\n")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*needs real services (backend, postgres): run pytest with --real-services*",
                                 "*needs real services: run pytest with --real-services*"])


def test_categories_select_a_directory_or_a_marker(pytester):
    pytester.makeini("[pytest]\nmarkers = smoke: quick\n")
    (pytester.path / "tests" / "api").mkdir(parents=True)  # no __init__.py: not the package `tests`
    (pytester.path / "tests" / "api" / "test_api.py").write_text("def test_api():\n    pass\n")
    (pytester.path / "tests" / "test_other.py").write_text(SAMPLE)
    result = pytester.runpytest("--netra-categories", "api,smoke", "--import-mode=importlib")
    result.assert_outcomes(passed=2, deselected=2)  # tests/api/ and the smoke-marked test


def test_the_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.real_services(*services)*"])


def test_environment_ports_and_urls():
    env = NetraEnvironment("alpine-test-1a2b3c", "alpine-test", ("backend", "worker"), {"backend": 31877})
    assert env.url("backend", "/health") == "http://127.0.0.1:31877/health"
    assert env.port("backend") == 31877
    with pytest.raises(LookupError, match="service 'worker' of environment alpine-test-1a2b3c publishes no port "
                                          r"\(services with ports: backend\)"):
        env.port("worker")
    assert env.env_vars() == {"NETRA_STACK_ENV": "alpine-test-1a2b3c", "NETRA_STACK_PROFILE": "alpine-test",
                              "NETRA_BACKEND_PORT": "31877"}


def test_pytest_command_line():
    assert testrun.pytest_argv(["unit", "integration"], 4, ["-x", "-k", "db"]) == [
        sys.executable, "-m", "pytest", "--real-services", "--netra-categories", "unit,integration", "-n", "4",
        "-x", "-k", "db"]
    assert testrun.pytest_argv([], 1, []) == [sys.executable, "-m", "pytest", "--real-services"]


def test_categories_take_every_word_up_to_the_next_option(monkeypatch):
    seen = {}

    def fake_argv(categories, parallel, extra):
        seen.update(categories=categories, parallel=parallel, extra=extra)
        raise SystemExit(0)

    monkeypatch.setattr(testrun, "check_runner", lambda parallel: None)
    monkeypatch.setattr(testrun, "pytest_argv", fake_argv)
    result = CliRunner().invoke(cli.main, ["test", "--categories", "unit", "integration", "--parallel", "2", "--",
                                           "-x", "tests/a b"])
    assert result.exit_code == 0, result.output
    assert seen == {"categories": ("unit", "integration"), "parallel": 2, "extra": ("-x", "tests/a b")}


def test_parallel_without_xdist_is_refused_before_anything_starts(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xdist" else real(name, *a))
    monkeypatch.setattr(test_command, "managing", lambda *a, **k: pytest.fail("no manager may be made"))
    result = CliRunner().invoke(cli.main, ["test", "--parallel", "4"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --parallel 4 needs pytest-xdist, which is not installed (hint: pip install pytest-xdist, or drop "
        "--parallel)"]
