"""A Kubernetes API server for the tests: etcd and kube-apiserver as processes on loopback
(the binaries from `scripts/build-images kube`, built once from Debian's source package and
cached outside the repository), with token authentication and RBAC. No controllers and no
nodes: objects are stored and validated as a real cluster would, nothing runs. Started once per
test session, stopped by the pids it started, its folder removed, pass or fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import REPO

CACHE = Path(os.environ.get("NETRA_TESTBED_CACHE", "/var/cache/netra-testbed"))
APISERVER = CACHE / "kubernetes-1.20.2" / "kube-apiserver"


def build() -> Path:
    """The API server binary, built once (the script skips it when it is cached)."""
    subprocess.run([str(REPO / "scripts" / "build-images"), "kube"], check=True, timeout=3600)
    return APISERVER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ApiServer:
    folder: Path
    port: int
    token: str  # of the user `admin`, in group system:masters
    user_token: str  # of the user `netra`, in no group: it may do only what a binding grants it
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def kubeconfig(self, token: str | None = None, namespace: str = "default") -> dict:
        """A kubeconfig (as a dict) for this server, as `token` (default: the admin's)."""
        return {"apiVersion": "v1", "kind": "Config", "current-context": "testbed",
                "clusters": [{"name": "testbed", "cluster": {"server": self.server, "insecure-skip-tls-verify": True}}],
                "users": [{"name": "user", "user": {"token": token or self.token}}],
                "contexts": [{"name": "testbed", "context": {"cluster": "testbed", "user": "user", "namespace": namespace}}]}

    def stop(self) -> None:
        for process in reversed(self.processes):  # by the pid it started, never by name
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start(timeout: float = 60) -> ApiServer:
    """etcd and kube-apiserver on free loopback ports, ready to answer; stopped again if they do not come up."""
    folder = Path(tempfile.mkdtemp(prefix="netra-testbed-kube-"))
    found = ApiServer(folder, _free_port(), secrets.token_hex(16), secrets.token_hex(16))
    try:
        etcd_port, peer_port = _free_port(), _free_port()
        log = (folder / "etcd.log").open("w")
        found.processes.append(subprocess.Popen(
            ["etcd", "--data-dir", str(folder / "etcd"), "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
             "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}", "--listen-peer-urls", f"http://127.0.0.1:{peer_port}"],
            stdout=log, stderr=subprocess.STDOUT))
        subprocess.run(["openssl", "genrsa", "-out", str(folder / "sa.key"), "2048"], check=True, capture_output=True)
        (folder / "tokens.csv").write_text(f"{found.token},admin,admin,system:masters\n{found.user_token},netra,netra\n")
        log = (folder / "apiserver.log").open("w")
        found.processes.append(subprocess.Popen(
            [str(APISERVER), f"--etcd-servers=http://127.0.0.1:{etcd_port}", "--bind-address=127.0.0.1",
             f"--secure-port={found.port}", "--insecure-port=0", f"--cert-dir={folder / 'certs'}",
             f"--token-auth-file={folder / 'tokens.csv'}", "--authorization-mode=RBAC",
             f"--service-account-key-file={folder / 'sa.key'}", f"--service-account-signing-key-file={folder / 'sa.key'}",
             "--service-account-issuer=https://kubernetes.default.svc", "--service-cluster-ip-range=10.96.0.0/16",
             "--service-node-port-range=30000-32767"],
            stdout=log, stderr=subprocess.STDOUT))
        _wait_ready(found, time.monotonic() + timeout)
        return found
    except BaseException:
        found.stop()
        raise


def _wait_ready(found: ApiServer, deadline: float) -> None:
    import ssl
    import urllib.error
    import urllib.request

    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # its own self-signed certificate
    request = urllib.request.Request(f"{found.server}/readyz", headers={"Authorization": f"Bearer {found.token}"})
    while True:
        try:
            with urllib.request.urlopen(request, context=insecure, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if any(p.poll() is not None for p in found.processes) or time.monotonic() > deadline:
            tail = (found.folder / "apiserver.log").read_text()[-2000:]
            raise RuntimeError(f"the test bed's API server did not become ready: {tail}")
        time.sleep(0.2)
