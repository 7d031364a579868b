"""Shared test set-up. The paths live in tests/helpers.py; REPO and MINI_PROFILES are imported
here too because the integration modules import them from this conftest.

When the whole suite runs (every module of tests/unit and tests/integration, nothing deselected,
no xdist), each call of a hook implementation that is not a built-in is recorded, in this process
and in the child processes the tests start (tests/hook_trace/sitecustomize.py), and
tests/unit/test_plugin_docs.py::test_hook_is_tested runs last to check that every hook was called
through a loaded test plugin."""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .helpers import EXAMPLE_IMAGES, MINI_PROFILES, ON_PODMAN, REPO, TESTS  # noqa: F401

# A separate project that the plugin's tests run in child processes, never collected here.
collect_ignore = ["sample_project"]

# Each test session keeps netra-stack's state (override files, port reservations, health records)
# in a folder of its own, inherited by the commands it runs, never in the user's cache.
if "NETRA_STACK_STATE_DIR" not in os.environ:
    os.environ["NETRA_STACK_STATE_DIR"] = tempfile.mkdtemp(prefix="netra-tests-state-")
    atexit.register(shutil.rmtree, os.environ["NETRA_STACK_STATE_DIR"], ignore_errors=True)

# NETRA_TEST_ENGINE=podman: the session's engine is Podman's Docker-compatible API, started here
# (tests/testbed/podman.py) before anything reads DOCKER_HOST, and removed when the session ends;
# run with `-m podman`, the real-engine tests marked for it (scripts/test runs them beside the rest).
if ON_PODMAN and "NETRA_TEST_PODMAN_HOST" not in os.environ:
    from tests.testbed import podman as _podman

    _service = _podman.start(*EXAMPLE_IMAGES)
    atexit.register(_service.stop)
    os.environ["DOCKER_HOST"] = os.environ["NETRA_TEST_PODMAN_HOST"] = _service.host
    os.environ.pop("DOCKER_CONTEXT", None)

HOOK_TRACE = TESTS / "hook_trace"
HOOK_CHECK = "test_hook_is_tested"  # in tests/unit/test_plugin_docs.py
_hook_log = pytest.StashKey[Path]()
_deselected = pytest.StashKey[int]()


def _is_hook_check(item: pytest.Item) -> bool:
    return getattr(item, "originalname", None) == HOOK_CHECK and item.path.name == "test_plugin_docs.py"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The hook check runs after every other test (it reads what they called)."""
    items[:] = [i for i in items if not _is_hook_check(i)] + [i for i in items if _is_hook_check(i)]


def pytest_deselected(items):
    config = items[0].config if items else None
    if config is not None:
        config.stash[_deselected] = config.stash.get(_deselected, 0) + len(items)


def _whole_suite(session: pytest.Session) -> bool:
    config = session.config
    if getattr(config, "workerinput", None) is not None or config.getoption("numprocesses", None):
        return False  # with xdist no one process sees every call before the check runs
    if config.stash.get(_deselected, 0):
        return False
    modules = {p for folder in ("unit", "integration") for p in (TESTS / folder).glob("test_*.py")}
    return modules <= {item.path for item in session.items}


def pytest_collection_finish(session):
    if not _whole_suite(session):
        return
    fd, name = tempfile.mkstemp(prefix="netra-hook-calls-", suffix=".jsonl")
    os.close(fd)
    session.config.stash[_hook_log] = Path(name)
    os.environ["NETRA_TEST_HOOK_LOG"] = name
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HOOK_TRACE), os.environ.get("PYTHONPATH")]))
    spec = importlib.util.spec_from_file_location("netra_hook_trace", HOOK_TRACE / "sitecustomize.py")
    trace = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trace)
    trace.install(name)


def pytest_sessionfinish(session):
    log = session.config.stash.get(_hook_log, None)
    if log is not None:
        log.unlink(missing_ok=True)


@pytest.fixture
def hook_calls(request) -> dict[str, list[dict]] | None:
    """hook -> the recorded calls of test plugins' implementations ({"plugin", "outcome", "pid"}),
    or None when the run is not the whole suite (nothing is recorded then)."""
    log = request.config.stash.get(_hook_log, None)
    if log is None:
        return None
    calls: dict[str, list[dict]] = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        calls.setdefault(entry.pop("hook"), []).append(entry)
    return calls
