"""The reaper of held environments: one small detached process per environment that a process
holds (the API as a context manager, the pytest plugin). It watches the holder and, when the
holder is gone — even killed with SIGKILL, where no cleanup code of its own can run — removes
the environment. Like testcontainers' Ryuk, but for a whole compose environment.

Bound: the holder's death is seen within POLL seconds; removal then takes what `docker compose
down` takes (a few seconds). The watchdog ends by itself once the environment is gone.

    python -m netra_stack.watchdog ENVIRONMENT HOLDER_PID HOLDER_START
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

POLL = 1.0  # seconds between looks at the holder
GONE_CHECK = 10  # look at the engine every this many polls, to end once the environment is gone


def process_start(pid: int) -> str:
    """The kernel's start time of a process ('' if it is gone): tells a pid reused by another."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def lease_of(pid: int | None = None) -> str:
    """The lease label value naming a holder: pid and start time."""
    pid = pid or os.getpid()
    return f"{pid}:{process_start(pid)}"


def holder_alive(lease: str) -> bool:
    pid, _, start = lease.partition(":")
    return pid.isdigit() and process_start(int(pid)) == start


def spawn(environment: str) -> None:
    """Start the watchdog of an environment held by this process, detached from it."""
    subprocess.Popen([sys.executable, "-m", "netra_stack.watchdog", environment, lease_of()],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True)


def watch(environment: str, lease: str) -> None:
    from . import engine
    from . import labels as L
    from .cleanup import release

    polls = 0
    while holder_alive(lease):
        time.sleep(POLL)
        polls += 1
        if polls % GONE_CHECK == 0 and not engine.summaries(environment):
            return  # released by its holder
    # The holder is gone. Remove what still carries its lease, twice: an `up` it had started may
    # still be creating containers.
    for _ in range(2):
        if any(c.labels.get(L.LEASE) == lease for c in engine.summaries(environment)):
            release(environment)
        time.sleep(3)


if __name__ == "__main__":
    watch(sys.argv[1], sys.argv[2])
