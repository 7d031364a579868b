"""Built-in planning policy: the profile's compose files, and the environment's name."""

from __future__ import annotations

from netra_stack.plugins.hookspecs import hookimpl
from netra_stack.planning.plan import environment_name


@hookimpl(trylast=True)
def netra_compose_files(profile, environ):
    return list(profile.compose_files)


@hookimpl(trylast=True)
def netra_environment_name(profile, environ):
    return environment_name(profile, environ)
