"""Ctrl-C or SIGTERM during `up` leaves nothing of netra-stack's behind."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from netra_stack import StackManager
from netra_stack.model.errors import ExitCode

from ..conftest import REPO
from .conftest import session_containers, session_networks


@pytest.mark.parametrize(("sig", "trial"), [(signal.SIGINT, t) for t in range(20)] +
                         [(signal.SIGTERM, t) for t in range(20, 24)])
def test_signal_during_up_leaves_nothing_partial(sig, trial, mini_env):
    """Either the signal stops `up` and nothing of it remains, or `up` had already finished and
    the whole environment is up and healthy (it is meant to outlive the command) — never half."""
    delay = random.Random(trial).uniform(0.3, 3.0)  # from start-up through planning, up and the wait
    before = ({c.id for c in session_containers()}, {n["Id"] for n in session_networks()})
    child = subprocess.Popen([sys.executable, "-m", "netra_stack", "up", "--profile", "mini"], env=mini_env,
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    child.send_signal(sig)
    _, err = child.communicate(timeout=120)
    assert "Traceback" not in err
    new = [c for c in session_containers() if c.id not in before[0]]
    if not new:
        assert child.returncode == ExitCode.INTERRUPTED, err
        assert {n["Id"] for n in session_networks()} == before[1]
        return
    # The signal came after `up` had finished its work.
    assert {c.service for c in new} == {"web", "worker"} and len({c.environment for c in new}) == 1
    assert all(c.running for c in new)
    name = new[0].environment
    assert StackManager("mini", environ=mini_env).get_health_report(name).healthy
