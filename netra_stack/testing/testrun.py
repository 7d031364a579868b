"""`netra-stack test`: the seed's unified test runner. Acquire an environment, run pytest against
it (the pytest plugin attaches to it through NETRA_STACK_ENV; its ports are in
NETRA_<SERVICE>_PORT), release it, and hand back pytest's exit status."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping

from netra_stack.model.errors import UsageError

ENV_VARIABLE = "NETRA_STACK_ENV"  # the environment that the pytest plugin uses as it is, never releasing it


def pytest_argv(categories: Iterable[str], parallel: int, extra: Iterable[str]) -> list[str]:
    """The pytest command. Categories select tests (the plugin's --netra-categories): those under
    tests/NAME, or marked NAME."""
    argv = [sys.executable, "-m", "pytest", "--real-services"]
    if categories:
        argv += ["--netra-categories", ",".join(categories)]
    if parallel > 1:
        argv += ["-n", str(parallel)]
    return argv + list(extra)


def environment_variables(name: str, profile: str, ports: Mapping[str, int]) -> dict[str, str]:
    """What tests see of an environment: NETRA_STACK_ENV, NETRA_STACK_PROFILE, NETRA_<SERVICE>_PORT."""
    from netra_stack.lifecycle.inventory import port_variables

    return {ENV_VARIABLE: name, "NETRA_STACK_PROFILE": profile, **port_variables(ports)}


def check_runner(parallel: int) -> None:
    """pytest (and pytest-xdist for --parallel) must be installed: say so before anything starts."""
    if importlib.util.find_spec("pytest") is None:
        raise UsageError("`netra-stack test` runs pytest, which is not installed", hint="pip install pytest")
    if parallel > 1 and importlib.util.find_spec("xdist") is None:
        raise UsageError(f"--parallel {parallel} needs pytest-xdist, which is not installed",
                         hint="pip install pytest-xdist, or drop --parallel")


def run(manager, argv: list[str], *, keep: bool = False, timeout: float | None = None) -> int:
    """Up (held by this process unless `keep`), pytest, down; pytest's exit status."""
    from netra_stack.backends.processes import stop_children

    name, ports = manager.acquire_environment(timeout=timeout, hold=not keep)
    try:
        manager.reporter.event(f"running {' '.join(argv[1:])}")
        child = subprocess.Popen(argv, env={**os.environ, **environment_variables(name, manager.profile.name, ports)})
        try:
            return child.wait()
        except KeyboardInterrupt:  # pytest got it too from the terminal; if not, pass it on
            stop_children([child])
            raise
    finally:
        if keep:
            manager.reporter.event(f"kept environment {name}")
        else:
            manager.release_environment(name)
