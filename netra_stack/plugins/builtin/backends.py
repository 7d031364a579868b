"""The built-in backend: Docker Compose. Imported only when an environment uses it."""

from __future__ import annotations

from netra_stack.plugins.hookspecs import hookimpl


def compose(environ):
    from netra_stack.backends.compose.backend import ComposeBackend

    return ComposeBackend(environ)


@hookimpl(trylast=True)
def netra_backends():
    return {"compose": compose}
