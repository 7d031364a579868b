"""`netra-stack profile schema`: profile tools."""

from __future__ import annotations

import click

from netra_stack.cli.options import terminal, terminal_options


@click.group("profile")
@terminal_options
def profile() -> None:
    """Profile tools."""


@profile.command("schema")
def schema() -> None:
    """Print the JSON Schema of a profile (for TOML editors)."""
    from netra_stack.model.profiles import profile_json_schema

    terminal().data(profile_json_schema())
