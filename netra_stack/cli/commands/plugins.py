"""`netra-stack plugins`: every hook and the implementations that will run."""

from __future__ import annotations

import click

from netra_stack.cli.options import command, json_option, terminal


@command("plugins")
@click.option("--profile", "-p", metavar="NAME", help="Include this profile's plugins and disabled ones.")
@json_option
def plugins(profile) -> None:
    """Every hook with the implementations that will run, in call order, and where each came from."""
    from netra_stack.cli.commands import builtins
    from netra_stack.cli.views import plugins_view
    from netra_stack.model.profiles import load_profile
    from netra_stack.plugins.registry import Plugins

    hooks = Plugins(load_profile(profile) if profile else None, builtins()).describe()
    shown = terminal()
    shown.data(hooks) if shown.as_json else shown.draw(plugins_view(hooks))
