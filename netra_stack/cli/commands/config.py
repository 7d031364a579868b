"""`netra-stack config`: the resolved compose configuration."""

from __future__ import annotations

import sys

import click

from netra_stack.cli.options import command, compose_profile_option, manager, name_option, profile_option


@command("config")
@profile_option
@name_option
@compose_profile_option
@click.option("--reveal-secrets", is_flag=True, help="Do not mask passwords and tokens.")
def config(profile: str | None, env_name, compose_profiles, reveal_secrets: bool) -> None:
    """Print the fully resolved compose configuration (as `docker compose config` would): of the
    running environment --name, with its real ports, or else a preview of a new one."""
    chosen = manager(profile, compose_profiles=compose_profiles)
    sys.stdout.write(chosen.resolved_config(reveal=reveal_secrets, env_name=env_name))
