"""Conflicts the engine reports are recognised and resolved through the conflict policy."""

from __future__ import annotations

import os
import socket

from netra_stack import engine
from netra_stack.builtin.ports import is_free
from netra_stack.errors import ExitCode

from .conftest import run_cli


def test_fixed_port_held_by_a_foreign_process(mini_env):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        before = {c.id for c in engine.containers()}
        result = run_cli("up", "--profile", "mini-fixed", env={**mini_env, "MINI_WEB_PORT": str(port)})
        assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: starting mini-fixed-") and str(port) in last
        assert f"fixed by the profile and taken by another process: pid {os.getpid()} (" in last
        assert {c.id for c in engine.containers()} == before  # the half-made environment is gone
    finally:
        holder.close()
    assert is_free(port)
