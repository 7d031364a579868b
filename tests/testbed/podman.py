"""Podman's Docker-compatible API beside the machine's Docker engine, for the tests that run the
real-engine subset against Podman (NETRA_TEST_ENGINE=podman): `podman system service` on a
socket, storage, run root and network configuration of its own folder, so that nothing of the
machine's Podman or Docker is touched, with the example's base images loaded from the machine's
Docker engine.

Its containers.conf (../shared/TESTBED.md): default ulimits (root here lacks CAP_SYS_RESOURCE,
and Podman's defaults ask for more than it may set), netavark and aardvark-dns for networks
(service names resolve on compose networks), events in a file (no journald here), and its
temporary files in the folder too (not the machine's /run/libpod)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.testbed import host

CONFIG = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[network]
network_backend = "netavark"
network_config_dir = "{folder}/networks"

[engine]
events_logger = "file"
events_logfile_path = "{folder}/events.log"
tmp_dir = "{folder}/tmp"
# Each exec's conmon lingers this long after the exec ended (default 300 s), outliving the service.
exit_command_delay = 5
"""
START_TIMEOUT = 60.0


@dataclass
class Podman:
    folder: Path
    pid: int

    @property
    def host(self) -> str:
        """The DOCKER_HOST that reaches it."""
        return _host(self.folder)

    def load(self, *images: str) -> None:
        """Copy images from the machine's Docker engine (their names stay, under localhost/)."""
        host_env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE, env=host_env)
        try:
            subprocess.run(["docker", "-H", self.host, "load", "-q"], stdin=save.stdout, check=True,
                           stdout=subprocess.DEVNULL, env=host_env, timeout=600)
        finally:
            save.stdout.close()
            if save.wait(timeout=60) != 0:
                raise RuntimeError(f"`docker save {' '.join(images)}` failed")

    def stop(self) -> None:
        """Remove its containers (every one in its storage is the test bed's), end the service by
        its pid, unmount what it left mounted, remove the folder."""
        environ = {**os.environ, "CONTAINERS_CONF": str(self.folder / "containers.conf")}
        subprocess.run(_podman(self.folder, "rm", "--all", "--force", "--time", "0"), capture_output=True, env=environ,
                       timeout=120)
        host.end([self.pid, *_descendants(self.pid)])  # with the conmons of execs, waiting out their delay
        host.unmount_under(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)


def _podman(folder: Path, *args: str) -> list[str]:
    """A podman command on the test bed's own storage."""
    return ["podman", "--root", str(folder / "root"), "--runroot", str(folder / "run"), *args]


def _host(folder: Path) -> str:
    return f"unix://{folder}/podman.sock"


def _descendants(pid: int) -> list[int]:
    """The processes under `pid` (the service's: conmons, aardvark-dns), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def start(*images: str) -> Podman:
    """Start the service in a new folder, wait until it answers (bounded), load `images`."""
    missing = [tool for tool in ("podman", "catatonit") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not installed: run scripts/bootstrap (it installs Debian's packages)")
    folder = Path(tempfile.mkdtemp(prefix="netra-podman-", dir="/var/tmp"))
    (folder / "networks").mkdir()
    (folder / "containers.conf").write_text(CONFIG.format(folder=folder))
    log = open(folder / "service.log", "ab")
    # Under catatonit, a subreaper: each container's conmon leaves the service as an orphan, which
    # the machine's pid 1 here never reaps.
    child = subprocess.Popen(["catatonit", "--", *_podman(folder, "system", "service", "--time=0", _host(folder))],
                             env={**os.environ, "CONTAINERS_CONF": str(folder / "containers.conf")},
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    podman = Podman(folder, child.pid)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while subprocess.run(["docker", "-H", podman.host, "version"], capture_output=True).returncode != 0:
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"podman system service did not answer: "
                                   f"{(folder / 'service.log').read_text()[-2000:]}")
            time.sleep(0.2)
        if images:
            podman.load(*images)
    except BaseException:
        podman.stop()
        raise
    return podman
