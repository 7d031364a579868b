"""The `netra-stack` command group: the terminal options, signals, the one-line handling of
errors, and the commands, which come through the `netra_cli_commands` hook: the built-ins
(netra_stack.cli.commands) first, installed plugins' for any other name.

Only click and pluggy are imported at start-up; pydantic, rich and the Docker libraries are
imported inside the commands that need them, so `--help` and `--version` start fast.
"""

from __future__ import annotations

import functools
import gc
import os
import signal
import sys
import threading

import click

from netra_stack import __version__
from netra_stack.cli.options import terminal, terminal_options


def _interrupt(signum, frame) -> None:
    """Ctrl-C and SIGTERM as KeyboardInterrupt, but never inside an import.

    CPython runs a signal handler before whatever bytecode comes next. Inside an import that may be
    one of importlib's weakref callbacks, where the KeyboardInterrupt is printed as "Exception
    ignored" and lost, or an extension's start-up code, after which the interpreter ends by killing
    itself with SIGINT even though the interrupt was handled. So a signal that lands in an import
    is sent again 10 ms later, until it lands outside one."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            # os.kill on Windows ends the process instead of signalling it
            again = (os.kill, (os.getpid(), signum)) if os.name == "posix" else (signal.raise_signal, (signum,))
            threading.Timer(0.01, *again).start()
            return
        frame = frame.f_back
    raise KeyboardInterrupt


@functools.cache
def _commands(installed: bool) -> dict[str, click.Command]:
    """Commands by name, from netra_cli_commands: of the built-in plugin alone, or (installed)
    of every installed plugin too. Loading installed plugins costs about 150 ms, so `--help`
    lists only the built-ins (`netra-stack plugins` lists the rest)."""
    from netra_stack.cli.commands import builtins

    if installed:
        import importlib.metadata

        from netra_stack.plugins.registry import ENTRY_POINT_GROUP, Plugins

        if not importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            return {}
        contributed = Plugins(builtins=builtins()).cli_commands()
    else:
        import pluggy

        from netra_stack.plugins import hookspecs

        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        for name, plugin in builtins().items():
            manager.register(plugin, name)
        contributed = [command for commands in manager.hook.netra_cli_commands() for command in commands]
    return {command.name: command for command in contributed}


class _Group(click.Group):
    def list_commands(self, ctx):
        return list(_commands(installed=False))

    def get_command(self, ctx, name):
        return _commands(installed=False).get(name) or _commands(installed=True).get(name)

    def invoke(self, ctx):
        """A NetraError as its diagnostics and one line with its exit code; Ctrl-C as 130."""
        from netra_stack.model.errors import ExitCode, NetraError, NotHealthyError

        try:
            return super().invoke(ctx)
        except NetraError as exc:
            from netra_stack.cli.views import health_details, health_view

            shown = terminal()
            if isinstance(exc, NotHealthyError) and exc.report is not None:
                shown.draw(health_view(exc.report), err=True)
                for line in health_details(exc.report):
                    shown.say(line, err=True)
            if isinstance(exc, NotHealthyError) and exc.picture is not None and exc.picture.held():
                from netra_stack.graphs.formats import GraphView

                shown.say("what held what up:", err=True)
                shown.draw(GraphView(exc.picture), err=True)
            for diagnostic in exc.diagnostics:
                shown.say(diagnostic, err=True)
            shown.error(exc.line)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            terminal().say("netra-stack: interrupted (anything half-started was removed)", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        finally:
            # The command is done: spare the interpreter's exit a sweep over every object the
            # Docker libraries and pydantic made (about 0.1 s).
            gc.freeze()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netra-stack")
@terminal_options
def main() -> None:
    """Declarative Docker Compose environments from TOML profiles: up, healthy, ports, down.

    Installed plugins may add commands: `netra-stack plugins` lists them under netra_cli_commands.
    """
    # SIGTERM is handled like Ctrl-C, so an interrupted `up` removes what it started.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
