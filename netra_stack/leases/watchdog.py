"""The reaper of held environments: one small detached process per environment that a process
holds (the API as a context manager, the pytest plugin). It watches the holder and, when the
holder is gone — even killed with SIGKILL, where no cleanup code of its own can run — removes
the environment. Like testcontainers' Ryuk, but for a whole environment, on any backend.

Bound: the holder's death is seen within POLL seconds; removal then takes what the backend's
`down` takes (a few seconds with compose). The watchdog runs beside the holder, on its machine,
whatever engine it talks to: for a remote engine that does not answer when the holder dies, it
tries again every RETRY seconds for REACH seconds (`netra-stack clean` on the holder's machine
removes what is left after that). It ends by itself once the environment is gone.

    python -m netra_stack.leases.watchdog ENVIRONMENT LEASE BACKEND
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping

from netra_stack.leases.holder import holder_alive, lease_of
from netra_stack.model import labels as L
from netra_stack.model.errors import NetraError

POLL = 1.0  # seconds between looks at the holder
GONE_CHECK = 10  # look at the engine every this many polls, to end once the environment is gone
RETRY, REACH = 5.0, 600.0  # seconds between tries, and in all, to reach an engine that does not answer


def spawn(environment: str, backend: str, environ: Mapping[str, str]) -> None:
    """Start the watchdog of an environment held by this process, detached from it, with the
    manager's environment (the same engine, the same state directory)."""
    subprocess.Popen([sys.executable, "-m", "netra_stack.leases.watchdog", environment, lease_of(), backend],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True, env=dict(environ))


def watch(environment: str, lease: str, backend) -> None:
    polls = 0
    while holder_alive(lease):
        time.sleep(POLL)
        polls += 1
        if polls % GONE_CHECK == 0 and _answering(lambda: not backend.instances(environment, detail=False), 0):
            return  # released by its holder
    # The holder is gone. Remove what still carries its lease, twice: an `up` it had started may
    # still be creating instances.
    for _ in range(2):
        _answering(lambda: any(c.labels.get(L.LEASE) == lease for c in backend.instances(environment, detail=False))
                   and backend.down(environment), REACH)
        time.sleep(3)


def _answering(call, patience: float):
    """`call()`, tried again every RETRY seconds while the engine does not answer, for `patience`
    seconds; None if it never did."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return call()
        except NetraError:  # the engine (a remote one, say) does not answer now
            if time.monotonic() >= deadline:
                return None
            time.sleep(RETRY)


if __name__ == "__main__":
    from netra_stack.plugins.registry import Plugins

    watch(sys.argv[1], sys.argv[2], Plugins().backend(sys.argv[3], os.environ))
