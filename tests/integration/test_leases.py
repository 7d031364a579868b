"""Environments a process holds are released when it ends, and reaped by their watchdog when it
is killed outright (SIGKILL: no cleanup code of its own runs)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from netra_stack import StackManager
from tests.engine import engine
from netra_stack.model import labels as L

from ..conftest import REPO

pytestmark = pytest.mark.podman  # also run against Podman


HOLDER = textwrap.dedent("""
    import sys, time
    from netra_stack import StackManager
    with StackManager("mini") as (name, ports):
        print(name, flush=True)
        time.sleep(600)
""")


def test_context_manager_holds_and_releases(mini_env):
    with StackManager("mini", environ=mini_env) as (name, ports):
        labels = engine.containers(name)[0].labels
        assert labels[L.LEASE].startswith(f"{__import__('os').getpid()}:")
        assert ports["web"] > 0
    assert engine.summaries(name) == []


def test_sigkilled_holder_is_reaped(mini_env):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], env=mini_env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    name = holder.stdout.readline().strip()
    assert name.startswith("mini-") and engine.summaries(name), holder.stderr.read()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    deadline = time.monotonic() + 60  # the documented bound is ~1 s to notice plus compose down
    while engine.summaries(name) or engine.networks(name):
        assert time.monotonic() < deadline, f"{name} was not reaped"
        time.sleep(0.5)


def test_up_outlives_its_command_without_a_lease(mini_env):
    name, _ = StackManager("mini", environ=mini_env).acquire_environment()
    assert L.LEASE not in engine.containers(name)[0].labels
    StackManager("mini", environ=mini_env).release_environment(name)
