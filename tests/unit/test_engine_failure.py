"""parse_failure and lacking on the engines' own error texts (moby, Podman 4.3, compose v2.40)."""

from __future__ import annotations

import pytest

from netra_stack.backends.compose.failures import lacking, parse_failure

CONFLICT = ('Conflict. The container name "/alpine-test-3f9a1c-postgres-1" is already in use by container '
            '"9b2c4d5e6f70". You have to remove (or rename) that container to be able to reuse that name.')
PORT_ALLOCATED = "Bind for 0.0.0.0:35001 failed: port is already allocated"
ADDRESS_IN_USE = ("Error response from daemon: driver failed programming external connectivity on endpoint x: "
                  "Error starting userland proxy: listen tcp4 0.0.0.0:5432: bind: address already in use")
ACTIVE_ENDPOINTS = "network alpine-test-3f9a1c_default has active endpoints"
ACTIVE_ENDPOINTS_OLD = "network alpine-test-3f9a1c_default id 4e5f6a7b8c9d has active endpoints"
WRONG_LABELS = ('network alpine-test-3f9a1c_default was found but has incorrect label '
                'com.docker.compose.network set to "x"')


@pytest.mark.parametrize(
    ("text", "kind", "details"),
    [
        (CONFLICT, "name_conflict", {"name": "alpine-test-3f9a1c-postgres-1", "id": "9b2c4d5e6f70"}),
        ("Error response from daemon: " + CONFLICT, "name_conflict",
         {"name": "alpine-test-3f9a1c-postgres-1", "id": "9b2c4d5e6f70"}),
        (PORT_ALLOCATED, "port_allocated", {"address": "0.0.0.0", "port": "35001"}),
        ("Error response from daemon: driver failed programming external connectivity on endpoint x-redis-1: "
         "Bind for [::]:6379 failed: port is already allocated", "port_allocated", {"address": "[::]", "port": "6379"}),
        (ADDRESS_IN_USE, "address_in_use", {"address": "0.0.0.0", "port": "5432"}),
        ("Error starting userland proxy: listen tcp6 [::]:8000: bind: address already in use", "address_in_use",
         {"address": "[::]", "port": "8000"}),
        ("bind: address already in use", "address_in_use", {}),
        (ACTIVE_ENDPOINTS, "network_active_endpoints", {"network": "alpine-test-3f9a1c_default"}),
        (ACTIVE_ENDPOINTS_OLD, "network_active_endpoints", {"network": "alpine-test-3f9a1c_default"}),
        ("failed to remove network n_default: Error response from daemon: error while removing network: "
         "network n_default id 4e5f has active endpoints", "network_active_endpoints", {"network": "n_default"}),
        (WRONG_LABELS, "network_wrong_labels",
         {"network": "alpine-test-3f9a1c_default", "label": "com.docker.compose.network"}),
        (' Container x-migrate-1  service "migrate" didn\'t complete successfully: exit 3\n'
         'service "migrate" didn\'t complete successfully: exit 3', "dependency_failed", {"service": "migrate"}),
    ],
)
def test_parse_known_failures(text, kind, details):
    failure = parse_failure(text)
    assert (failure.kind, failure.details, failure.text) == (kind, details, text)


@pytest.mark.parametrize("text", ["", "container x is unhealthy", "no such image: netra/backend:latest",
                                  "network x not found"])
def test_parse_unknown_is_other(text):
    failure = parse_failure(text)
    assert (failure.kind, failure.details, failure.text) == ("other", {}, text)


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        (" Container x-postgres-1  Creating\n" + "Error response from daemon: " + CONFLICT + "\n\n",
         "Error response from daemon: " + CONFLICT),
        (" Network n  Creating\n " + PORT_ALLOCATED + "\n Container x  Stopping\n", PORT_ALLOCATED),
        ("first\nsecond\n", "second"),  # nothing telling: the last line
        ("", "(no output)"),
        ("\n  \n", "(no output)"),
    ],
)
def test_summary(text, summary):
    assert parse_failure(text).summary() == summary


@pytest.mark.parametrize(("text", "needs"), [
    # Podman 4.3 without catatonit, a service with `init: true`
    ("Error response from daemon: container create: container-init binary not found on the host: "
     "stat /usr/libexec/podman/catatonit: no such file or directory", "`init: true`"),
    # compose's BuildKit path on an engine without BuildKit (Podman, no registry)
    ("initializing source docker://moby/buildkit:buildx-stable-1: pinging container registry registry-1.docker.io",
     "DOCKER_BUILDKIT=0"),
])
def test_a_feature_the_engine_lacks_is_named_with_what_needs_it(text, needs):
    assert needs in lacking(text)


def test_other_failures_lack_nothing():
    assert lacking(CONFLICT) is None and lacking(PORT_ALLOCATED) is None
