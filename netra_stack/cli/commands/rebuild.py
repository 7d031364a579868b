"""`netra-stack rebuild`: images built again, their services recreated."""

from __future__ import annotations

import click

from netra_stack.cli.options import command, managing, name_option, profile_option, services, terminal


@command("rebuild")
@profile_option
@name_option
@click.option("--services", "-s", "names", help="Comma-separated services (default: all that build).")
@click.option("--no-cache", is_flag=True, help="Build without Docker's layer cache.")
def rebuild(profile, env_name, names, no_cache) -> None:
    """Build images again and recreate the running services that use them."""
    with managing(profile) as chosen:
        chosen.rebuild(services(names), no_cache=no_cache, env_name=env_name)
    terminal().say("rebuilt")
