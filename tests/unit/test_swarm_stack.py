"""A plan as a swarm stack file (netra_stack.backends.swarm.stack), without Docker: what is kept,
what moves, what is dropped, and that every drop or change is said."""

from __future__ import annotations

import pytest

from netra_stack.backends.swarm.stack import render_stack
from netra_stack.model import labels as L
from netra_stack.model.errors import ProfileError
from netra_stack.model.profiles import Profile
from netra_stack.planning.plan import compose_env, port_requests, resolve_plan

WEB = {"image": "web:1", "command": ["httpd", "-f"], "container_name": "web", "restart": "unless-stopped",
       "mem_limit": "67108864", "cpus": 0.5, "entrypoint": None, "privileged": True,
       "ports": [{"mode": "ingress", "target": 8080, "published": "31000", "host_ip": "127.0.0.1", "protocol": "tcp"}],
       "healthcheck": {"test": ["CMD", "true"], "interval": "1s"},
       "depends_on": {"migrate": {"condition": "service_completed_successfully", "required": True}}}
MIGRATE = {"image": "web:1", "command": ["migrate"]}
MODEL = {"services": {"web": WEB, "migrate": MIGRATE}, "networks": {"default": {"name": "env_default"}},
         "volumes": {"data": {"name": "env_data"}, "shared": {"name": "shared", "external": True}}}


def plan(model=MODEL, **profile):
    found = Profile.model_validate({"name": "p", "environment": "test", "compose_files": ["c.yml"], **profile})
    requests = port_requests(found, model, {})
    return resolve_plan(found, model, name="env", env=compose_env(found, {}),
                        host_ports={r.key: 31000 for r in requests}, requests=requests)


def test_ports_become_host_mode_limits_move_and_names_resolve_to_tasks():
    stack, _ = render_stack(plan(), MODEL)
    web = stack["services"]["web"]
    assert web["ports"] == [{"target": 8080, "protocol": "tcp", "mode": "host", "published": 31000}]
    assert web["deploy"]["resources"] == {"limits": {"memory": "67108864", "cpus": "0.5"}}
    assert web["deploy"]["endpoint_mode"] == "dnsrr" and stack["services"]["migrate"]["deploy"]["endpoint_mode"] == "dnsrr"
    assert web["healthcheck"] == {"test": ["CMD", "true"], "interval": "1s"}  # kept
    assert web["labels"][L.SERVICE] == "web" and web["deploy"]["labels"][L.ENVIRONMENT] == "env"
    assert not {"container_name", "restart", "mem_limit", "cpus", "depends_on", "entrypoint", "privileged"} & set(web)
    assert stack["networks"]["default"]["driver"] == "overlay"
    assert stack["volumes"]["shared"] == {"external": True, "name": "shared"} and L.MANAGED in stack["volumes"]["data"]["labels"]


def test_every_key_dropped_or_changed_is_said():
    _, notes = render_stack(plan(), MODEL)
    assert notes == [
        "web: privileged dropped (docker stack deploy does not support it)",
        "web: container_name web dropped (swarm names each task)",
        "web: depends_on carried out by netra-stack: web starts once migrate is ready",
        "web: mem_limit and cpus -> deploy.resources.limits",
        "web: restart unless-stopped -> deploy.restart_policy.condition any",
        "web: port 8080: host_ip 127.0.0.1 dropped (swarm publishes on every address of the node)",
        "web: ports published in host mode, on the node that runs each task",
    ]


def test_a_one_shot_is_not_restarted_and_services_wait_for_their_stage_at_zero_replicas():
    stack, _ = render_stack(plan(), MODEL, started=["migrate"])
    assert stack["services"]["migrate"]["deploy"]["restart_policy"] == {"condition": "none"}  # web waits for it
    assert stack["services"]["migrate"]["deploy"]["replicas"] == 1 and stack["services"]["web"]["deploy"]["replicas"] == 0


def test_replicas_come_from_scale_then_the_profile_then_the_file():
    model = {"services": {"web": {"image": "web:1", "deploy": {"replicas": 2, "placement": {"max_replicas_per_node": 1}}}}}
    assert render_stack(plan(model), model)[0]["services"]["web"]["deploy"]["replicas"] == 2
    deploy = render_stack(plan(model, services={"web": {"replicas": 3}}), model)[0]["services"]["web"]["deploy"]
    assert deploy["replicas"] == 3 and deploy["placement"] == {"max_replicas_per_node": 1}  # passed through
    scaled = render_stack(plan(model, services={"web": {"replicas": 3}}), model, replicas={"web": 0})[0]
    assert scaled["services"]["web"]["deploy"]["replicas"] == 0


def test_host_networking_with_several_replicas_is_a_profile_error_naming_service_and_key():
    model = {"services": {"agent": {"image": "agent:1", "network_mode": "host"}}}
    with pytest.raises(ProfileError, match=r"services\.agent\.replicas = 2: the service has network_mode: host"):
        render_stack(plan(model, services={"agent": {"replicas": 2}}), model)


# --- what runs: tasks ------------------------------------------------------------------------------


def task(slot, created, state, error="", exit_code=None):
    return {"ID": f"t{slot}{created}", "Slot": slot, "CreatedAt": f"2026-12-01T10:00:0{created}Z",
            "Status": {"State": state, "Err": error, "ContainerStatus": {"ExitCode": exit_code}}}


def test_the_newest_task_of_each_slot_comes_with_the_failures_before_it():
    from netra_stack.backends.swarm.backend import current_tasks

    unhealthy = "task: non-zero exit (137): dockerexec: unhealthy container"
    tasks = [task(1, 1, "failed", unhealthy, 137), task(1, 3, "starting"), task(1, 2, "failed", unhealthy, 137),
             task(2, 1, "running"), task(2, 0, "shutdown")]
    found = {newest["Slot"]: (newest["ID"], [t["ID"] for t in failed]) for newest, failed in current_tasks(tasks)}
    assert found == {1: ("t13", ["t12", "t11"]), 2: ("t21", [])}  # a task shut down in an update is no failure


def test_a_slot_that_keeps_failing_reads_as_a_crash_loop_with_the_swarms_error():
    from netra_stack.backends.swarm.backend import current_tasks, with_failures, task_instance
    from netra_stack.model.health import HealthState, judge

    unhealthy = "task: non-zero exit (137): dockerexec: unhealthy container"
    (newest, failed), = current_tasks([task(1, 1, "failed", unhealthy, 137), task(1, 2, "failed", unhealthy, 137),
                                       task(1, 3, "preparing")])
    instance = with_failures(task_instance(newest, "node1"), failed)
    assert (instance.status, instance.restart_count, instance.exit_code) == ("restarting", 2, 137)
    verdict = judge("web", instance, None, one_shot=False)
    assert verdict.state is HealthState.STOPPED and verdict.detail == "crash-looping (2 restarts, last exit 137)"
    assert verdict.docker_probe == unhealthy
    running = with_failures(task_instance(task(1, 4, "running"), "node1"), failed)
    assert (running.status, running.restart_count) == ("running", 2)


def test_the_routing_mesh_publishes_ingress_ports_behind_a_virtual_ip_and_says_why():
    stack, notes = render_stack(plan(), MODEL, mesh=True, mesh_note="ports: through the routing mesh (IPVS on every node)")
    web = stack["services"]["web"]
    assert [p["mode"] for p in web["ports"]] == ["ingress"] and "endpoint_mode" not in web["deploy"]
    assert notes[0] == "ports: through the routing mesh (IPVS on every node)"
    assert not any("host mode" in note for note in notes)
    hosted, notes = render_stack(plan(), MODEL, mesh_note="ports: host mode: the kernel of node0 has no IPVS")
    assert [p["mode"] for p in hosted["services"]["web"]["ports"]] == ["host"]
    assert hosted["services"]["web"]["deploy"]["endpoint_mode"] == "dnsrr"
    assert notes[0] == "ports: host mode: the kernel of node0 has no IPVS"


def test_with_a_registry_the_images_it_builds_run_by_their_name_there():
    model = {"services": {"web": {**WEB, "build": {"context": "web"}, "image": "netra/web:1"}, "migrate": MIGRATE}}
    found = plan(model, swarm={"registry": "registry.local:5000"})
    assert found.images == {"web": "netra/web:1"}
    stack, notes = render_stack(found, model)
    assert stack["services"]["web"]["image"] == "registry.local:5000/netra/web:1"
    assert stack["services"]["migrate"]["image"] == "web:1"  # not built here: as the file says
    assert "web: image netra/web:1 -> registry.local:5000/netra/web:1 (pushed there before the deploy)" in notes


def test_an_engine_with_start_intervals_probes_often_during_the_start_period_and_says_so():
    health = {"test": ["CMD", "true"], "interval": "5s", "start_period": "30s"}
    model = {"services": {"web": {**WEB, "healthcheck": health}, "migrate": {**MIGRATE, "healthcheck": {**health, "start_interval": "2s"}},
                          "plain": {"image": "x", "healthcheck": {"test": ["CMD", "true"], "interval": "5s"}}}}
    stack, notes = render_stack(plan(model), model, start_interval=True)
    assert stack["version"] == "3.12"  # the first to take start_interval
    checks = {name: s["healthcheck"] for name, s in stack["services"].items()}
    assert checks["web"] == {**health, "start_interval": "500ms"}  # the rest as the file says
    assert checks["migrate"]["start_interval"] == "2s" and "start_interval" not in checks["plain"]  # the file's own; no start_period
    assert "web: healthcheck start_interval 500ms added (probes during its start_period 30s; then every 5s, as the file says)" in notes
    assert not any(note.startswith(("migrate: healthcheck", "plain: healthcheck")) for note in notes)
    older, notes = render_stack(plan(model), model)  # an engine before 25: as the file says
    assert older["version"] == "3.8" and "start_interval" not in older["services"]["web"]["healthcheck"]


def _task(slot, state, created, err=None, pid=None, desired="running", updated=None):
    return {"Slot": slot, "CreatedAt": created, "UpdatedAt": updated or created, "DesiredState": desired,
            "Status": {"State": state, "Err": err, "ContainerStatus": {"PID": pid} if pid else {}}}


def test_placement_waits_for_every_replica_not_only_the_newest_task():
    from datetime import datetime, timezone

    from netra_stack.backends.swarm.backend import SwarmBackend
    from netra_stack.model.errors import EngineError

    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    new, newer, old = "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2025-12-31T23:00:00Z"
    running, pending = _task(2, "running", newer, pid=7), _task(1, "pending", new)
    assert SwarmBackend._placement(plan(), "web", [running, pending], since) == "pending"
    assert SwarmBackend._placement(plan(), "web", [running, _task(1, "starting", new, pid=9)], since) is None
    # a replica no deploy changed keeps its earlier task, which already runs
    assert SwarmBackend._placement(plan(), "web", [_task(1, "running", old, pid=3)], since) is None
    # an earlier deploy's error is not this one's
    assert SwarmBackend._placement(plan(), "web", [_task(1, "pending", old, err="no suitable node (host-mode "
                                                         "port already in use on 1 node)")], since) == "pending"
    taken = _task(1, "pending", new, err="no suitable node (host-mode port already in use on 1 node)")
    with pytest.raises(EngineError, match="port 31000 of web is taken on every node"):
        SwarmBackend._placement(plan(), "web", [running, taken], since)


def test_placement_waits_for_the_successor_of_a_task_this_deploy_replaces():
    from datetime import datetime, timezone

    from netra_stack.backends.swarm.backend import SwarmBackend

    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    new, old = "2026-01-01T00:00:01Z", "2025-12-31T23:00:00Z"
    running = _task(2, "running", new, pid=7)
    # a rolling update stops a slot's task before it creates the next: the stopped one is not the slot's state
    for state in ("running", "shutdown", "pending"):
        told = _task(1, state, old, pid=3, desired="shutdown", updated=new)
        assert SwarmBackend._placement(plan(), "web", [running, told], since) == "replacing"
    # told to stop before this deploy (a slot scaled away): nothing to wait for
    assert SwarmBackend._placement(plan(), "web", [running, _task(3, "shutdown", old, desired="shutdown")], since) is None
    # a one-shot task that completed is told to stop too, and is done
    done = _task(1, "complete", new, desired="shutdown")
    assert SwarmBackend._placement(plan(), "web", [running, done], since) is None
