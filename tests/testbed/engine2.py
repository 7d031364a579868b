"""A second Docker engine beside the machine's own, for the tests of starting an engine and of a
remote one: dockerd on its own socket (and, if asked, a tcp port on loopback), data root, exec
root and bridge, so that it never touches the machine's engine (../shared/TESTBED.md: never
`--bridge=none`, which deletes the host's docker0).

    python tests/testbed/engine2.py start DIR [--tcp PORT [--tcp-host ADDRESS]] [--load IMAGE.tar]
    python tests/testbed/engine2.py stop DIR

`start` returns at once, or, with --load, once the engine answers and holds the images of the tar;
it is what the tests configure as netra-stack's engine start command. `stop` ends dockerd by the
pid it wrote, removes its bridge, forwarding rule, cgroups and the folder. A folder is started
once: dockerd 20.10 started again on a data root it used before deletes the host's docker0."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

try:
    from . import host
except ImportError:  # run as a script: the start command the tests configure
    import host

SUBNET = "10.213.0.0/16"  # its bridge and its networks: 10.213.255.1/24, pool 10.213.0.0/17
BRIDGE_ADDRESS = "10.213.255.1"  # an address of this machine off loopback, reached from nowhere else
FORWARD = ["FORWARD", "-s", SUBNET, "-d", SUBNET, "-j", "ACCEPT"]  # the host's FORWARD policy is DROP


def bridge_of(folder: Path) -> str:
    return "ns2-" + hashlib.sha1(str(folder).encode()).hexdigest()[:8]


def socket_of(folder: Path) -> str:
    return f"unix://{folder}/docker.sock"


def start(folder: Path, tcp_port: int | None = None, load: Path | None = None, tcp_host: str = "127.0.0.1") -> int:
    """Start dockerd, detached; its pid. With `tcp_port`, it also listens there on `tcp_host`
    (BRIDGE_ADDRESS: as a remote engine would, off loopback). With `load`, return once it answers
    and holds that tar's images."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "data").exists():
        raise SystemExit(f"{folder} was started before: dockerd would delete the host's docker0; use a new folder")
    bridge = bridge_of(folder)
    if subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode != 0:
        subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "link", "set", bridge, "mtu", "1400"], check=True)
        subprocess.run(["ip", "addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", bridge], check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
    if subprocess.run(["iptables", "-C", *FORWARD], capture_output=True).returncode != 0:
        subprocess.run(["iptables", "-I", *FORWARD], check=True)
    (folder / "daemon.json").write_text(json.dumps({}))
    hosts = ["-H", socket_of(folder), *(["-H", f"tcp://{tcp_host}:{tcp_port}"] if tcp_port else [])]
    log = open(folder / "dockerd.log", "ab")
    child = subprocess.Popen(
        ["dockerd", "--config-file", str(folder / "daemon.json"), "--data-root", str(folder / "data"),
         "--exec-root", str(folder / "exec"), "--pidfile", str(folder / "docker.pid"), *hosts,
         "--bridge", bridge, "--default-address-pool", "base=10.213.0.0/17,size=24", "--iptables=false",
         "--ip-masq=false", "--ip-forward=false", f"--cgroup-parent=/{bridge}", "--mtu=1400",
         "--storage-driver=overlay2"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    (folder / "started.pid").write_text(str(child.pid))
    if load is not None:
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "-H", socket_of(folder), "version"], capture_output=True).returncode != 0:
            if child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"dockerd did not answer: {(folder / 'dockerd.log').read_text()[-2000:]}")
            time.sleep(0.2)
        subprocess.run(["docker", "-H", socket_of(folder), "load", "-q", "-i", str(load)], check=True,
                       stdout=subprocess.DEVNULL)
    return child.pid


def stop(folder: Path) -> None:
    """End dockerd by its pid (SIGTERM, then SIGKILL after 30 s), then remove what start made."""
    pid_file = folder / "started.pid"
    if pid_file.exists():
        host.end([int(pid_file.read_text())])
    subprocess.run(["iptables", "-D", *FORWARD], capture_output=True)
    subprocess.run(["ip", "link", "del", bridge_of(folder)], capture_output=True)
    root = Path("/sys/fs/cgroup")
    for cgroup in [root / bridge_of(folder), *root.glob(f"*/{bridge_of(folder)}")]:  # v2, and each v1 hierarchy
        try:
            cgroup.rmdir()  # its --cgroup-parent, empty once its containers are gone
        except OSError:
            pass
    host.unmount_under(folder)  # what dockerd left mounted
    subprocess.run(["rm", "-rf", str(folder)], check=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tcp", type=int, help="also listen on this tcp port")
    parser.add_argument("--tcp-host", default="127.0.0.1", help="of this address (default 127.0.0.1)")
    parser.add_argument("--load", type=Path, help="a `docker save` tar to load once the engine answers")
    args = parser.parse_args()
    start(args.folder, args.tcp, args.load, args.tcp_host) if args.command == "start" else stop(args.folder)
