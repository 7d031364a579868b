"""What the commands share: their options, the terminal of the command line, and the manager or
backend a command acts through. Only click is imported here; the rest inside the functions."""

from __future__ import annotations

import os
from contextlib import contextmanager

import click

from netra_stack.cli.terminal import Terminal

BACKEND = "netra_stack.backend"  # where --backend leaves its value for the command


def terminal() -> Terminal:
    """The command line's one Terminal (made by the group, or by a command run on its own)."""
    return click.get_current_context().ensure_object(Terminal)


def manager(profile: str | None, **options):
    from netra_stack.cli.progress import CliReporter
    from netra_stack.manager import StackManager

    return StackManager(profile, reporter=CliReporter(terminal()),
                        backend=click.get_current_context().meta.get(BACKEND), **options)


@contextmanager
def managing(profile: str | None, **options):
    """The manager of a long command, its progress display closed when the command ends (the
    live table of a wait included), whether it succeeds or not."""
    chosen = manager(profile, **options)
    try:
        yield chosen
    finally:
        chosen.reporter.close()


def backend(plugins=None):
    """The backend --backend names (default compose), for commands that need no profile."""
    from netra_stack.plugins.registry import Plugins

    return (plugins or Plugins()).backend(click.get_current_context().meta.get(BACKEND) or "compose", os.environ)


def services(value: str | None) -> list[str] | None:
    return [s.strip() for s in value.split(",") if s.strip()] if value else None


def _set(update):
    """A callback that applies an option's value to the Terminal and keeps it from the command."""

    def callback(ctx, param, value):
        if value:
            update(ctx.ensure_object(Terminal), value)

    return callback


def terminal_options(f):
    """-v/-q/--no-color, on the group and on every command alike (`netra-stack -v up` is `up -v`)."""
    f = click.option("-v", "--verbose", count=True, expose_value=False, callback=_set(
        lambda t, n: setattr(t, "verbosity", t.verbosity + n)),
        help="More output: compose's, and the logs of services not yet healthy (repeatable).")(f)
    f = click.option("-q", "--quiet", count=True, expose_value=False, callback=_set(
        lambda t, n: setattr(t, "verbosity", t.verbosity - n)), help="No progress: only results and errors.")(f)
    return click.option("--no-color", is_flag=True, expose_value=False, callback=_set(
        lambda t, _: setattr(t, "color", False)), help="Plain output even on a terminal (as NO_COLOR=1).")(f)


def json_option(f):
    return click.option("--json", is_flag=True, expose_value=False, callback=_set(
        lambda t, _: setattr(t, "as_json", True)), help="Print JSON.")(f)


def backend_option(f):
    def remember(ctx, param, value):
        if value:
            ctx.meta[BACKEND] = value

    def kube_context(ctx, param, value):
        from netra_stack.backends.kubernetes import CONTEXT_VAR

        if value:  # the backend reads it from the environment, as the watchdog it spawns will
            os.environ[CONTEXT_VAR] = value

    f = click.option("--kube-context", metavar="NAME", expose_value=False, callback=kube_context,
                     help="The kubeconfig's context, for the kubernetes backend (default: its current one).")(f)
    return click.option("--backend", metavar="NAME", expose_value=False, callback=remember,
                        help="The backend to run on, over the profile's `backend` (default compose).")(f)


def start_engine_option(f):
    def start(ctx, param, value):
        from netra_stack.model.profiles import START_ENGINE_VAR

        if value:  # in the environment, so that the pytest run of `test` starts it too
            os.environ[START_ENGINE_VAR] = "1"

    return click.option("--start-engine", is_flag=True, expose_value=False, callback=start,
                        help="Start the Docker engine if it cannot be reached (as NETRA_STACK_START_ENGINE=1).")(f)


def profile_option(f):
    return backend_option(click.option("--profile", "-p", metavar="NAME",
                                       help="Profile name or .toml path (default: DOCKER_ENV / USE_ALPINE, else test).")(f))


def name_option(f):
    return click.option("--name", "-n", "env_name", metavar="ENV",
                        help="The environment to act on (default: the profile's only one, or COMPOSE_PROJECT_NAME).")(f)


def health_timeout_option(f):
    """--timeout of a command that changes what runs, then waits for health."""
    return click.option("--timeout", type=float, help="Seconds to wait for health afterwards.")(f)


def compose_profile_option(f):
    return click.option("--compose-profile", "compose_profiles", multiple=True, metavar="NAME",
                        help="Enable a compose profile (repeatable), on top of the profile's compose_profiles.")(f)


def command(name: str, **settings):
    """A built-in command: click's, with the terminal options."""

    def decorate(f):
        return click.command(name, **settings)(terminal_options(f))

    return decorate
