"""The Kubernetes objects netra-stack renders, applied for real to a Kubernetes API server of the
test bed (tests/testbed/kube.py: etcd and kube-apiserver 1.20, no nodes): the server validates
and defaults them as any cluster would."""

from __future__ import annotations

import pytest

from netra_stack.backends.kubernetes.manifests import render_manifests
from netra_stack.manager import StackManager
from netra_stack.model import labels as L
from tests.helpers import REAL_PROFILES

pytestmark = pytest.mark.slow


@pytest.fixture
def client(kube_api):
    from lightkube import Client
    from lightkube.config.kubeconfig import KubeConfig

    return Client(KubeConfig.from_dict(kube_api.kubeconfig()), field_manager="netra-stack")


def example_objects(mini_env, profile="prod"):
    ctx = StackManager(profile, environ={**mini_env, "NETRA_STACK_PROFILE_PATH": str(REAL_PROFILES)}).ctx
    plan = ctx.plan(name=f"{profile}-api-test")
    plan.reservations.release()
    return render_manifests(plan, ctx.base_model())[0]


def test_the_example_stack_is_accepted_and_defaulted_by_the_api_server(client, mini_env):
    from lightkube import codecs
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import Namespace, Service

    first, *objects = example_objects(mini_env)
    assert first["kind"] == "Namespace"  # rendered first: everything else lives in it
    namespace = first["metadata"]["name"]
    client.apply(codecs.from_dict(first))
    for obj in objects:  # a server-side dry run: each object valid, nothing stored
        client.apply(codecs.from_dict(obj), dry_run=True)
    assert list(client.list(Deployment, namespace=namespace)) == []
    for obj in objects:  # then for real
        client.apply(codecs.from_dict(obj))
    assert client.get(Namespace, namespace).metadata.labels[L.ENVIRONMENT] == namespace
    deployments = {d.metadata.name: d for d in client.list(Deployment, namespace=namespace)}
    assert set(deployments) == {"postgres", "redis", "backend", "auth", "frontend"}
    postgres = deployments["postgres"].spec.template.spec
    assert postgres.containers[0].readinessProbe.exec.command[0] == "pg_isready"
    assert postgres.containers[0].resources.limits["memory"] == "1073741824"  # the profile's 1g, in bytes
    assert deployments["postgres"].spec.strategy.type == "RollingUpdate"  # defaulted by the server
    services = {s.metadata.name: s for s in client.list(Service, namespace=namespace)}
    assert services["postgres"].spec.type == "NodePort"
    assert 30000 <= services["postgres"].spec.ports[0].nodePort <= 32767  # the cluster chose (prod: ephemeral)
    assert services["postgres"].spec.clusterIP  # allocated: its name will resolve
