"""The swarm backend on a real swarm: a single-node swarm inside a node container
(tests/testbed/nodes.py), never the host engine."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from netra_stack.lifecycle.context import Reporter
from netra_stack.manager import StackManager
from netra_stack.model.errors import DockerUnavailableError, ExitCode, NotHealthyError
from netra_stack.model.health import HealthState
from tests.testbed import nodes

from tests.helpers import FIXTURES

from .conftest import run_cli

SWARM_PROFILES = FIXTURES / "swarm" / "profiles"


@pytest.fixture
def swarm_env(swarm, mini_env, tmp_path):
    return {**mini_env, **swarm.environ(), "NETRA_STACK_STATE_DIR": str(tmp_path / "state")}


def stack_resources(swarm, name: str) -> list[str]:
    """What the swarm holds of a stack: services, containers, networks."""
    label = f"label=com.docker.stack.namespace={name}"
    found = []
    for what in (["service", "ls", "-q"], ["ps", "-aq"], ["network", "ls", "-q"]):
        found += nodes.docker(*what, "--filter", label, host=swarm.manager.host).stdout.split()
    return found


def test_the_test_bed_leaves_nothing_on_the_host(swarm_node_image):
    cluster = nodes.start(1)
    try:
        listed = nodes.docker("node", "ls", "--format", "{{.ManagerStatus}}", host=cluster.manager.host)
        assert listed.stdout.split() == ["Leader"]
        host_swarm = nodes.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
        assert host_swarm == "inactive"  # the host engine itself never joins
    finally:
        cluster.remove()
    for kind in (["ps", "-aq"], ["volume", "ls", "-q"], ["network", "ls", "-q"]):
        assert nodes.docker(*kind, "--filter", f"label={nodes.TESTBED}={cluster.id}").stdout.split() == []


def test_mini_runs_on_swarm_healthy_reachable_and_is_removed_completely(swarm, swarm_env):
    manager = StackManager("mini", environ=swarm_env, backend="swarm")
    name, ports = manager.acquire_environment()
    try:
        report = manager.get_health_report(name)
        assert {s.service: s.state for s in report.services} == {"web": HealthState.HEALTHY,
                                                                  "worker": HealthState.HEALTHY}
        assert 30000 <= ports["web"] <= 40000
        (web,) = [b for b in manager.get_ports(name) if b.service == "web"]
        assert (web.host_ip, web.host_port) == (swarm.manager.address, ports["web"])  # the node that serves it
        listed = run_cli("status", "--backend", "swarm", "--json", env=swarm_env)
        (found,) = [e for e in json.loads(listed.stdout) if e["name"] == name]
        assert found["services"] == {"web": "running", "worker": "running"}, found
        with urllib.request.urlopen(f"http://{swarm.manager.address}:{ports['web']}/", timeout=10) as answer:
            assert answer.read().decode().strip() == "ok"
        assert stack_resources(swarm, name)
        scaled = run_cli("scale", "--profile", "mini", "--backend", "swarm", "--name", name, "--services", "worker=3",
                         env=swarm_env)
        assert scaled.returncode == 0, scaled.stderr
        workers = [i for i in manager.backend.instances(name) if i.service == "worker" and i.running]
        assert len(workers) == 3 and {i.node for i in workers} == {"node0"}
    finally:
        manager.release_environment(name)
    assert stack_resources(swarm, name) == []  # `down` returned only once everything was gone


def test_config_shows_the_stack_and_what_swarm_does_differently(swarm, swarm_env):
    result = run_cli("config", "--profile", "mini", "--backend", "swarm", env=swarm_env)
    assert result.returncode == 0, result.stderr
    assert "mode: host" in result.stdout and "endpoint_mode: dnsrr" in result.stdout
    assert "# web: port 8080: host_ip 127.0.0.1 dropped" in result.stdout
    # The routing mesh only where the kernel has IPVS, asked of the node (the host's kernel: a node container's)
    if Path("/proc/net/ip_vs").exists():
        assert "# ports: through the routing mesh" in result.stdout
    else:
        assert "# ports: host mode, on the node of each task: the kernel of node0 has no IPVS" in result.stdout


def test_the_example_stack_renders_for_swarm_with_every_change_said(mini_env):
    import yaml

    from tests.helpers import REAL_PROFILES

    result = run_cli("config", "--profile", "prod-swarm", env={**mini_env, "NETRA_STACK_PROFILE_PATH": str(REAL_PROFILES)})
    assert result.returncode == 0, result.stderr
    stack = yaml.safe_load(result.stdout)
    assert set(stack["services"]) == {"postgres", "redis", "backend", "auth", "frontend"}
    assert all(s["deploy"]["endpoint_mode"] == "dnsrr" and "depends_on" not in s for s in stack["services"].values())
    assert "# backend: depends_on carried out by netra-stack: backend starts once postgres, redis are ready" in result.stdout
    assert "POSTGRES_PASSWORD: '***'" in result.stdout  # masked, as for compose


def test_an_engine_that_is_no_swarm_manager_is_one_line_and_exit_5(mini_env):
    result = run_cli("up", "--profile", "mini", "--backend", "swarm", env=mini_env)
    assert result.returncode == ExitCode.DOCKER_UNAVAILABLE, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: the local engine is not a swarm manager") and "docker swarm init" in lines[-1]
    assert "Traceback" not in result.stderr
    with pytest.raises(DockerUnavailableError):
        StackManager("mini", environ=mini_env, backend="swarm").acquire_environment()


class Recorder(Reporter):
    def __init__(self) -> None:
        self.events: list[str] = []

    def event(self, message: str) -> None:
        self.events.append(message)


def test_depends_on_a_one_shot_and_a_build_are_carried_out_on_swarm(swarm, swarm_env, built_images):
    env = {**swarm_env, "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES), "DOCKER_TAG": "t-chain"}
    recorder = Recorder()
    manager = StackManager("swarm-chain", environ=env, reporter=recorder)
    name, ports = manager.acquire_environment()
    try:
        stages = [e.removeprefix("starting ").split(", ") for e in recorder.events if e.startswith("starting ")]
        stage_of = {service: number for number, stage in enumerate(stages) for service in stage}
        # db first (migrate, a one-shot swarm does not restart, exits 1 unless db answers), then
        # web once migrate completed.
        assert stage_of["db"] <= stage_of["migrate"] < stage_of["web"], stages
        said = "\n".join(recorder.events)
        assert f"swarm: web: container_name {name}-swarm-web dropped (swarm names each task)" in said
        assert "swarm: web: restart unless-stopped -> deploy.restart_policy.condition any" in said
        # Engine 26 keeps start_interval: Docker probed db every half second while it started, not every 10 s
        assert "swarm: db: healthcheck start_interval 500ms added (probes during its start_period 30s; then every 10s" in said
        spec = json.loads(nodes.docker("service", "inspect", f"{name}_db", "--format",
                                       "{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}", host=swarm.manager.host).stdout)
        assert spec["StartInterval"] == 500_000_000 and spec["Interval"] == 10_000_000_000
        db = next(i for i in manager.backend.instances(name) if i.service == "db")
        probes = json.loads(nodes.docker("inspect", db.id, "--format", "{{json .State.Health.Log}}", host=swarm.manager.host).stdout)
        assert probes[-1]["ExitCode"] == 0 and len(probes) >= 2, probes  # failed while db slept, passed once it served
        states = {s.service: (s.state, s.container_state) for s in manager.get_health_report(name).services}
        assert states["migrate"] == (HealthState.HEALTHY, "exited") and states["web"][0] is HealthState.HEALTHY
        with urllib.request.urlopen(f"http://{swarm.manager.address}:{ports['web']}/", timeout=10) as answer:
            assert answer.read().decode().strip() == "web"  # the image built on the manager
    finally:
        manager.release_environment(name)
    assert stack_resources(swarm, name) == []


@pytest.mark.slow
def test_three_replicas_land_on_three_nodes_each_reachable_on_its_node(swarm3, mini_env, tmp_path):
    env = {**mini_env, **swarm3.environ(), "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
           "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES)}
    manager = StackManager("swarm-spread", environ=env)
    name, ports = manager.acquire_environment()
    try:
        web = [i for i in manager.backend.instances(name) if i.service == "web" and i.running]
        assert sorted(i.node for i in web) == ["node0", "node1", "node2"]  # counted: one per node
        for node in swarm3.nodes:  # each node answers with the task it runs (its hostname: the container id)
            task = next(i for i in web if i.node == node.hostname)
            with urllib.request.urlopen(f"http://{node.address}:{ports['web']}/", timeout=10) as answer:
                assert answer.read().decode().strip() == task.id[:12]
            assert manager.backend.exec(task, ["hostname"])[:2] == (0, task.id[:12])  # checks reach it on its node
        report = manager.get_health_report(name)
        replicas = report.services[0].replicas
        assert report.healthy and sorted(r.node for r in replicas) == ["node0", "node1", "node2"]
        assert all(r.state is HealthState.HEALTHY for r in replicas)
        shown = run_cli("health", "--name", name, "--profile", "swarm-spread", env=env)
        assert shown.returncode == 0, shown.stderr
        for task in web:  # a line per task, with its node
            assert any(task.name in line and task.node in line for line in shown.stdout.splitlines()), shown.stdout
        status = run_cli("status", "--backend", "swarm", env=env).stdout
        assert all(any(task.name in line and task.node in line for line in status.splitlines()) for task in web), status
        sampled = run_cli("stats", "--name", name, "--profile", "swarm-spread", "--json", env=env)
        assert sampled.returncode == 0, sampled.stderr  # each node's engine streams the task it runs
        rows = {row["service"]: row for row in json.loads(sampled.stdout)["services"]}
        assert rows["web"]["instance"] == "3 instances" and rows["web"]["memory_bytes"] > 0
    finally:
        manager.release_environment(name)
    for node in swarm3.nodes:
        assert nodes.docker("ps", "-aq", "--filter", f"label=com.docker.stack.namespace={name}",
                            host=node.host).stdout.split() == []


@pytest.mark.slow
def test_tasks_on_nodes_it_cannot_reach_are_judged_by_the_swarm_and_their_logs_relayed(swarm3, mini_env, tmp_path):
    env = {**mini_env, "DOCKER_HOST": swarm3.manager.host, "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
           "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES)}  # no NETRA_SWARM_NODES: only the manager is reached
    manager = StackManager("swarm-spread", environ=env)
    name, _ = manager.acquire_environment()  # nothing of its own to load: the busybox image is on every node
    try:
        web = {i.node: i for i in manager.backend.instances(name) if i.service == "web"}
        assert sorted(web) == ["node0", "node1", "node2"]
        for task in web.values():  # node1's and node2's from the manager's record of their task
            assert task.running and task.health == "healthy", task
            # node1's and node2's logs through `docker service logs TASK`; the hostname is the container's id
            assert f"serving on {task.id[:12]}" in manager.backend.logs(task), task
        assert manager.get_health_report(name).healthy
    finally:
        manager.release_environment(name)
    label = f"label=com.docker.stack.namespace={name}"
    assert nodes.docker("ps", "-aq", "--filter", label, host=swarm3.manager.host).stdout.split() == []
    # `down` saw the stack's tasks and network go through the manager; the containers on nodes it
    # cannot reach, their agents remove a moment later.
    deadline = time.monotonic() + 30
    while any(nodes.docker("ps", "-aq", "--filter", label, host=node.host).stdout.split() for node in swarm3.nodes[1:]):
        assert time.monotonic() < deadline, "the stack's containers stayed on the workers"
        time.sleep(0.5)


def test_a_fixed_port_taken_on_the_swarm_names_service_and_port_and_leaves_no_stack(swarm, swarm_env):
    blocker = nodes.docker("run", "-d", "-p", "31555:8080", "netra-example/busybox:1.35", "httpd", "-f", "-p", "8080",
                           host=swarm.manager.host).stdout.strip()
    try:
        env = {**swarm_env, "MINI_WEB_PORT": "31555"}
        result = run_cli("up", "--profile", "mini-fixed", "--backend", "swarm", env=env)
        assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: starting mini-") and "failed: web: " in last, last
        assert "Bind for 0.0.0.0:31555 failed: port is already allocated" in last
        assert "host port 31555 is fixed by the profile" in last  # the hint: choosing again cannot help
        assert "Traceback" not in result.stderr
        name = last.removeprefix("error: starting ").split()[0]
        assert stack_resources(swarm, name) == []  # the partial stack was removed
    finally:
        nodes.docker("rm", "-f", blocker, host=swarm.manager.host)


@pytest.mark.slow
def test_a_node_whose_engine_is_unknown_stops_the_deploy_by_name_with_nothing_left(swarm3, mini_env, tmp_path):
    env = {**mini_env, "DOCKER_HOST": swarm3.manager.host, "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
           "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES), "DOCKER_TAG": "t-unknown-node"}
    result = run_cli("up", "--profile", "swarm-chain", env=env)  # no NETRA_SWARM_NODES: node1, node2 unknown
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "swarm nodes node1, node2 cannot be reached to load images into them (netra-test/swarm-web:t-unknown-node)" in last
    assert "NETRA_SWARM_NODES" in last and "Traceback" not in result.stderr
    assert nodes.docker("service", "ls", "-q", host=swarm3.manager.host).stdout.split() == []  # nothing half-deployed
    for node in swarm3.nodes:
        assert nodes.docker("ps", "-aq", "--filter", "label=com.docker.stack.namespace", host=node.host).stdout.split() == []


@pytest.mark.slow
def test_down_images_removes_what_it_loaded_into_nodes_unless_something_uses_it(swarm3, mini_env, tmp_path):
    env = {**mini_env, **swarm3.environ(), "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
           "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES), "DOCKER_TAG": "t-unload"}
    image = "netra-test/swarm-web:t-unload"
    name, _ = StackManager("swarm-chain", environ=env).acquire_environment()  # built on node0, loaded into 1 and 2
    node0, node1, node2 = swarm3.nodes
    for node in swarm3.nodes:
        assert nodes.docker("image", "inspect", image, host=node.host, check=False).returncode == 0
    user = nodes.docker("run", "-d", image, host=node2.host).stdout.strip()  # not netra-stack's: keeps it on node2
    try:
        result = run_cli("down", "--name", name, "--profile", "swarm-chain", "--images", env=env)
        assert result.returncode == 0, result.stderr
        assert f"image {image} removed from node node1" in result.stderr
        assert f"image {image} kept on node node2: in use" in result.stderr
        assert nodes.docker("image", "inspect", image, host=node1.host, check=False).returncode != 0
        assert nodes.docker("image", "inspect", image, host=node2.host, check=False).returncode == 0
        assert nodes.docker("image", "inspect", image, host=node0.host, check=False).returncode == 0  # built there: the cache
    finally:
        nodes.docker("rm", "-f", user, host=node2.host)
        for node in swarm3.nodes:
            nodes.docker("rmi", image, host=node.host, check=False)
    assert stack_resources(swarm3, name) == []


@pytest.mark.slow
def test_with_a_registry_nodes_it_cannot_reach_pull_the_images_it_built(swarm3, mini_env, tmp_path):
    env = {**mini_env, "DOCKER_HOST": swarm3.manager.host, "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
           "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES), "DOCKER_TAG": "t-registry"}  # no NETRA_SWARM_NODES
    pulled = f"{swarm3.registry}/netra-test/swarm-web:t-registry"
    recorder = Recorder()
    manager = StackManager("swarm-registry", environ=env, reporter=recorder)
    name, _ = manager.acquire_environment()
    try:
        web = [i for i in manager.backend.instances(name) if i.service == "web"]
        assert sorted(i.node for i in web) == ["node0", "node1", "node2"] and all(i.running for i in web)
        assert f"swarm: web: image netra-test/swarm-web:t-registry -> {pulled} (pushed there before the deploy)" in recorder.events
        for node in swarm3.nodes[1:]:  # what the workers run, they pulled from the registry
            assert nodes.docker("image", "inspect", pulled, host=node.host).returncode == 0
            assert nodes.docker("image", "inspect", "netra-test/swarm-web:t-registry", host=node.host,
                                check=False).returncode != 0  # nothing was loaded into them
    finally:
        manager.release_environment(name)
        for node in swarm3.nodes:
            nodes.docker("rmi", pulled, "netra-test/swarm-web:t-registry", host=node.host, check=False)
    assert stack_resources(swarm3, name) == []


def test_a_registry_the_manager_cannot_push_to_is_exit_7_with_nothing_deployed(swarm, swarm_env):
    env = {**swarm_env, "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES), "DOCKER_TAG": "t-no-registry"}
    result = run_cli("up", "--profile", "swarm-registry", env=env)  # the single-node swarm has no registry
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "pushing netra-test/swarm-web:t-no-registry to registry registry:5000 failed" in last, last
    assert "no such host" in last and "insecure-registries" in last  # the engine's reason, and a hint
    assert "Traceback" not in result.stderr
    assert nodes.docker("service", "ls", "-q", host=swarm.manager.host).stdout.split() == []
    nodes.docker("rmi", "registry:5000/netra-test/swarm-web:t-no-registry", "netra-test/swarm-web:t-no-registry",
                 host=swarm.manager.host, check=False)


def test_clean_removes_a_swarm_environment_completely(swarm, swarm_env):
    name, _ = StackManager("mini", environ=swarm_env, backend="swarm").acquire_environment(wait=False)
    result = run_cli("clean", "--all", "--backend", "swarm", "--json", env=swarm_env)
    assert result.returncode == 0, result.stderr
    assert {"kind": "environment", "name": name} in json.loads(result.stdout)["removed"]
    assert stack_resources(swarm, name) == []


def test_a_task_the_swarm_keeps_killing_as_unhealthy_fails_the_wait_with_its_error(swarm, swarm_env):
    env = {**swarm_env, "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES)}
    manager = StackManager("swarm-unhealthy", environ=env)
    with pytest.raises(NotHealthyError) as failed:
        manager.acquire_environment()
    (sick,) = failed.value.report.services
    # Failed fast, not at the 60 s timeout: Docker's verdict on the running task, or, once the
    # swarm has killed and replaced it twice, the crash loop with the swarm's reason.
    assert "not healthy after" not in str(failed.value)
    if sick.state is HealthState.STOPPED:
        assert sick.detail.startswith("crash-looping (") and "dockerexec: unhealthy container" in sick.docker_probe
    else:
        assert (sick.state, sick.detail) == (HealthState.UNHEALTHY, "Docker healthcheck failing")
    assert stack_resources(swarm, manager.env_name) == []  # removed after the failure


HOLDER = """
import os, sys, time
from netra_stack import StackManager
with StackManager("mini", backend="swarm") as (name, ports):
    print(name, flush=True)
    time.sleep(600)
"""


def test_a_swarm_environment_whose_holder_is_sigkilled_is_reaped_by_its_watchdog(swarm, swarm_env):
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import REPO

    holder = subprocess.Popen([sys.executable, "-c", HOLDER], env=swarm_env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        name = holder.stdout.readline().strip()
        assert name.startswith("mini-") and stack_resources(swarm, name), holder.stderr.read()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    deadline = time.monotonic() + 90  # about 1 s to notice, then the stack's removal
    while stack_resources(swarm, name):
        assert time.monotonic() < deadline, f"{name} was not reaped"
        time.sleep(0.5)


def test_replicas_that_cannot_share_a_nodes_port_name_service_and_port_and_leave_no_stack(swarm, swarm_env):
    env = {**swarm_env, "NETRA_STACK_PROFILE_PATH": str(SWARM_PROFILES)}
    result = run_cli("up", "--profile", "swarm-crowded", env=env)
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: starting swarm-crowded-") and "of service web is in use on every node" in last, last
    assert "attempt 1/3" in result.stderr and "choosing again" in result.stderr  # a range port: chosen again first
    name = last.removeprefix("error: starting ").split()[0]
    assert stack_resources(swarm, name) == []
