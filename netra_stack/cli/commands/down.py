"""`netra-stack down` (or `release`): an environment removed."""

from __future__ import annotations

from netra_stack.cli.options import command, manager, name_option, profile_option, terminal


@command("down")
@profile_option
@name_option
def down(profile, env_name) -> None:
    """Stop and remove an environment: containers, networks, volumes."""
    chosen = manager(profile)
    name = env_name or chosen.current_environment()
    chosen.release_environment(name)
    terminal().say(f"{name} removed")

