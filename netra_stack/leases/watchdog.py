"""The reaper of held environments: one small detached process per environment that a process
holds (the API as a context manager, the pytest plugin). It watches the holder and, when the
holder is gone — even killed with SIGKILL, where no cleanup code of its own can run — removes
the environment. Like testcontainers' Ryuk, but for a whole environment, on any backend.

Bound: the holder's death is seen within POLL seconds; removal then takes what the backend's
`down` takes (a few seconds with compose). The watchdog ends by itself once the environment is gone.

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

POLL = 1.0  # seconds between looks at the holder
GONE_CHECK = 10  # look at the engine every this many polls, to end once the environment is gone


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
        if polls % GONE_CHECK == 0 and not backend.instances(environment, detail=False):
            return  # released by its holder
    # The holder is gone. Remove what still carries its lease, twice: an `up` it had started may
    # still be creating instances.
    for _ in range(2):
        if any(c.labels.get(L.LEASE) == lease for c in backend.instances(environment, detail=False)):
            backend.down(environment)
        time.sleep(3)


if __name__ == "__main__":
    from netra_stack.plugins.registry import Plugins

    watch(sys.argv[1], sys.argv[2], Plugins().backend(sys.argv[3], os.environ))
