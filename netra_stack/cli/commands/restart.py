"""`netra-stack restart`: services restarted and healthy again."""

from __future__ import annotations

import click

from netra_stack.cli.options import (command, health_timeout_option, managing, name_option, profile_option, services,
                                     terminal)


@command("restart")
@profile_option
@name_option
@click.option("--services", "-s", "names", required=True, help="Comma-separated services, e.g. backend,auth.")
@health_timeout_option
def restart(profile, env_name, names, timeout) -> None:
    """Restart services and wait until they are healthy again."""
    with managing(profile) as chosen:
        chosen.restart_service(services(names), env_name, timeout=timeout)
    terminal().say(f"restarted {names}: healthy")
