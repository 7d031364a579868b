"""The built-in backends: Docker Compose, Docker Swarm and Kubernetes. Imported only when an environment uses one."""

from __future__ import annotations

from netra_stack.plugins.hookspecs import hookimpl


def compose(environ):
    from netra_stack.backends.compose.backend import ComposeBackend

    return ComposeBackend(environ)


def swarm(environ):
    from netra_stack.backends.swarm.backend import SwarmBackend

    return SwarmBackend(environ)


def kubernetes(environ):
    from netra_stack.backends.kubernetes.backend import KubernetesBackend

    return KubernetesBackend(environ)


@hookimpl(trylast=True)
def netra_backends():
    return {"compose": compose, "swarm": swarm, "kubernetes": kubernetes}
