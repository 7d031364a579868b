"""`netra-stack clean`: what netra-stack created, and nothing else, removed."""

from __future__ import annotations

import click

from netra_stack.cli.options import backend, backend_option, command, json_option, terminal


@command("clean")
@click.option("--older-than", metavar="AGE", help="Also remove environments older than AGE (e.g. 30m, 2h, 1d).")
@click.option("--all", "remove_all", is_flag=True, help="Remove every netra-stack environment.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@backend_option
@json_option
def clean(older_than, remove_all, dry_run) -> None:
    """Remove what netra-stack created and nothing else: stopped containers, old or all environments."""
    from netra_stack.cli.views import cleaned_view
    from netra_stack.lifecycle.clean import clean as remove
    from netra_stack.plugins.registry import Plugins

    plugins = Plugins()
    removed = remove(backend(plugins), older_than=older_than, remove_all=remove_all, dry_run=dry_run, plugins=plugins)
    shown = terminal()
    shown.data({"dry_run": dry_run, "removed": removed}) if shown.as_json else shown.draw(cleaned_view(removed, dry_run))
