"""The built-in commands, one module each, contributed through `netra_cli_commands` like any
plugin's commands (the plugin `netra.commands`)."""

from __future__ import annotations

import copy
import importlib
import sys

from netra_stack.plugins.hookspecs import hookimpl

NAME = "netra.commands"
# Each command's name and the module that defines it under the module's name; a name that is
# not its module's is an alias.
COMMANDS = {"up": "up", "down": "down", "release": "down", "status": "status", "health": "health", "graph": "graph", "dashboard": "dashboard", "ports": "ports", "stats": "stats",
            "logs": "logs", "restart": "restart", "scale": "scale", "rebuild": "rebuild", "config": "config", "manifests": "manifests", "test": "test",
            "clean": "clean", "init": "init", "profiles": "profiles", "profile": "profile", "plugins": "plugins",
            "advise": "advise", "runs": "runs", "doctor": "doctor"}


@hookimpl(trylast=True)
def netra_cli_commands():
    commands = []
    for name, module in COMMANDS.items():
        command = getattr(importlib.import_module(f"{__name__}.{module}"), module)
        if command.name != name:
            command = copy.copy(command)
            command.name, command.short_help = name, f"The same as `{module}`."
        commands.append(command)
    return commands


def builtins() -> dict:
    """This plugin, for the Plugins of the command line (`Plugins(builtins=...)`)."""
    return {NAME: sys.modules[__name__]}
