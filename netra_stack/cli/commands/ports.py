"""`netra-stack ports`: the host ports an environment has bound."""

from __future__ import annotations

import click

from netra_stack.cli.options import command, json_option, manager, name_option, profile_option, terminal


@command("ports")
@profile_option
@name_option
@click.option("--env", "as_env", is_flag=True, help="Print KEY=VALUE lines for a shell or a CI step.")
@json_option
def ports(profile, env_name, as_env) -> None:
    """The host ports an environment really has bound."""
    from netra_stack.cli.views import ports_view
    from netra_stack.lifecycle.inventory import port_variables, primary_ports

    bindings = manager(profile).get_ports(env_name)
    shown = terminal()
    if shown.as_json:
        shown.data([b.as_dict() for b in bindings])
    elif as_env:
        for key, value in port_variables(primary_ports(bindings)).items():
            shown.say(f"{key}={value}")
    else:
        shown.draw(ports_view(bindings))
