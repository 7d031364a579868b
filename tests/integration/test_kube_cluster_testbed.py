"""The test bed's whole Kubernetes cluster (tests/testbed/cluster.py: one Docker-in-Docker node
container with the control plane, a kubelet on the node's dockerd and kube-proxy) works as the
tests need it: the node is Ready, an image loaded from the host engine runs in a pod without a
registry, a NodePort Service answers from the host, and pods reach a Service by its name (the
test bed's small cluster DNS)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.testbed import nodes

from .conftest import BUSYBOX

pytestmark = pytest.mark.slow


@pytest.fixture
def client(kube_cluster):
    return kube_cluster.client()


@pytest.fixture
def namespace(client):
    """A namespace of the test's own, deleted afterwards, pass or fail."""
    from lightkube.resources.core_v1 import Namespace
    from lightkube.models.meta_v1 import ObjectMeta

    name = f"testbed-{uuid.uuid4().hex[:8]}"
    client.create(Namespace(metadata=ObjectMeta(name=name)))
    try:
        yield name
    finally:
        client.delete(Namespace, name)


def test_the_node_is_ready_on_the_node_engine_and_tokens_authenticate(kube_cluster, client):
    from lightkube import ApiError
    from lightkube.resources.core_v1 import Node

    node = client.get(Node, kube_cluster.node_name)
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    assert node.status.nodeInfo.kubeletVersion.startswith("v1.20.")
    assert node.status.nodeInfo.containerRuntimeVersion.startswith("docker://")
    assert kube_cluster.node_address in {a.address for a in node.status.addresses}
    # The user without groups is known (not 401) but may do nothing no binding grants it.
    with pytest.raises(ApiError) as refused:
        list(kube_cluster.client(token=kube_cluster.user_token).list(Node))
    assert refused.value.status.code == 403


def _wait(what: str, check, timeout: float, explain) -> object:
    """check() until it returns something truthy, at most `timeout` seconds; else fail with explain()."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s:\n{explain()}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def busybox_loaded(kube_cluster):
    """The host engine's busybox image, in the node's runtime (through Cluster.load_command)."""
    if nodes.docker("image", "inspect", BUSYBOX, check=False).returncode != 0:
        pytest.fail(f"image {BUSYBOX} is missing: run scripts/build-images")
    saved = nodes.docker("save", BUSYBOX, binary=True, timeout=120).stdout
    subprocess.run(kube_cluster.load_command, input=saved, check=True, capture_output=True, timeout=120)
    assert nodes.docker("image", "inspect", BUSYBOX, host=kube_cluster.docker_host, check=False).returncode == 0
    return BUSYBOX


def _explain(kube_cluster, client, namespace: str) -> str:
    """The namespace's pods and events, and the control plane's logs: for a failure message."""
    from lightkube.resources.core_v1 import Event, Pod

    pods = [{"name": p.metadata.name, "phase": p.status.phase,
             "containers": [s.to_dict() for s in (p.status.containerStatuses or [])]}
            for p in client.list(Pod, namespace=namespace)]
    events = [f"{e.involvedObject.kind}/{e.involvedObject.name}: {e.reason}: {e.message}"
              for e in client.list(Event, namespace=namespace)]
    return json.dumps(pods, indent=1, default=str) + "\n" + "\n".join(events) + "\n" + kube_cluster.logs()


def _web(client, namespace: str, service_type: str = "ClusterIP"):
    """A Deployment `web` (busybox httpd on 8080 serving one page, ready once it listens) and its
    Service `web` on port 80; returns the Service as created."""
    from lightkube import codecs

    labels = {"app": "web"}
    script = ("mkdir -p /www && echo hello-from-the-test-bed > /www/index.html && echo serving"
              " && exec busybox httpd -f -p 8080 -h /www")
    client.create(codecs.from_dict({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"automountServiceAccountToken": False, "terminationGracePeriodSeconds": 1, "containers": [{
                "name": "web", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", script],
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}}}))
    return client.create(codecs.from_dict({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": namespace},
        "spec": {"type": service_type, "selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}}))


def test_a_loaded_image_runs_in_a_pod_and_its_node_port_answers_from_the_host(kube_cluster, client, namespace,
                                                                                busybox_loaded):
    from lightkube.resources.core_v1 import Pod

    node_port = _web(client, namespace, "NodePort").spec.ports[0].nodePort

    def explain() -> str:
        return _explain(kube_cluster, client, namespace)

    def ready_pod():
        for pod in client.list(Pod, namespace=namespace, labels={"app": "web"}):
            if any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or [])):
                return pod
        return None

    pod = _wait("no pod of the Deployment became Ready", ready_pod, 120, explain)
    assert pod.status.phase == "Running"
    assert pod.spec.nodeName == kube_cluster.node_name
    # The API server reaches the kubelet (logs, as exec and port-forward go).
    assert "serving" in "".join(client.log(pod.metadata.name, namespace=namespace))

    def answer():  # kube-proxy programs the NodePort shortly after the endpoints appear
        try:
            with urllib.request.urlopen(f"http://{kube_cluster.node_address}:{node_port}/", timeout=2) as reply:
                return reply.read().decode()
        except (urllib.error.URLError, OSError):
            return None

    body = _wait(f"NodePort {kube_cluster.node_address}:{node_port} did not answer", answer, 30, explain)
    assert body.strip() == "hello-from-the-test-bed"


def test_a_pod_reaches_a_service_by_its_name(kube_cluster, client, namespace, busybox_loaded):
    from lightkube import codecs
    from lightkube.resources.core_v1 import Pod

    _web(client, namespace)
    # The client asks for `web` (the search path makes it web.NAMESPACE.svc.cluster.local) until
    # the name resolves and the Service answers, then prints the page and ends.
    # (Until the page came whole: nc may end with the headers alone.)
    script = ("until page=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 web 80) && echo \"$page\" | grep -q '^hello';"
              " do sleep 0.5; done; echo \"$page\" | tail -n 1")
    client.create(codecs.from_dict({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": namespace},
        "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "client", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sh", "-c", script]}]}}))

    def done():
        phase = client.get(Pod, "client", namespace=namespace).status.phase
        return phase if phase in ("Succeeded", "Failed") else None

    assert _wait("the client pod did not finish", done, 120,
                 lambda: _explain(kube_cluster, client, namespace)) == "Succeeded"
    # (Before it: `nc: bad address 'web'` while the name is not listed yet, up to a second.)
    assert "".join(client.log("client", namespace=namespace)).splitlines()[-1] == "hello-from-the-test-bed"
