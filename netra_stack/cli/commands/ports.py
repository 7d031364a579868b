"""`netra-stack ports`: the host ports an environment has bound."""

from __future__ import annotations

import click

from netra_stack.cli.options import command, json_option, manager, name_option, profile_option, terminal


@command("ports")
@profile_option
@name_option
@click.option("--env", "as_env", is_flag=True, help="Print KEY=VALUE lines for a shell or a CI step.")
@click.option("--forward", is_flag=True, help="Forward a loopback port to each (kubernetes), until interrupted.")
@json_option
def ports(profile, env_name, as_env, forward) -> None:
    """The host ports an environment really has bound."""
    from netra_stack.cli.views import ports_view
    from netra_stack.lifecycle.inventory import port_variables, primary_ports

    chosen = manager(profile)
    bindings = chosen.get_ports(env_name)
    forwards = chosen.backend.forward(env_name or chosen.current_environment(), bindings) if forward else None
    if forwards is not None:
        bindings = forwards.bindings
    shown = terminal()
    if shown.as_json:
        shown.data([b.as_dict() for b in bindings])
    elif as_env:
        for key, value in port_variables(primary_ports(bindings)).items():
            shown.say(f"{key}={value}")
    else:
        shown.draw(ports_view(bindings))
    if forwards is not None:
        _hold(forwards)


def _hold(forwards) -> None:
    """Keep the forwards open until interrupted (Ctrl-C, SIGTERM) or until one of them ends."""
    import sys
    import time

    sys.stdout.flush()
    try:
        while forwards.alive():
            time.sleep(0.5)
        raise click.ClickException("a port-forward ended (the pod behind it went away?)")
    finally:
        forwards.close()
