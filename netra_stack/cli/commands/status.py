"""`netra-stack status`: every environment on the engine."""

from __future__ import annotations

import click

from netra_stack.cli.options import backend, backend_option, command, json_option, terminal


@command("status")
@click.option("--profile", "-p", metavar="NAME", help="Only environments of this profile.")
@backend_option
@json_option
def status(profile) -> None:
    """Every netra-stack environment on this engine: name, profile, services, state, ports, age;
    on a swarm, each task with its node."""
    from netra_stack.cli.views import environments_view, placement_view
    from netra_stack.lifecycle.inventory import list_environments

    envs = list_environments(backend(), profile)
    shown = terminal()
    if shown.as_json:
        shown.data([e.as_dict() for e in envs])
        return
    shown.draw(environments_view(envs))
    if placed := placement_view(envs):
        shown.draw(placed)
