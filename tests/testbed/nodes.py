"""Docker Swarms for the tests, made of Docker-in-Docker node containers on the host engine, so
that the host engine itself never enters swarm mode (tests/testbed/node-entrypoint.sh; the node
image comes from `scripts/build-images node`, built once and reused).

Every node container, its volume and the cluster's network carry the label TESTBED=<cluster id>
and OWNER=<pid of the process that made it>; `remove()` removes them by that label, and
`remove_leftovers()` removes what a process that is gone left behind (a session killed before its
teardown). The host reaches each node's engine through a socket in a folder it bind-mounts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import REPO

IMAGE = os.environ.get("NETRA_TESTBED_NODE_IMAGE", "netra-testbed/node:trixie")
TESTBED = "io.netra-stack.testbed"  # the cluster id, on every resource of a test bed
OWNER = "io.netra-stack.testbed-owner"  # the pid of the process that made it
# What a node needs to run dockerd without --privileged (the flags of ../shared/TESTBED.md).
NODE_FLAGS = ["--cgroupns=private", "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
              "--security-opt", "seccomp=unconfined", "--security-opt", "systempaths=unconfined",
              "--device-cgroup-rule", "a *:* rwm", "--device", "/dev/fuse", "--device", "/dev/kmsg",
              "--tmpfs", "/run"]
REGISTRY = "registry:5000"  # the cluster's registry (`start(registry=True)`), by its name on the cluster's network
# Debian's docker-registry, without the package's htpasswd authentication: the test bed's is open.
REGISTRY_CONFIG = "version: 0.1\nstorage: {filesystem: {rootdirectory: /var/lib/docker-registry}}\nhttp: {addr: ':5000'}\n"


def docker(*args: str, host: str | None = None, timeout: float = 120, check: bool = True,
           stdin: bytes | None = None, binary: bool = False) -> subprocess.CompletedProcess:
    """The docker CLI, on the host engine or on a node's (`host`); text output unless `binary`."""
    env = {**os.environ, **({"DOCKER_HOST": host} if host else {})}
    if host is None:
        env.pop("DOCKER_HOST", None)
    return subprocess.run(["docker", *args], env=env, capture_output=True, timeout=timeout, check=check,
                          input=stdin, text=not binary and stdin is None)


def build_image() -> None:
    """The node image, built once (the script skips it when it is current)."""
    subprocess.run([str(REPO / "scripts" / "build-images"), "node"], check=True, timeout=1200)


@dataclass
class Node:
    name: str  # its container's
    hostname: str  # the swarm's name for it
    address: str  # on the cluster's network: what the swarm advertises
    socket_dir: Path

    @property
    def host(self) -> str:
        """DOCKER_HOST for this node's engine."""
        return f"unix://{self.socket_dir}/docker.sock"


@dataclass
class Cluster:
    id: str
    folder: Path  # the nodes' socket folders
    nodes: list[Node] = field(default_factory=list)
    registry: str | None = None  # a registry every node pulls from (plain http: the nodes trust it)

    @property
    def manager(self) -> Node:
        return self.nodes[0]

    def environ(self) -> dict[str, str]:
        """What a netra-stack that deploys to this swarm is given: the manager as DOCKER_HOST,
        the workers' engines in NETRA_SWARM_NODES."""
        workers = ",".join(f"{node.hostname}={node.host}" for node in self.nodes[1:])
        return {"DOCKER_HOST": self.manager.host, **({"NETRA_SWARM_NODES": workers} if workers else {})}

    def load(self, *images: str) -> None:
        """Images of the host engine into every node (there is no registry)."""
        for image in images:
            saved = docker("save", image, timeout=300, binary=True).stdout
            for node in self.nodes:
                docker("load", host=node.host, stdin=saved, timeout=300)

    def remove(self) -> None:
        remove_by_label(f"{TESTBED}={self.id}")
        shutil.rmtree(self.folder, ignore_errors=True)


def remove_by_label(selector: str) -> None:
    """Every node container, volume and network of the test bed that `selector` matches."""
    containers = docker("ps", "-aq", "--filter", f"label={selector}").stdout.split()
    if containers:
        docker("rm", "-f", "-v", *containers, check=False)
    volumes = docker("volume", "ls", "-q", "--filter", f"label={selector}").stdout.split()
    if volumes:
        docker("volume", "rm", "-f", *volumes, check=False)
    networks = docker("network", "ls", "-q", "--filter", f"label={selector}").stdout.split()
    if networks:
        docker("network", "rm", *networks, check=False)


def remove_leftovers() -> None:
    """Test beds (swarms, Kubernetes clusters) whose making process is gone (a killed session),
    and their socket folders."""
    found = docker("ps", "-a", "--filter", f"label={TESTBED}", "--format",
                   f'{{{{.Label "{TESTBED}"}}}} {{{{.Label "{OWNER}"}}}}').stdout.split("\n")
    for line in filter(None, found):
        cluster, owner = line.split()
        if not Path(f"/proc/{owner}").exists():
            remove_by_label(f"{TESTBED}={cluster}")
            for folder in Path(tempfile.gettempdir()).glob(f"netra-testbed-{cluster}-*"):
                shutil.rmtree(folder, ignore_errors=True)


def start(nodes: int = 1, timeout: float = 90, *, registry: bool = False) -> Cluster:
    """A swarm of `nodes` nodes (the first the manager, the others workers), ready to deploy to;
    `registry`: with a registry container beside them (Cluster.registry). What was made is
    removed again if it fails to come up."""
    id = uuid.uuid4().hex[:8]
    cluster = Cluster(id, Path(tempfile.mkdtemp(prefix=f"netra-testbed-{id}-")))
    labels = ["--label", f"{TESTBED}={cluster.id}", "--label", f"{OWNER}={os.getpid()}"]
    network = f"netra-testbed-{cluster.id}"
    try:
        docker("network", "create", *labels, "--opt", "com.docker.network.driver.mtu=1450", network)
        if registry:
            name, _, port = REGISTRY.partition(":")
            docker("run", "-d", "--name", f"{network}-registry", *labels, "--network", network, "--network-alias", name,
                   "--entrypoint", "sh", IMAGE, "-c",
                   f"printf \"{REGISTRY_CONFIG}\" > /registry.yml && exec docker-registry serve /registry.yml")
            cluster.registry = REGISTRY
        for number in range(nodes):
            name = f"{network}-node{number}"
            sockets = cluster.folder / f"node{number}"
            sockets.mkdir()
            docker("volume", "create", *labels, name)
            docker("run", "-d", "--name", name, "--hostname", f"node{number}", *labels, "--network", network,
                   *NODE_FLAGS, "-v", f"{name}:/var/lib/docker", "-v", f"{sockets}:/sock", IMAGE,
                   "--insecure-registry", REGISTRY)
            address = docker("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}',
                             name).stdout.strip()
            cluster.nodes.append(Node(name, f"node{number}", address, sockets))
        deadline = time.monotonic() + timeout
        for node in cluster.nodes:
            _wait_for_engine(node, deadline)
        manager = cluster.manager
        docker("swarm", "init", "--advertise-addr", manager.address, host=manager.host)
        token = docker("swarm", "join-token", "-q", "worker", host=manager.host).stdout.strip()
        for worker in cluster.nodes[1:]:
            docker("swarm", "join", "--token", token, f"{manager.address}:2377", host=worker.host)
        _wait_for_nodes(cluster, deadline)
        return cluster
    except BaseException:
        cluster.remove()
        raise


def _wait_for_engine(node: Node, deadline: float) -> None:
    while True:
        if docker("version", "--format", "{{.Server.Version}}", host=node.host, check=False, timeout=10).returncode == 0:
            return
        if time.monotonic() > deadline:
            logs = docker("logs", "--tail", "20", node.name, check=False)
            raise RuntimeError(f"the engine of test-bed node {node.name} did not answer: {logs.stdout + logs.stderr}")
        time.sleep(0.2)


def _wait_for_nodes(cluster: Cluster, deadline: float) -> None:
    while True:
        ready = docker("node", "ls", "--format", "{{.Status}}", host=cluster.manager.host).stdout.split()
        if ready.count("Ready") == len(cluster.nodes):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"test-bed swarm {cluster.id}: nodes not Ready: {ready}")
        time.sleep(0.2)
