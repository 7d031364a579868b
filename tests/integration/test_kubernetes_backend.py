"""The kubernetes backend on a real single-node cluster (tests/testbed/cluster.py: Kubernetes 1.20
inside one node container): pods from images built here and loaded into the node, readiness,
a one-shot Job gating a Deployment, NodePorts reached from the host, failures as they are
reported, and teardown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from netra_stack.manager import StackManager
from netra_stack.model import labels as L
from netra_stack.model.errors import ExitCode, NotHealthyError
from netra_stack.model.health import HealthState
from tests.helpers import FIXTURES, REPO

from .conftest import run_cli

pytestmark = pytest.mark.slow
KUBE_PROFILES = FIXTURES / "kube" / "profiles"


@pytest.fixture
def kube_env(kube_cluster, mini_env, tmp_path, module_built_images):  # the chain's web image: built once, removed after
    config = tmp_path / "kubeconfig"
    kube_cluster.write_kubeconfig(config)
    return {**mini_env, "KUBECONFIG": str(config), "NETRA_TESTBED_KUBE_NODE": kube_cluster.container,
            "NETRA_STACK_PROFILE_PATH": str(KUBE_PROFILES), "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{mini_env['PATH']}"}  # the test extras' kubectl


@pytest.fixture
def api(kube_cluster):
    from lightkube import Client, KubeConfig

    client = Client(KubeConfig.from_dict(kube_cluster.kubeconfig()))
    yield client
    client.close()


@pytest.fixture(autouse=True)
def no_namespace_left(request, kube_cluster):
    """Each test removes what it made; a namespace of netra-stack's left behind fails it (and is deleted)."""
    from lightkube import Client, KubeConfig
    from lightkube.resources.core_v1 import Namespace

    client = Client(KubeConfig.from_dict(kube_cluster.kubeconfig()))
    before = {n.metadata.name for n in client.list(Namespace, labels={L.MANAGED: "true"})}
    yield
    left = {n.metadata.name for n in client.list(Namespace, labels={L.MANAGED: "true"})
            if not n.metadata.deletionTimestamp} - before
    for name in left:
        client.delete(Namespace, name)
    client.close()
    assert not left, f"namespaces left behind: {sorted(left)}"


def answered(url: str, timeout: float = 15) -> str:
    """The body at `url`, asked again while the connection is refused, up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read().decode().strip()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def namespace_exists(api, name: str) -> bool:
    from lightkube import ApiError
    from lightkube.resources.core_v1 import Namespace

    try:
        api.get(Namespace, name)
    except ApiError as error:
        assert error.status.code == 404
        return False
    return True


def test_a_chain_with_a_one_shot_and_a_build_runs_healthy_reachable_in_order_and_is_removed(kube_env, kube_cluster, api):
    from lightkube.resources.batch_v1 import Job
    from lightkube.resources.core_v1 import Pod

    manager = StackManager("kube-chain", environ=kube_env)
    name, ports = manager.acquire_environment()
    try:
        report = manager.get_health_report(name)
        assert {s.service: s.state for s in report.services} == {
            "db": HealthState.HEALTHY, "migrate": HealthState.HEALTHY, "web": HealthState.HEALTHY}
        assert 30000 <= ports["web"] <= 32767  # a NodePort the cluster chose, on the node's address
        # the image built here, loaded into the node; kube-proxy opens the NodePort moments after ready
        assert answered(f"http://{kube_cluster.node_address}:{ports['web']}/") == "web"
        # depends_on carried out: migrate (which needs db answering) completed before web was applied
        done = api.get(Job, "migrate", namespace=name).status.completionTime
        web, = api.list(Pod, namespace=name, labels={L.SERVICE: "web"})
        assert done <= web.metadata.creationTimestamp
        logs = run_cli("logs", "--profile", "kube-chain", "--name", name, "--services", "migrate", env=kube_env)
        assert logs.returncode == 0 and "migrated" in logs.stdout, logs.stderr
        status = run_cli("status", "--backend", "kubernetes", "--json", env=kube_env)
        assert status.returncode == 0 and name in status.stdout, status.stderr
        sampled = run_cli("stats", "--profile", "kube-chain", "--name", name, "--json", env=kube_env)
        assert sampled.returncode == 0, sampled.stderr  # from the kubelet's summary of the node
        rows = {row["service"]: row for row in json.loads(sampled.stdout)["services"]}
        assert rows["web"]["status"] == "running" and rows["web"]["memory_bytes"] > 0
        assert rows["web"]["memory_limit_bytes"] == 64 * 2**20 and rows["migrate"]["status"] == "succeeded"
        manager.restart_service("web", name)  # a rollout restart: a new pod, healthy again
        again, = [p for p in api.list(Pod, namespace=name, labels={L.SERVICE: "web"}) if not p.metadata.deletionTimestamp]
        assert again.metadata.name != web.metadata.name
        assert {s.service: s.state for s in manager.get_health_report(name).services}["web"] == HealthState.HEALTHY
    finally:
        manager.release_environment(name)
    assert not namespace_exists(api, name)  # down returns once the namespace is gone


def test_a_service_is_healthy_and_reachable_before_the_kubelets_first_probe(kube_env, kube_cluster, api):
    """late's readiness probe runs once a day, first at a random moment of that day: netra-stack
    runs its command itself meanwhile, and the Services reach the pod whatever its readiness, as
    a compose network does; `kubectl rollout status` would still be waiting."""
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import Pod

    manager = StackManager("kube-late", environ=kube_env)
    name, ports = manager.acquire_environment()
    try:
        (late,) = manager.get_health_report(name).services
        pod, = api.list(Pod, namespace=name, labels={L.SERVICE: "late"})
        assert not pod.status.containerStatuses[0].ready  # the kubelet has not probed
        assert not api.get(Deployment, "late", namespace=name).status.availableReplicas
        assert late.state == HealthState.HEALTHY and "passes when run now" in late.detail
        assert answered(f"http://{kube_cluster.node_address}:{ports['late']}/") == "late"
    finally:
        manager.release_environment(name)


def test_a_probe_that_never_passes_fails_the_wait_with_the_kubelets_message(kube_env, api):
    manager = StackManager("kube-sick", environ=kube_env)
    with pytest.raises(NotHealthyError) as failed:
        manager.acquire_environment(timeout=20)
    (sick,) = failed.value.report.services
    assert sick.state == HealthState.STARTING and "readiness check failing" in sick.detail
    assert "Readiness probe failed" in sick.detail and "no answer on /ready" in sick.detail
    assert "sick is up" in sick.logs  # the last log lines, with the report
    assert not namespace_exists(api, manager.env_name)  # removed after the failure


def test_a_crash_loop_fails_fast_with_its_exit_code_and_logs(kube_env, api):
    manager = StackManager("kube-crash", environ=kube_env)
    with pytest.raises(NotHealthyError) as failed:
        manager.acquire_environment()
    (crash,) = failed.value.report.services
    assert "not healthy after" not in str(failed.value)  # judged before the wait's timeout
    assert crash.state == HealthState.STOPPED and "exit 3" in crash.detail
    assert "cannot open /etc/app.conf" in crash.logs
    assert not namespace_exists(api, manager.env_name)


def test_an_image_no_node_can_pull_names_pod_image_and_the_kubelets_message_exit_7(kube_env, api):
    result = run_cli("up", "--profile", "kube-absent", env=kube_env, timeout=300)
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    line, = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert "pod absent-" in line and "image netra-test/absent:1.0" in line and ("ErrImagePull" in line or "ImagePullBackOff" in line)
    assert "Traceback" not in result.stderr


def test_ports_forward_reaches_a_service_through_loopback_until_interrupted(kube_env, kube_cluster):
    manager = StackManager("kube-chain", environ=kube_env)
    name, _ = manager.acquire_environment()
    forward = subprocess.Popen([sys.executable, "-m", "netra_stack", "ports", "--profile", "kube-chain", "--name", name,
                                "--forward", "--json"],
                               env=kube_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        printed = ""
        while not printed.endswith("]\n"):  # the JSON list of the forwarded ports, then it holds them
            line = forward.stdout.readline()
            assert line, forward.stderr.read()
            printed += line
        shown = json.loads(printed)
        web, = [b for b in shown if b["service"] == "web"]
        assert web["host_ip"] == "127.0.0.1"
        assert answered(f"http://127.0.0.1:{web['host_port']}/") == "web"
    finally:
        forward.send_signal(signal.SIGINT)
        forward.wait(timeout=30)
        manager.release_environment(name)
    assert forward.returncode == ExitCode.INTERRUPTED, forward.stderr.read()


def test_clean_all_removes_a_kubernetes_environment(kube_env, api):
    name, _ = StackManager("kube-chain", environ=kube_env).acquire_environment(wait=False)
    result = run_cli("clean", "--all", "--backend", "kubernetes", "--json", env=kube_env)
    assert result.returncode == 0, result.stderr
    assert {"kind": "environment", "name": name} in json.loads(result.stdout)["removed"]
    assert not namespace_exists(api, name)


HOLDER = """
import time
from netra_stack import StackManager
manager = StackManager("kube-chain")
name, _ = manager.acquire_environment(wait=False, hold=True)
print(name, flush=True)
time.sleep(600)
"""


def test_an_environment_whose_holder_is_sigkilled_is_reaped_by_its_watchdog(kube_env, api):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], env=kube_env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        name = holder.stdout.readline().strip()
        assert name.startswith("kube-chain-") and namespace_exists(api, name), holder.stderr.read()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    deadline = time.monotonic() + 120  # about 1 s to notice, then the namespace's deletion
    while namespace_exists(api, name):
        assert time.monotonic() < deadline, f"{name} was not reaped"
        time.sleep(0.5)


def test_a_foreign_namespace_of_the_same_name_is_never_touched(kube_env, api):
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Namespace

    api.create(Namespace(metadata=ObjectMeta(name="kube-chain-theirs")))
    try:
        result = run_cli("up", "--profile", "kube-chain", env={**kube_env, "COMPOSE_PROJECT_NAME": "kube-chain-theirs"})
        assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
        assert "namespace kube-chain-theirs exists and is not netra-stack's" in result.stderr
        down = run_cli("down", "--profile", "kube-chain", "--name", "kube-chain-theirs", env=kube_env)
        assert namespace_exists(api, "kube-chain-theirs"), down.stderr
    finally:
        api.delete(Namespace, "kube-chain-theirs")


def test_no_reachable_cluster_is_one_line_naming_the_server_exit_5(kube_env, tmp_path, kube_cluster):
    import yaml

    config = kube_cluster.kubeconfig()
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"  # nothing listens there
    (tmp_path / "away").write_text(yaml.safe_dump(config))
    result = run_cli("up", "--profile", "kube-chain", env={**kube_env, "KUBECONFIG": str(tmp_path / "away")})
    assert result.returncode == ExitCode.DOCKER_UNAVAILABLE, result.stderr
    line, = result.stderr.strip().splitlines()
    assert "cannot reach the Kubernetes API server https://127.0.0.1:9" in line and "--kube-context" in line
    wrong = run_cli("up", "--profile", "kube-chain", "--kube-context", "nosuch", env=kube_env)
    assert wrong.returncode == ExitCode.DOCKER_UNAVAILABLE and "no context 'nosuch'" in wrong.stderr


def test_what_rbac_forbids_names_the_verb_and_the_resource_exit_7(kube_env, tmp_path, kube_cluster):
    import yaml

    (tmp_path / "user").write_text(yaml.safe_dump(kube_cluster.kubeconfig(token=kube_cluster.user_token)))
    result = run_cli("up", "--profile", "kube-chain", env={**kube_env, "KUBECONFIG": str(tmp_path / "user")})
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    line, = result.stderr.strip().splitlines()
    assert "forbidden" in line and "cannot list resource" in line and "manifests --access" in line


def test_doctor_names_the_cluster_and_its_version_and_fails_on_one_that_cannot_be_reached(kube_env, tmp_path,
                                                                                          kube_cluster):
    import json

    import yaml

    result = run_cli("doctor", "--profile", "kube-chain", "--json", env=kube_env)
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.returncode == 0, checks
    config = kube_cluster.kubeconfig()
    assert checks["cluster"]["status"] == "ok", checks["cluster"]
    assert checks["cluster"]["detail"] == f"Kubernetes v1.20.2 at {config['clusters'][0]['cluster']['server']}"
    assert checks["leftovers"]["status"] == "ok" and checks["profile"]["detail"].startswith("kube-chain (")

    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"  # nothing listens there
    (tmp_path / "away").write_text(yaml.safe_dump(config))
    away = run_cli("doctor", "--profile", "kube-chain", "--json", env={**kube_env, "KUBECONFIG": str(tmp_path / "away")})
    checks = {c["check"]: c for c in json.loads(away.stdout)["checks"]}
    assert away.returncode == 1 and "Traceback" not in away.stderr
    assert checks["cluster"]["status"] == "fail" and "https://127.0.0.1:9" in checks["cluster"]["detail"]
    assert "--kube-context" in checks["cluster"]["fix"] and "leftovers" not in checks
