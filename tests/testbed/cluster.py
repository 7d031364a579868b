"""A whole single-node Kubernetes 1.20 cluster for the tests, in one Docker-in-Docker node
container on the host engine (tests/testbed/kube-node-entrypoint.sh: etcd, the control plane, the
kubelet with the dockershim on the node's own dockerd, kube-proxy in iptables mode, a small
cluster DNS; no CNI). The node image comes from `scripts/build-images kube-node`; the Kubernetes
binaries (`scripts/build-images kube`, cached outside the repository) and the host's etcd are bind-mounted
read-only, so rebuilding them needs no new image.

The node container, its volume and its network carry the labels TESTBED/OWNER of
tests/testbed/nodes.py and are removed by that label, pass or fail (`Cluster.stop()`);
`remove_leftovers()` removes what a process that is gone left behind. The host reaches the API
server at https://NODE_ADDRESS:6443, NodePorts at NODE_ADDRESS:PORT, and the node's engine through
a socket in a folder it bind-mounts (`docker_host`).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import ssl
import subprocess
import tarfile
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO
from tests.testbed.kube import CACHE
from tests.testbed.nodes import NODE_FLAGS, OWNER, TESTBED, docker, remove_by_label, remove_leftovers

__all__ = ["IMAGE", "BINARIES", "Cluster", "build", "start", "remove_leftovers"]

IMAGE = os.environ.get("NETRA_TESTBED_KUBE_NODE_IMAGE", "netra-testbed/kube-node:bookworm")
BINARIES = CACHE / "kubernetes-1.20.2"  # kube-apiserver ... kube-proxy and pause, from `scripts/build-images kube`
ETCD = Path(shutil.which("etcd") or "/usr/bin/etcd")  # Debian's etcd-server (the same glibc as the node's bookworm)
NODE_NAME = "node0"  # the container's hostname: the Kubernetes node's name
PORT = 6443
# The control plane's logs in the node, in the order a failure message shows them.
COMPONENTS = ["kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "etcd", "dockerd"]


def build() -> None:
    """The binaries and the node image, each built once (the script skips what is current)."""
    script = str(REPO / "scripts" / "build-images")
    subprocess.run([script, "kube"], check=True, timeout=3600)
    subprocess.run([script, "kube-node"], check=True, timeout=1200)


@dataclass
class Cluster:
    id: str
    container: str  # the node container's name
    node_address: str  # the node container's address: the API server's and the NodePorts' host
    token: str  # of the user `admin`, in group system:masters
    user_token: str  # of the user `netra`, in no group: it may do only what a binding grants it
    folder: Path  # the node's socket folder (its /sock)
    node_name: str = NODE_NAME
    ready_after: float = 0.0  # seconds from `docker run` to the node Ready and schedulable

    @property
    def server(self) -> str:
        return f"https://{self.node_address}:{PORT}"

    @property
    def docker_host(self) -> str:
        """DOCKER_HOST for the node's own engine (the kubelet's container runtime)."""
        return f"unix://{self.folder}/docker.sock"

    @property
    def load_command(self) -> list[str]:
        """A command that reads a `docker save` tar on stdin and loads it into the node's runtime."""
        return ["docker", "exec", "-i", self.container, "docker", "load", "-q"]

    def kubeconfig(self, token: str | None = None, namespace: str = "default") -> dict:
        """A kubeconfig (as a dict) for this cluster, as `token` (default: the admin's)."""
        return {"apiVersion": "v1", "kind": "Config", "current-context": "testbed",
                "clusters": [{"name": "testbed", "cluster": {"server": self.server, "insecure-skip-tls-verify": True}}],
                "users": [{"name": "user", "user": {"token": token or self.token}}],
                "contexts": [{"name": "testbed", "context": {"cluster": "testbed", "user": "user", "namespace": namespace}}]}

    def write_kubeconfig(self, path: str | os.PathLike, token: str | None = None, namespace: str = "default") -> Path:
        """kubeconfig() as a file (JSON, which kubectl and every client read as YAML), mode 0600."""
        path = Path(path)
        path.write_text(json.dumps(self.kubeconfig(token, namespace), indent=2) + "\n")
        path.chmod(0o600)
        return path

    def client(self, token: str | None = None, namespace: str = "default"):
        """A lightkube Client for this cluster."""
        from lightkube import Client, KubeConfig

        return Client(KubeConfig.from_dict(self.kubeconfig(token, namespace)), field_manager="netra-testbed")

    def load(self, *images: str) -> None:
        """Images of the host engine into the node's runtime (there is no registry)."""
        for image in images:
            saved = docker("save", image, timeout=300, binary=True).stdout
            subprocess.run(self.load_command, input=saved, capture_output=True, timeout=300, check=True)

    def logs(self, lines: int = 25) -> str:
        """The tail of each component's log (kubelet and API server first) and of the node's own
        output: for failure messages. Works on a node that has exited too."""
        found: dict[str, str] = {}
        saved = docker("cp", f"{self.container}:/var/log/kube", "-", binary=True, check=False, timeout=60)
        if saved.returncode == 0:
            with tarfile.open(fileobj=io.BytesIO(saved.stdout)) as tar:
                for member in tar.getmembers():
                    if member.isfile() and member.name.endswith(".log"):
                        text = tar.extractfile(member).read().decode(errors="replace")
                        found[Path(member.name).stem] = "\n".join(text.splitlines()[-lines:])
        parts = [f"== {name}.log ==\n{found.pop(name)}" for name in COMPONENTS if name in found]
        parts += [f"== {name}.log ==\n{text}" for name, text in sorted(found.items())]
        own = docker("logs", "--tail", str(lines), self.container, check=False, timeout=30)
        parts.append(f"== {self.container} (entrypoint) ==\n{own.stdout}{own.stderr}")
        return "\n".join(parts)

    def stop(self) -> None:
        """The node container, its volume and its network, by their label; the socket folder."""
        remove_by_label(f"{TESTBED}={self.id}")
        shutil.rmtree(self.folder, ignore_errors=True)


def start(timeout: float = 180) -> Cluster:
    """The cluster, its node Ready and schedulable; removed again (with the control plane's logs in
    the exception) if it does not come up within `timeout` seconds."""
    id = uuid.uuid4().hex[:8]
    name = f"netra-testbed-{id}-kube"
    cluster = Cluster(id, name, "", secrets.token_hex(16), secrets.token_hex(16),
                      Path(tempfile.mkdtemp(prefix=f"netra-testbed-{id}-")))
    labels = ["--label", f"{TESTBED}={id}", "--label", f"{OWNER}={os.getpid()}"]
    try:
        for path in [*(BINARIES / binary for binary in ("kube-apiserver", "kubelet", "kube-proxy", "pause")), ETCD]:
            if not path.exists():
                raise RuntimeError(f"{path} is missing: run scripts/build-images kube")
        docker("network", "create", *labels, "--opt", "com.docker.network.driver.mtu=1450", name)
        docker("volume", "create", *labels, name)
        started = time.monotonic()
        docker("run", "-d", "--init", "--name", name, "--hostname", NODE_NAME, *labels, "--network", name, *NODE_FLAGS,
               "--tmpfs", "/var/lib/etcd", "-v", f"{name}:/var/lib/docker", "-v", f"{cluster.folder}:/sock",
               "-v", f"{BINARIES}:/opt/kubernetes:ro", "-v", f"{ETCD}:/usr/local/bin/etcd:ro",
               "-e", f"NETRA_KUBE_TOKEN={cluster.token}", "-e", f"NETRA_KUBE_USER_TOKEN={cluster.user_token}", IMAGE)
        cluster.node_address = docker("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{name}").IPAddress}}}}',
                                      name).stdout.strip()
        _wait_ready(cluster, started + timeout)
        cluster.ready_after = time.monotonic() - started
        return cluster
    except BaseException:
        cluster.stop()
        raise


def _running(cluster: Cluster) -> bool:
    state = docker("inspect", "-f", "{{.State.Running}}", cluster.container, check=False, timeout=30)
    return state.stdout.strip() == "true"


def _wait_ready(cluster: Cluster, deadline: float) -> None:
    """Until the API server is ready, the node Ready without the not-ready taint (what the node
    lifecycle controller takes off a few seconds after Ready), and the default ServiceAccount made."""
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # its own self-signed certificate
    request = urllib.request.Request(f"{cluster.server}/readyz", headers={"Authorization": f"Bearer {cluster.token}"})

    def api_ready(_client) -> bool:
        with urllib.request.urlopen(request, context=insecure, timeout=2) as answer:
            return answer.status == 200

    steps = [("the API server's /readyz", api_ready),
             (f"node {cluster.node_name} Ready and untainted", lambda client: _schedulable(client, cluster.node_name)),
             ("the ServiceAccount default/default", _default_service_account)]
    client, last_error = cluster.client(), ""
    while steps:
        waiting_for, check = steps[0]
        try:
            if check(client):
                steps.pop(0)
                continue
        except Exception as error:  # what the API answers while it comes up; shown if it never does
            last_error = f" (last: {error!r})"
        running = _running(cluster)
        if not running or time.monotonic() > deadline:
            how = "timed out" if running else "exited"
            raise RuntimeError(f"the test bed's Kubernetes cluster did not come up ({how} waiting for "
                               f"{waiting_for}{last_error}):\n{cluster.logs()}")
        time.sleep(0.3)


def _schedulable(client, node_name: str) -> bool:
    from lightkube.core.exceptions import ApiError
    from lightkube.resources.core_v1 import Node

    try:
        node = client.get(Node, node_name)
    except ApiError as error:
        if error.status.code == 404:  # the kubelet has not registered it yet
            return False
        raise
    ready = any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))
    tainted = any(t.key.startswith("node.kubernetes.io/") for t in (node.spec.taints or []))
    return ready and not tainted


def _default_service_account(client) -> bool:
    from lightkube.core.exceptions import ApiError
    from lightkube.resources.core_v1 import ServiceAccount

    try:
        client.get(ServiceAccount, "default", namespace="default")
        return True
    except ApiError as error:
        if error.status.code == 404:
            return False
        raise
