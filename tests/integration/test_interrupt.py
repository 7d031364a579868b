"""Ctrl-C or SIGTERM during `up` leaves nothing of netra-stack's behind."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from netra_stack import engine
from netra_stack.errors import ExitCode

from ..conftest import REPO


@pytest.mark.parametrize("trial", range(5))
def test_signal_during_up_leaves_nothing(trial, mini_env):
    sig = signal.SIGTERM if trial % 2 else signal.SIGINT
    delay = random.Random(trial).uniform(0.8, 2.5)  # from resolving the plan to waiting for health
    before = ({c.id for c in engine.containers()}, {n["Id"] for n in engine.networks()})
    child = subprocess.Popen([sys.executable, "-m", "netra_stack", "up", "--profile", "mini"], env=mini_env,
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    child.send_signal(sig)
    _, err = child.communicate(timeout=120)
    if child.returncode == 0:  # it finished first: that environment is the test's to remove
        pytest.skip(f"up finished within {delay:.1f}s, before the signal")
    assert child.returncode == ExitCode.INTERRUPTED, err
    assert "Traceback" not in err
    assert ({c.id for c in engine.containers()}, {n["Id"] for n in engine.networks()}) == before
