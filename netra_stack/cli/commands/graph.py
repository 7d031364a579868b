"""`netra-stack graph`: the services and their `depends_on`, as a tree, mermaid, dot or an image."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netra_stack.cli.options import command, manager, name_option, profile_option, terminal

FORMATS = ("text", "mermaid", "dot", "svg", "png")


@command("graph")
@profile_option
@name_option
@click.option("--format", "-f", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="A tree for the terminal, mermaid (for markdown), Graphviz dot, or an SVG or PNG image.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write it to FILE (an image needs one on a terminal).")
def graph(profile, env_name, output_format, output) -> None:
    """The services as a graph: `depends_on` with its condition, one-shot services, published
    ports; with --name, a running environment's, each service coloured by its health and the
    one that holds others up marked. Without --name, the profile's files."""
    from netra_stack.graphs import formats

    picture = manager(profile).picture(env_name)
    shown = terminal()
    if output_format == "text" and output is None:
        shown.draw(formats.GraphView(picture))
        return
    if output_format in ("svg", "png"):
        from netra_stack.graphs.image import render

        if output is None and sys.stdout.isatty():
            raise click.UsageError(f"an image is not for the terminal: -o FILE.{output_format}")
        data = render(picture, output_format)
    else:
        text = {"text": formats.plain, "mermaid": formats.mermaid, "dot": formats.dot}[output_format](picture)
        data = (text + "\n").encode()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    output.write_bytes(data)
    shown.say(f"wrote {output}")
