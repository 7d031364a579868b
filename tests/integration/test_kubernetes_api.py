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


def example_objects(mini_env, profile="prod", name="prod-api-test"):
    ctx = StackManager(profile, environ={**mini_env, "NETRA_STACK_PROFILE_PATH": str(REAL_PROFILES)}).ctx
    plan = ctx.plan(name=name)
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
    assert services["postgres-published"].spec.type == "NodePort"
    assert 30000 <= services["postgres-published"].spec.ports[0].nodePort <= 32767  # the cluster chose (prod: ephemeral)
    assert services["postgres"].spec.clusterIP == "None"  # headless: its name resolves to the pods


def test_the_least_access_it_asks_for_is_enough_for_an_environment_and_no_more(kube_api, client, mini_env):
    from lightkube import Client, codecs
    from lightkube.config.kubeconfig import KubeConfig
    from lightkube.core.exceptions import ApiError
    from lightkube.resources.core_v1 import Namespace, Node, Pod
    from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding

    from netra_stack.backends.kubernetes.manifests import access_role

    role = access_role("netra-stack-test")
    client.apply(codecs.from_dict(role))
    client.apply(codecs.from_dict({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "netra-stack-test"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "netra-stack-test"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "netra"}]}))
    netra = Client(KubeConfig.from_dict(kube_api.kubeconfig(kube_api.user_token)), field_manager="netra-stack")
    try:
        objects = example_objects(mini_env, name="access-test")
        for obj in objects:  # the whole environment, as the user netra-stack runs as
            netra.apply(codecs.from_dict(obj))
        namespace = objects[0]["metadata"]["name"]
        assert list(netra.list(Pod, namespace=namespace)) == []  # it may watch what runs there
        for forbidden in (lambda: list(netra.list(Node)), lambda: netra.apply(codecs.from_dict(access_role("escalated")))):
            with pytest.raises(ApiError) as info:
                forbidden()
            assert info.value.status.code == 403  # nodes, and RBAC itself, are not its business
        netra.delete(Namespace, namespace)
    finally:
        client.delete(ClusterRoleBinding, "netra-stack-test")
        client.delete(ClusterRole, "netra-stack-test")
