"""`netra-stack down` (or `release`): an environment removed."""

from __future__ import annotations

import click

from netra_stack.cli.options import command, manager, name_option, profile_option, terminal


@command("down")
@profile_option
@name_option
@click.option("--images", is_flag=True,
              help="Also remove the images loaded into a swarm's nodes for it (where nothing else uses them).")
def down(profile, env_name, images) -> None:
    """Stop and remove an environment: containers, networks, volumes."""
    chosen = manager(profile)
    name = env_name or chosen.current_environment()
    chosen.release_environment(name, images=images)
    terminal().say(f"{name} removed")

