"""`netra-stack init`: a profile for an existing compose project."""

from __future__ import annotations

import os

import click

from netra_stack.cli.options import command, terminal


@command("init")
@click.option("--dir", "folder", default=".", metavar="DIR", help="The compose project's directory (default: here).")
@click.option("-f", "--file", "files", multiple=True, metavar="FILE",
              help="A compose file, relative to DIR; repeatable (default: those compose itself picks in DIR).")
@click.option("--print", "to_stdout", is_flag=True, help="Print the profile instead of writing DIR/profiles/test.toml.")
def init(folder: str, files: tuple[str, ...], to_stdout: bool) -> None:
    """Write profiles/test.toml for an existing compose project, from its resolved configuration."""
    import sys

    from netra_stack.planning.init import init_profile

    text, path = init_profile(folder, files, write=not to_stdout)
    if to_stdout:
        sys.stdout.write(text)
        return
    shown = os.path.relpath(path) if path.is_relative_to(os.getcwd()) else str(path)
    terminal().say(f"wrote {shown}; fill in its memory limits, then: netra-stack up --profile {shown}")
