"""`netra-stack logs`: services' logs, secrets masked."""

from __future__ import annotations

import click

from netra_stack.cli.options import command, manager, name_option, profile_option, services, terminal


@command("logs")
@profile_option
@name_option
@click.option("--services", "-s", "names", help="Comma-separated services (default: all).")
@click.option("--tail", type=int, help="Lines from the end of each service's log.")
@click.option("--follow", "-f", is_flag=True, help="Keep following.")
def logs(profile, env_name, names, tail, follow) -> None:
    """Show services' logs (secrets masked)."""
    shown = terminal()
    for line in manager(profile).logs(services(names), tail=tail, follow=follow, env_name=env_name):
        shown.say(line)
