"""A plan as Kubernetes objects (netra_stack.backends.kubernetes.manifests), without a cluster:
what maps to which object and field, what is said, and what is refused."""

from __future__ import annotations

import base64

import pytest

from netra_stack.backends.kubernetes.manifests import masked, render_manifests, seconds
from netra_stack.model import labels as L
from netra_stack.model.errors import ProfileError
from netra_stack.model.profiles import Profile
from netra_stack.planning.plan import compose_env, port_requests, resolve_plan

WEB = {"image": "web:1", "entrypoint": ["/init"], "command": ["httpd", "-f"], "container_name": "web",
       "restart": "no", "mem_limit": "67108864", "cpus": 0.5, "working_dir": "/srv", "user": "1000:1000",
       "environment": {"MODE": "test", "API_TOKEN": "s3cr3t-value", "API_TOKEN_FILE": "/run/secrets/token"},
       "ports": [{"mode": "ingress", "target": 8080, "published": "31000", "protocol": "tcp"}], "expose": ["9090"],
       "healthcheck": {"test": ["CMD-SHELL", "wget -q -O- localhost:8080"], "interval": "2s", "timeout": "1s",
                       "retries": 4, "start_period": "10s"},
       "depends_on": {"migrate": {"condition": "service_completed_successfully", "required": True}},
       "tmpfs": ["/tmp"], "stop_grace_period": "1m30s", "init": True, "secrets": [{"source": "token"}],
       "extra_hosts": ["api.local=10.0.0.5"], "cap_add": ["NET_ADMIN"]}
MIGRATE = {"image": "web:1", "command": ["migrate"]}


def model(tmp_path, **web):
    token = tmp_path / "token.txt"
    token.write_text("hunter2")
    config = tmp_path / "nginx.conf"
    config.write_text("server {}\n")
    volumes = [{"type": "bind", "source": str(config), "target": "/etc/nginx/nginx.conf", "read_only": True},
               {"type": "volume", "source": "data", "target": "/data"}]
    return {"services": {"web": {**WEB, "volumes": volumes, **web}, "migrate": MIGRATE},
            "secrets": {"token": {"file": str(token)}}, "volumes": {"data": {"name": "env_data"}},
            "networks": {"front": {}, "back": {}}}


def plan(found, environment="test", **profile):
    chosen = Profile.model_validate({"name": "p", "environment": environment, "compose_files": ["c.yml"], **profile})
    requests = port_requests(chosen, found, {})
    return resolve_plan(chosen, found, name="env", env=compose_env(chosen, {}),
                        host_ports={r.key: 31000 for r in requests}, requests=requests)


def by_kind(objects):
    found = {}
    for o in objects:
        found.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    return found


def test_services_become_workloads_services_and_files_of_one_labelled_namespace(tmp_path):
    found = model(tmp_path)
    objects, notes = render_manifests(plan(found), found)
    kinds = by_kind(objects)
    assert objects[0]["kind"] == "Namespace" and objects[0]["metadata"]["name"] == "env"
    assert all(o["metadata"]["labels"][L.MANAGED] == "true" and o["metadata"]["labels"][L.ENVIRONMENT] == "env"
               for o in objects)  # every object is ours, by label
    assert all(o["metadata"].get("namespace", "env") == "env" for o in objects)
    # A value no Kubernetes label can hold (the owner, user@host) is an annotation of the same key
    assert all("@" in o["metadata"]["annotations"][L.OWNER] and L.OWNER not in o["metadata"]["labels"] for o in objects)
    assert set(kinds["Deployment"]) == {"web"} and set(kinds["Job"]) == {"migrate"}  # the one-shot is a Job
    job = kinds["Job"]["migrate"]["spec"]
    assert job["backoffLimit"] == 0 and job["template"]["spec"]["restartPolicy"] == "Never"
    pod = kinds["Deployment"]["web"]["spec"]["template"]["spec"]
    web = pod["containers"][0]
    assert (web["command"], web["args"], web["workingDir"]) == (["/init"], ["httpd", "-f"], "/srv")
    assert {"name": "MODE", "value": "test"} in web["env"]
    assert web["resources"] == {"limits": {"memory": "67108864", "cpu": "500m"},
                                "requests": {"memory": "67108864", "cpu": "500m"}}
    assert web["readinessProbe"] == {"exec": {"command": ["/bin/sh", "-c", "wget -q -O- localhost:8080"]},
                                     "periodSeconds": 2, "timeoutSeconds": 1, "failureThreshold": 4}
    assert web["securityContext"] == {"capabilities": {"add": ["NET_ADMIN"]}, "runAsUser": 1000, "runAsGroup": 1000}
    assert pod["terminationGracePeriodSeconds"] == 90 and pod["hostAliases"] == [{"ip": "10.0.0.5", "hostnames": ["api.local"]}]
    # The service's name resolves to its pods, every port reachable, as on a compose network
    named = kinds["Service"]["web"]["spec"]
    assert named["clusterIP"] == "None" and named["selector"] == {L.ENVIRONMENT: "env", L.SERVICE: "web"}
    assert [p["port"] for p in named["ports"]] == [8080, 9090]
    assert "ports" not in kinds["Service"]["migrate"]["spec"]  # none declared: resolves all the same
    published = kinds["Service"]["web-published"]["spec"]
    assert published["type"] == "NodePort" and published["selector"] == named["selector"]
    assert [(p["port"], p.get("nodePort")) for p in published["ports"]] == [(8080, 31000)]  # expose: in the cluster only
    # both reach a pod whatever its readiness, as a compose network reaches a container whatever its health
    assert named["publishNotReadyAddresses"] is True and published["publishNotReadyAddresses"] is True
    # Files: the bind-mounted file as a ConfigMap, the secret as a Secret, the volume (test) and tmpfs as emptyDir
    mounts = {m["mountPath"]: m for m in web["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    config = volumes[mounts["/etc/nginx/nginx.conf"]["name"]]["configMap"]["name"]
    assert kinds["ConfigMap"][config]["data"] == {"nginx.conf": "server {}\n"}
    assert mounts["/etc/nginx/nginx.conf"]["subPath"] == "nginx.conf" and mounts["/etc/nginx/nginx.conf"]["readOnly"]
    assert base64.b64decode(kinds["Secret"]["token"]["data"]["value"]) == b"hunter2"
    assert mounts["/run/secrets/token"]["subPath"] == "value"
    assert volumes[mounts["/data"]["name"]] == {"name": mounts["/data"]["name"], "emptyDir": {}}
    assert volumes[mounts["/tmp"]["name"]]["emptyDir"] == {"medium": "Memory"}
    said = "\n".join(notes)
    for expected in ("web: container_name web dropped", "web: init dropped", "web: restart no -> Always",
                     "web: depends_on carried out by netra-stack: web is applied once migrate is ready",
                     "web: ports 8080 published as NodePorts (Service web-published)", "networks front, back: one flat network"):
        assert expected in said, expected


def test_prod_volumes_are_claims_and_test_volumes_live_with_the_environment(tmp_path):
    found = model(tmp_path)
    kinds = by_kind(render_manifests(plan(found, environment="prod"), found)[0])
    assert kinds["PersistentVolumeClaim"]["data"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "PersistentVolumeClaim" not in by_kind(render_manifests(plan(found), found)[0])


def test_a_dependent_not_started_yet_has_no_replicas_and_a_one_shot_no_job(tmp_path):
    found = model(tmp_path)
    kinds = by_kind(render_manifests(plan(found), found, started=[])[0])
    assert kinds["Deployment"]["web"]["spec"]["replicas"] == 0 and "Job" not in kinds


def test_the_profiles_health_check_is_the_readiness_probe(tmp_path):
    found = model(tmp_path)
    checks = {"http": ({"http": "/health", "port": 8080}, {"httpGet": {"path": "/health", "port": 8080}}),
              "tcp": ({"tcp": 8080}, {"tcpSocket": {"port": 8080}}),
              "command": ("pg_isready -q", {"exec": {"command": ["pg_isready", "-q"]}})}
    for check, probe in checks.values():
        kinds = by_kind(render_manifests(plan(found, services={"web": {"health": check}}), found)[0])
        readiness = kinds["Deployment"]["web"]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        assert {k: v for k, v in readiness.items() if k not in ("periodSeconds", "timeoutSeconds", "failureThreshold")} == probe


@pytest.mark.parametrize(("key", "value"), [("network_mode", "host"), ("privileged", True), ("devices", ["/dev/kvm"])])
def test_a_key_whose_loss_changes_behaviour_is_a_profile_error_naming_service_and_key(tmp_path, key, value):
    found = model(tmp_path, **{key: value})
    with pytest.raises(ProfileError, match=rf"services\.web\.{key} = .*cannot run on Kubernetes"):
        render_manifests(plan(found), found)


def test_a_host_port_outside_the_node_port_range_is_a_profile_error(tmp_path):
    found = model(tmp_path)
    chosen = plan(found)
    requests = port_requests(chosen.profile, found, {})
    outside = resolve_plan(chosen.profile, found, name="env", env={}, host_ports={r.key: 8080 for r in requests},
                           requests=requests)
    with pytest.raises(ProfileError, match="host port 8080 is outside the NodePort range 30000-32767") as info:
        render_manifests(outside, found)
    assert "[ports] range = [30000, 32767]" in info.value.hint


def test_shown_objects_mask_secret_values_but_not_paths(tmp_path):
    found = model(tmp_path)
    shown = by_kind(masked(render_manifests(plan(found), found)[0]))
    env = {e["name"]: e["value"] for e in shown["Deployment"]["web"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["API_TOKEN"] == "***" and env["API_TOKEN_FILE"] == "/run/secrets/token" and env["MODE"] == "test"
    assert base64.b64decode(shown["Secret"]["token"]["data"]["value"]) == b"***"


def test_an_environment_name_that_cannot_name_a_namespace_is_a_profile_error(tmp_path):
    found = model(tmp_path)
    chosen = plan(found)
    from dataclasses import replace

    with pytest.raises(ProfileError, match="the environment name 'my_env' cannot name a namespace"):
        render_manifests(replace(chosen, name="my_env"), found)


def test_compose_durations():
    assert [seconds(d) for d in ("1m30s", "500ms", "5s", "1h0m0s", 3)] == [90, 0.5, 5, 3600, 3]


def test_the_services_labels_are_its_pods_annotations_and_netra_stacks_its_labels(tmp_path):
    found = model(tmp_path, labels={"com.example.team": "web team", "bad key!": "x"})
    objects, notes = render_manifests(plan(found), found)
    kinds = by_kind(objects)
    template = kinds["Deployment"]["web"]["spec"]["template"]["metadata"]
    assert template["annotations"]["com.example.team"] == "web team"  # a value no label could hold
    assert template["labels"][L.SERVICE] == "web" and template["labels"][L.MANAGED] == "true"
    assert kinds["Job"]["migrate"]["spec"]["template"]["metadata"]["labels"][L.ONE_SHOT] == "true"
    assert "web: labels bad key! dropped (not a Kubernetes annotation key)" in notes


def test_built_images_are_named_in_the_registry_and_liveness_follows_the_profile(tmp_path):
    found = model(tmp_path, build={"context": str(tmp_path)})
    found["services"]["web"].pop("image")
    chosen = plan(found, kubernetes={"registry": "registry.local:5000", "liveness": True})
    objects, notes = render_manifests(chosen, found)
    web = by_kind(objects)["Deployment"]["web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["image"] == f"registry.local:5000/{chosen.images['web']}" and web["imagePullPolicy"] == "IfNotPresent"
    assert f"web: image {chosen.images['web']} -> {web['image']} (pushed there before the apply)" in notes
    assert web["livenessProbe"] == web["readinessProbe"]
    plain = by_kind(render_manifests(plan(found), found)[0])["Deployment"]["web"]["spec"]["template"]["spec"]["containers"][0]
    assert "livenessProbe" not in plain and plain["image"] == plan(found).images["web"]
