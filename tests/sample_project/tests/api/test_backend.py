"""The example's HTTP services, through the fixtures of netra-stack's pytest plugin."""

import json
import os
import time
import urllib.request

import pytest


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.real_services("backend", "postgres", "redis")
def test_backend_is_healthy(netra_env):
    health = get_json(netra_env.url("backend", "/health"))
    assert health["status"] == "ok" and health["checks"]["database"]["ok"]


@pytest.mark.real_services("auth")
@pytest.mark.parametrize("attempt", range(8))  # enough tests for every xdist worker to get some
def test_auth_answers(netra_urls, attempt):
    assert get_json(netra_urls["auth"] + "/health")["service"] == "auth"


@pytest.mark.real_services("backend")
def test_ports_are_exported_by_netra_stack_test(netra_env):
    if "NETRA_STACK_ENV" not in os.environ:
        pytest.skip("only under `netra-stack test`")
    assert os.environ["NETRA_STACK_ENV"] == netra_env.name
    assert int(os.environ["NETRA_BACKEND_PORT"]) == netra_env.port("backend")


@pytest.mark.skipif(not os.environ.get("SAMPLE_FAIL"), reason="the deliberate failure: set SAMPLE_FAIL=1")
@pytest.mark.real_services("backend", "postgres")
def test_deliberately_failing(netra_env):
    stopped = os.environ.get("SAMPLE_STOP")  # a service to stop first, as a crash would
    if stopped:
        import subprocess

        found = subprocess.run(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={netra_env.name}",
                                "--filter", f"label=com.docker.compose.service={stopped}"],
                               capture_output=True, text=True, check=True).stdout.split()
        subprocess.run(["docker", "stop", "-t", "1", *found], capture_output=True, check=True)
    assert get_json(netra_env.url("backend", "/version"))["version"] == "0.0.0-never"


@pytest.mark.skipif(not os.environ.get("SAMPLE_SLEEP"), reason="for the Ctrl-C test: set SAMPLE_SLEEP=<file>")
@pytest.mark.real_services
def test_sleeping(netra_env):
    with open(os.environ["SAMPLE_SLEEP"], "w") as file:
        file.write(netra_env.name)  # the environment is up and a test runs: interrupt now
    time.sleep(120)
