"""`netra-stack advise`: memory and CPU limits from what a profile's recorded runs used."""

from __future__ import annotations

from pathlib import Path

import click

from netra_stack.cli.options import command, json_option, terminal


@command("advise")
# Not profile_option: advise reads run records and needs no backend, so --backend would mean nothing.
@click.option("--profile", "-p", metavar="NAME",
              help="Profile name or .toml path (default: DOCKER_ENV / USE_ALPINE, else test).")
@click.option("--runs", "last", type=click.IntRange(min=1), default=10, show_default=True, metavar="N",
              help="Use the profile's last N recorded runs.")
@click.option("--write", is_flag=True, help="Write the limits to the profile's layer NAME.limits.toml.")
@click.option("--force", is_flag=True, help="With --write: overwrite a layer that was edited by hand.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draw memory and CPU over the runs, with the limits, as FILE (.png or .svg).")
@json_option
def advise(profile, last, write, force, plot_file) -> None:
    """Memory and CPU limits for each service from its recorded runs, how many environments of
    the profile fit on this machine before and after, and the TOML to paste (or --write)."""
    import os

    from netra_stack.cli.commands.runs import warn_skipped
    from netra_stack.cli.views import advice_view
    from netra_stack.metrics import advise as advising
    from netra_stack.metrics.limits import layer_path, write_layer
    from netra_stack.metrics.records import list_runs, runs_dir
    from netra_stack.model.errors import NotFoundError, UsageError
    from netra_stack.model.profiles import default_profile_name, load_profile, profile_dirs
    from netra_stack.plugins.registry import Plugins

    if force and not write:
        raise UsageError("--force overwrites the layer that --write writes: it means nothing alone",
                         hint="pass --write --force")
    if plot_file:
        from netra_stack.metrics.plot import plot, plot_format

        plot_format(plot_file)  # a bad suffix is refused before anything is written
    chosen = load_profile(profile or default_profile_name(os.environ), profile_dirs(os.environ))
    records, skipped = list_runs(chosen.name, os.environ)
    shown = terminal()
    warn_skipped(shown, skipped)
    if not records:
        raise NotFoundError(f"no recorded runs of profile {chosen.name} (in {runs_dir(os.environ) / chosen.name})",
                            hint=f"record one with `netra-stack up --profile {chosen.name} --record` (then `down`), "
                                 "or run pytest with --real-services")
    used = records[-last:]
    recommendations = advising.recommend(used, chosen, plugins=Plugins(chosen))
    before, after = advising.fits(used, recommendations, chosen)
    machine_memory = advising.machine_memory_bytes(used)
    toml = advising.as_toml(recommendations)
    written = plotted = None
    if write:
        written = write_layer(chosen.source, recommendations, force=force)
    if plot_file:
        plotted = plot(used, recommendations, plot_file)

    if shown.as_json:
        shown.data({"profile": chosen.name, "runs": [str(r.path) for r in used],
                    "skipped": [{"path": str(path), "reason": reason} for path, reason in skipped],
                    "recommendations": [advising.as_dict(r) for r in recommendations],
                    "fits": {"machine_memory_bytes": machine_memory or None,
                             "before": before if machine_memory else None, "after": after if machine_memory else None},
                    "toml": toml, "written": str(written) if written else None,
                    "plot": str(plotted) if plotted else None})
        return
    oldest, newest = (_day(r.started) for r in (used[0], used[-1]))
    span = oldest if oldest == newest else f"{oldest} to {newest}"
    shown.draw(advice_view(recommendations, title=f"{chosen.name}: limits from {len(used)} recorded "
                                                  f"run{'s' if len(used) != 1 else ''} ({span})"))
    shown.say()
    if machine_memory:
        shown.say(f"fits {before} environments of this profile on this machine before, {after} after")
    else:
        shown.say("how many environments fit is unknown: the newest run recorded no machine memory")
    shown.say()
    if toml:
        shown.say(f"# for {chosen.source.name} (or --write keeps them in {layer_path(chosen.source).name}):")
        shown.say(toml.rstrip("\n"))
    else:
        shown.say("# no limits to change")
    if written:
        shown.say(f"wrote {written}")
    if plotted:
        shown.say(f"plotted {plotted}")


def _day(stamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))
