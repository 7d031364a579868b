"""For netra-stack's own tests of the plugin: with SAMPLE_RECORD set, each worker appends
"<worker> <environment>" to that file once, so a test can count the environments used."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _record_environment(request):
    record = os.environ.get("SAMPLE_RECORD")
    if record and request.config.getoption("real_services"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "master")
        name = request.getfixturevalue("netra_env").name
        with open(record, "a") as file:
            file.write(f"{worker} {name}\n")
