"""Child processes of netra-stack (compose commands, a test run): stopped as Ctrl-C would."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable

POSIX = os.name == "posix"  # Windows cannot send SIGINT to one child


def last_line(output: str, default: str = "no output") -> str:
    """Where a failed command says why: the last line it printed that is not blank."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else default


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
