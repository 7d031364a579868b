"""Label keys netra-stack puts on everything it creates, and the ownership test.

Ownership is decided by label, never by name: a resource (container, network, volume, or an
image netra-stack built) is ours only if it carries MANAGED.
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "io.netra-stack"
MANAGED = f"{PREFIX}.managed"
ENVIRONMENT = f"{PREFIX}.environment"  # the environment's name (= its compose project)
PROFILE = f"{PREFIX}.profile"
ENV_TYPE = f"{PREFIX}.env-type"  # test / dev / prod
ONE_SHOT = f"{PREFIX}.one-shot"  # a service meant to run to completion (e.g. migrations)
DEPENDS_ON = f"{PREFIX}.depends-on"  # a service's depends_on, "db:service_healthy,cache:service_started"
OWNER = f"{PREFIX}.owner"  # who made it: user@host
LEASE = f"{PREFIX}.lease"  # the holding process (pid:start time), for environments a process holds
FINGERPRINT = f"{PREFIX}.build-fingerprint"  # on images netra-stack built: what they were built from
SERVICE = f"{PREFIX}.service"  # the service an instance belongs to, where the orchestrator does not say it as compose does

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"


def ownership_labels(environment: str, profile: str, env_type: str, owner: str = "") -> dict[str, str]:
    found = {MANAGED: "true", ENVIRONMENT: environment, PROFILE: profile, ENV_TYPE: env_type}
    return {**found, OWNER: owner} if owner else found


def service_of(labels: Mapping[str, str]) -> str:
    return labels.get(COMPOSE_SERVICE) or labels.get(SERVICE, "")


def is_ours(labels: Mapping[str, str] | None) -> bool:
    return bool(labels) and labels.get(MANAGED) == "true"


def managed_filter(environment: str | None = None) -> list[str]:
    """Label filters for engine queries: everything of ours, or one environment's."""
    found = [f"{MANAGED}=true"]
    if environment:
        found.append(f"{ENVIRONMENT}={environment}")
    return found
