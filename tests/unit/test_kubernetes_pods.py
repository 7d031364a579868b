"""Pods as instances (netra_stack.backends.kubernetes.pods): the states the health judge reads,
from pod objects shaped as the API returns them."""

from __future__ import annotations

from netra_stack.backends.kubernetes import pods
from netra_stack.model import labels as L
from netra_stack.model.health import HealthState, judge


def pod(name="web-7d9f-abcde", *, state=None, last=None, ready=False, restarts=0, probe=True, phase="Running",
        conditions=(), deleting=False, service="web", annotations=None):
    container = {"name": service, "image": "netra/web:1", **({"readinessProbe": {"exec": {"command": ["true"]}}} if probe else {})}
    status = {"phase": phase, "hostIP": "10.1.0.2", "podIP": "10.244.0.7", "conditions": list(conditions)}
    if state is not None:
        status["containerStatuses"] = [{"name": service, "image": "netra/web:1", "ready": ready, "restartCount": restarts,
                                        "state": state, "lastState": {"terminated": last} if last else {}}]
    meta = {"name": name, "namespace": "env-1", "uid": f"uid-{name}", "creationTimestamp": "2026-12-01T10:00:00Z",
            "labels": {L.MANAGED: "true", L.ENVIRONMENT: "env-1", L.SERVICE: service, "app": "x"},
            "annotations": {L.OWNER: "me@host", **(annotations or {})}}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-01T10:01:00Z"
    return {"metadata": meta, "spec": {"containers": [container], "nodeName": "node-1"}, "status": status}


RUNNING = {"running": {"startedAt": "2026-12-01T10:00:02Z"}}


def test_a_running_pod_is_healthy_once_ready_and_starting_before_with_the_probe_failure():
    probes = pods.probe_messages([{"involvedObject": {"kind": "Pod", "name": "web-7d9f-abcde"}, "reason": "Unhealthy",
                                   "lastTimestamp": "2026-12-01T10:00:05Z",
                                   "message": "Readiness probe failed: connection refused"}])
    starting = pods.pod_instance(pod(state=RUNNING), probes=probes)
    assert (starting.status, starting.health, starting.health_output) == (
        "running", "starting", "Readiness probe failed: connection refused")
    assert starting.service == "web" and starting.environment == "env-1" and starting.node == "node-1"
    assert starting.labels[L.OWNER] == "me@host"  # an annotation, read back as the label it stands for
    assert "app" not in starting.labels  # only netra-stack's
    assert starting.healthcheck_argv() == ["true"]  # the readiness probe's command, for netra-stack to run too
    ready = pods.pod_instance(pod(state=RUNNING, ready=True))
    assert ready.health == "healthy"
    assert pods.pod_instance(pod(state=RUNNING, probe=False)).health is None  # nothing to be ready for


def test_the_newest_probe_failure_of_each_pod_is_kept():
    events = [{"involvedObject": {"kind": "Pod", "name": "a"}, "reason": "Unhealthy", "lastTimestamp": t, "message": m}
              for t, m in (("2026-12-01T10:00:09Z", "new"), ("2026-12-01T10:00:01Z", "old"))]
    events.append({"involvedObject": {"kind": "Pod", "name": "a"}, "reason": "Pulled", "lastTimestamp": "2026-12-01T11:00:00Z",
                   "message": "pulled"})
    assert pods.probe_messages(events) == {"a": "new"}


def test_a_crash_loop_is_restarting_with_its_last_exit_and_the_judge_calls_it_one():
    crash = pods.pod_instance(pod(state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
                                  last={"exitCode": 3, "reason": "Error"}, restarts=4))
    assert (crash.status, crash.exit_code, crash.restart_count) == ("restarting", 3, 4)
    verdict = judge("web", crash, None, one_shot=False)
    assert verdict.state == HealthState.STOPPED and verdict.detail.startswith("crash-looping (4 restarts, last exit 3)")


def test_oom_kills_are_named():
    killed = pods.pod_instance(pod(state={"waiting": {"reason": "CrashLoopBackOff"}},
                                   last={"exitCode": 137, "reason": "OOMKilled"}, restarts=1))
    assert killed.health_output == "OOMKilled"
    again = pods.pod_instance(pod(state=RUNNING, last={"exitCode": 137, "reason": "OOMKilled"}, restarts=1, ready=True))
    assert again.health_output == "restarted after OOMKilled (exit 137)"


def test_an_image_that_cannot_be_pulled_is_a_start_failure_naming_pod_image_and_the_kubelets_message():
    stuck = pod(state={"waiting": {"reason": "ErrImageNeverPull",
                                   "message": 'Container image "netra/web:1" is not present with pull policy of Never'}})
    assert pods.start_failure(stuck) == ('pod web-7d9f-abcde: image netra/web:1: ErrImageNeverPull: Container image '
                                         '"netra/web:1" is not present with pull policy of Never')
    instance = pods.pod_instance(stuck)
    assert instance.status == "dead" and instance.health_output.startswith("ErrImageNeverPull: ")
    assert not pods.has_started(stuck)
    assert pods.start_failure(pod(state={"waiting": {"reason": "ContainerCreating"}})) is None


def test_a_pod_not_scheduled_says_why():
    pending = pods.pod_instance(pod(phase="Pending", conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/1 nodes are available: 1 Insufficient memory."}]))
    assert (pending.status, pending.health_output) == ("created", "not scheduled: 0/1 nodes are available: 1 Insufficient memory.")


def test_a_completed_job_pod_is_an_exit_the_judge_counts_for_a_one_shot_service():
    done = pods.pod_instance(pod(state={"terminated": {"exitCode": 0, "reason": "Completed"}}, phase="Succeeded", probe=False))
    assert (done.status, done.exit_code, done.health_output) == ("exited", 0, "")
    assert judge("migrate", done, None, one_shot=True).state == HealthState.HEALTHY
    failed = pods.pod_instance(pod(state={"terminated": {"exitCode": 2, "reason": "Error"}}, phase="Failed", probe=False))
    assert judge("migrate", failed, None, one_shot=True).state == HealthState.STOPPED


def test_node_ports_are_the_instances_ports_on_the_node_it_runs_on():
    services = [{"metadata": {"name": "web-published"}, "spec": {"type": "NodePort", "selector": {L.SERVICE: "web"}, "ports": [
                    {"port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}]}},
                {"metadata": {"name": "web"}, "spec": {"clusterIP": "None", "selector": {L.SERVICE: "web"}}}]
    ports = pods.node_ports(services)
    assert ports == {"web": [(8080, "tcp", 30080)]}
    binding, = pods.pod_instance(pod(state=RUNNING, ready=True), ports).ports
    assert (binding.service, binding.container_port, binding.protocol, binding.host_ip, binding.host_port) == (
        "web", 8080, "tcp", "10.1.0.2", 30080)
    assert pods.pod_instance(pod(state={"waiting": {"reason": "ContainerCreating"}}), ports).ports == []


def test_a_pod_being_deleted_is_terminating():
    assert pods.terminating(pod(state=RUNNING, deleting=True))
    assert not pods.terminating(pod(state=RUNNING))


def test_a_pods_usage_comes_from_the_kubelets_summary_with_its_limits_restarts_and_oom_kills():
    found = pod(state=RUNNING, ready=True, restarts=2, last={"reason": "OOMKilled", "exitCode": 137})
    found["spec"]["containers"][0]["resources"] = {"limits": {"memory": "64Mi", "cpu": "500m"}}
    summary = {"podRef": {"name": "web-7d9f-abcde", "namespace": "env-1"},
               "containers": [{"name": "web", "cpu": {"usageNanoCores": 250_000_000},
                               "memory": {"workingSetBytes": 20 * 2**20, "usageBytes": 30 * 2**20}}],
               "network": {"rxBytes": 900, "txBytes": 300}, "process_stats": {"process_count": 3}}
    usage = pods.pod_usage(found, summary, now=5.0)
    assert (usage.service, usage.instance, usage.time, usage.status) == ("web", "web-7d9f-abcde", 5.0, "running")
    assert usage.cpu_percent == 25.0 and usage.cpu_limit == 0.5 and usage.cpu_of_limit == 50.0
    assert (usage.memory_bytes, usage.memory_limit_bytes) == (20 * 2**20, 64 * 2**20)
    assert (usage.net_rx_bytes, usage.net_tx_bytes, usage.pids, usage.restarts, usage.oom_kills) == (900, 300, 3, 2, 1)
    unmeasured = pods.pod_usage(pod(state=RUNNING, phase="Succeeded"), None, now=6.0)
    assert (unmeasured.memory_bytes, unmeasured.memory_limit_bytes, unmeasured.status) == (0, 0, "succeeded")


class Kubelet:
    """What the health policy asks of a backend whose orchestrator runs the checks (the kubelet):
    `exec` runs the readiness probe's command (exit `code`), counted in `ran`."""

    runs_checks = True

    def __init__(self, code: int, output: str = "") -> None:
        self.code, self.output, self.ran = code, output, []

    def exec(self, instance, argv):
        self.ran.append(list(argv))
        return self.code, self.output, 0.01


class Plan:
    def is_one_shot(self, service):
        return False


def check(backend, instance):
    from netra_stack.plugins.builtin.health import netra_check_health

    return netra_check_health(service="web", container=instance, plan=Plan(), backend=backend)


def test_until_the_kubelet_has_found_a_pod_ready_its_probe_run_now_stands_in():
    passing = Kubelet(0)
    found = check(passing, pods.pod_instance(pod(state=RUNNING)))
    assert found.state == HealthState.HEALTHY and passing.ran == [["true"]]
    assert found.detail == "readiness check passes (its healthcheck passes when run now)"
    # failing now, before the kubelet said anything: the command's own words
    found = check(Kubelet(1, "pg_isready: no response"), pods.pod_instance(pod(state=RUNNING)))
    assert found.state == HealthState.STARTING and found.detail == "readiness check failing (pg_isready: no response)"
    # failing now, and the kubelet has said why: its message is kept
    probes = {"web-7d9f-abcde": "Readiness probe failed: connection refused"}
    found = check(Kubelet(1, "refused"), pods.pod_instance(pod(state=RUNNING), probes=probes))
    assert found.state == HealthState.STARTING and "Readiness probe failed: connection refused" in found.detail
    # ready: the kubelet's verdict, nothing run
    idle = Kubelet(1)
    assert check(idle, pods.pod_instance(pod(state=RUNNING, ready=True))).state == HealthState.HEALTHY and not idle.ran
    # an httpGet or tcpSocket probe is the kubelet's alone (the host may not reach the pod)
    http = pod(state=RUNNING)
    http["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/", "port": 80}}
    idle = Kubelet(0)
    assert check(idle, pods.pod_instance(http)).state == HealthState.STARTING and not idle.ran
