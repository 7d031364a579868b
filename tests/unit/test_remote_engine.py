"""A remote engine, without one: which endpoints are another machine, and the override that
publishes a profile's loopback ports on every address of it. The real second engine reached
over tcp is tests/integration/test_engines.py."""

from __future__ import annotations

import pytest

from netra_stack.backends.compose.engine import Engine
from netra_stack.backends.compose.override import compose_override
from netra_stack.model.errors import DockerUnavailableError
from netra_stack.model.profiles import Profile
from netra_stack.planning.plan import compose_env, port_requests, resolve_plan


@pytest.mark.parametrize(("docker_host", "remote"), [
    ("unix:///var/run/docker.sock", None),
    ("tcp://127.0.0.1:2375", None),
    ("tcp://localhost:2375", None),
    ("tcp://[::1]:2375", None),
    ("tcp://10.1.2.3:2376", "10.1.2.3"),
    ("ssh://me@build.example", "build.example"),
])
def test_only_an_endpoint_off_this_machines_loopback_is_remote(docker_host, remote):
    assert Engine({"DOCKER_HOST": docker_host}).remote_host == remote


def _plan(host_ip: str):
    model = {"services": {"web": {"image": "web:1", "ports": [{"target": 8080, "published": "8080"}]}}}
    profile = Profile.model_validate({"name": "p", "environment": "test", "compose_files": ["c.yml"],
                                      "ports": {"strategy": "range", "range": [31000, 31010], "host_ip": host_ip}})
    requests = port_requests(profile, model, {})
    return resolve_plan(profile, model, name="env", env=compose_env(profile, {}),
                        host_ports={r.key: 31000 for r in requests}, requests=requests)


def test_a_remote_engine_publishes_loopback_ports_on_every_address_and_keeps_a_chosen_one():
    assert compose_override(_plan("127.0.0.1"))["services"]["web"]["ports"] == ["127.0.0.1:31000:8080/tcp"]
    assert compose_override(_plan("127.0.0.1"), every_address=True)["services"]["web"]["ports"] == ["0.0.0.0:31000:8080/tcp"]
    assert compose_override(_plan("10.0.0.7"), every_address=True)["services"]["web"]["ports"] == ["10.0.0.7:31000:8080/tcp"]


def test_an_ssh_endpoint_without_paramiko_names_the_extra_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "paramiko" else real(name, *a))
    with pytest.raises(DockerUnavailableError) as error:
        Engine({"DOCKER_HOST": "ssh://deploy@build-host"}).client()
    assert "needs paramiko for ssh:// endpoints" in error.value.message
    assert error.value.hint == "pip install 'netra-stack[ssh]'"
