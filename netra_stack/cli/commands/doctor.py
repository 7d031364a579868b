"""`netra-stack doctor`: the set-up netra-stack depends on, checked, with fixes."""

from __future__ import annotations

import os
import sys

import click

from netra_stack.cli.options import BACKEND, backend_option, command, json_option, terminal


@command("doctor")
@click.option("--profile", "-p", metavar="NAME", help="The profile whose ports, plugins and backend to check "
              "(default: the default profile).")
@backend_option
@json_option
def doctor(profile) -> None:
    """Check the engine (which one, versions), Compose, buildx, that memory limits are enforced,
    leftovers of earlier runs, free ports in the profile's range, the state directory and the
    plugins; each problem with its fix. Exit 1 when a check fails (warnings do not)."""
    from netra_stack.cli.commands import builtins
    from netra_stack.cli.views import doctor_view
    from netra_stack.lifecycle.doctor import doctor as look, exit_code

    findings = look(profile, os.environ, backend_name=click.get_current_context().meta.get(BACKEND),
                    builtins=builtins())
    shown = terminal()
    if shown.as_json:
        shown.data({"ok": exit_code(findings) == 0, "checks": [f.as_dict() for f in findings]})
    else:
        shown.draw(doctor_view(findings))
    sys.exit(exit_code(findings))
