"""What depends on the platform, each platform simulated here (CI runs Linux for real): the
state directory's place, a process's liveness and start time without /proc (psutil), the
holder of a port where /proc cannot say, and how child processes are stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from netra_stack.backends import processes
from netra_stack.leases import holder
from netra_stack.model.state import state_dir
from netra_stack.plugins.builtin.ports import port_holder

HOME = Path.home()


@pytest.mark.parametrize(("platform", "environ", "expected"), [
    ("linux", {}, HOME / ".cache" / "netra-stack"),
    ("linux", {"XDG_CACHE_HOME": "/x/cache"}, Path("/x/cache/netra-stack")),
    ("freebsd14", {}, HOME / ".cache" / "netra-stack"),
    ("darwin", {"XDG_CACHE_HOME": "/x/cache"}, HOME / "Library" / "Caches" / "netra-stack"),
    ("win32", {"LOCALAPPDATA": "/x/Local"}, Path("/x/Local/netra-stack")),
    ("win32", {}, HOME / "AppData" / "Local" / "netra-stack"),
    ("darwin", {"NETRA_STACK_STATE_DIR": "/x/state"}, Path("/x/state")),
])
def test_the_state_directory_follows_each_platforms_convention(platform, environ, expected):
    assert state_dir(environ, platform=platform) == expected


def _gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process now
    return child.pid


def test_without_proc_a_processs_start_and_liveness_come_from_psutil(tmp_path, monkeypatch):
    missing = tmp_path / "no-proc"
    me, gone = os.getpid(), _gone_pid()
    assert holder.process_start(me, proc=missing) == f"{psutil.Process(me).create_time():.3f}"
    assert holder.process_start(gone, proc=missing) == ""
    assert holder.pid_alive(me, proc=missing) and not holder.pid_alive(gone, proc=missing)
    monkeypatch.setattr(holder, "PROC", missing)  # the lease and the watchdog's test, as on macOS
    lease = holder.lease_of()
    assert holder.holder_alive(lease) and not holder.holder_alive(f"{gone}:{lease.partition(':')[2]}")
    monkeypatch.setattr(holder, "POSIX", False)  # Windows: psutil asks, never os.kill (which ends the process)
    asked = []
    monkeypatch.setattr(psutil, "pid_exists", lambda pid, real=psutil.pid_exists: asked.append(pid) or real(pid))
    assert holder.pid_alive(me, proc=missing) and not holder.pid_alive(gone, proc=missing)
    assert asked == [me, gone]


def test_with_proc_the_kernels_start_time_tells_a_reused_pid_from_the_holder_and_another_machines_is_not_judged():
    me = os.getpid()
    lease = holder.lease_of(me)
    assert lease == f"{me}:{holder.process_start(me)}@{socket.gethostname()}" and holder.holder_alive(lease)
    assert not holder.holder_alive(f"{me}:1")  # the same pid, started at another time (a lease without a machine is this one's)
    assert holder.holder_alive(f"{_gone_pid()}:1@another-machine")  # judged by its own watchdog, not from here
    assert holder.pid_alive(me) and not holder.pid_alive(_gone_pid())


def test_a_ports_holder_is_named_from_proc_and_is_unknown_without_it(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_holder(port) == f"pid {os.getpid()} ({Path('/proc/self/comm').read_text().strip()})"
        assert port_holder(port, proc=tmp_path / "no-proc") is None


def test_children_are_interrupted_on_posix_and_terminated_on_windows(monkeypatch):
    sent = []

    class Child:
        def poll(self):
            return None

        def send_signal(self, sig):
            sent.append(("signal", sig))

        def terminate(self):
            sent.append(("terminate",))

        def wait(self, timeout=None):
            return 0

    processes.stop_children([Child()])
    monkeypatch.setattr(processes, "POSIX", False)
    processes.stop_children([Child()])
    assert sent == [("signal", processes.signal.SIGINT), ("terminate",)]
