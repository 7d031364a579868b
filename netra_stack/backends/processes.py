"""Child processes of netra-stack (compose commands, a test run): stopped as Ctrl-C would."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable, Mapping

from netra_stack.model.errors import EngineError

POSIX = os.name == "posix"  # Windows cannot send SIGINT to one child


def last_line(output: str, default: str = "no output") -> str:
    """Where a failed command says why: the last line it printed that is not blank."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else default


def run_docker(environ: Mapping[str, str], *args: str, timeout: float = 300) -> str:
    """`docker ARGS...` (the CLI, no shell) in `environ`; its stdout, or an EngineError that
    names the command and ends with what it said."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, env=dict(environ), timeout=timeout)
    if done.returncode != 0:
        text = (done.stderr or done.stdout).strip()
        raise EngineError(f"`docker {' '.join(args[:2])}` failed: {last_line(text)}", stderr=text)
    return done.stdout


def stop_children(children: Iterable[subprocess.Popen], grace: float = 30) -> None:
    """Interrupt child processes (SIGINT, as Ctrl-C would; on Windows, terminate them) and wait
    for them to finish; kill whichever is still running after `grace` seconds."""
    children = list(children)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT) if POSIX else child.terminate()
    for child in children:
        try:
            child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
