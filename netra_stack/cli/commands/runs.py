"""`netra-stack runs`: the recorded runs, what `advise` reads."""

from __future__ import annotations

from pathlib import Path

import click

from netra_stack.cli.options import command, json_option, terminal
from netra_stack.cli.terminal import Terminal


@command("runs")
@click.option("--profile", "-p", metavar="NAME", help="Only the runs of this profile (default: every profile's).")
@json_option
def runs(profile) -> None:
    """The recorded runs, oldest first: profile, environment, start, duration, services, the sum of
    the services' peak memory, OOM kills. Recorded by `up --record` and pytest --real-services."""
    import os
    import time

    from netra_stack.cli.terminal import View
    from netra_stack.cli.views import age
    from netra_stack.metrics.advise import format_size
    from netra_stack.metrics.records import list_runs, runs_dir

    name = Path(profile).stem if profile and profile.endswith(".toml") else profile
    records, skipped = list_runs(name, os.environ)
    shown = terminal()
    warn_skipped(shown, skipped)
    rows = [{"profile": r.profile, "environment": r.environment, "backend": r.backend,
             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(r.started)), "seconds": round(r.seconds, 1),
             "services": sorted(r.services), "peak_memory_bytes": sum(s.peak_memory_bytes for s in r.services.values()),
             "oom_kills": sum(s.oom_kills for s in r.services.values()), "path": str(r.path)} for r in records]
    if shown.as_json:
        shown.data(rows)
        return
    where = runs_dir(os.environ) / name if name else runs_dir(os.environ)
    shown.draw(View(("profile", "environment", "started", "duration", "services", "peak memory", "OOM kills"),
                    [(row["profile"], row["environment"], row["started"][:19].replace("T", " "), age(row["seconds"]),
                      str(len(row["services"])), format_size(row["peak_memory_bytes"]) if row["peak_memory_bytes"] else "-",
                      str(row["oom_kills"])) for row in rows],
                    empty=f"no recorded runs in {where} (record one with `netra-stack up --record`, then `down`, "
                          "or run pytest with --real-services)"))


def warn_skipped(shown: Terminal, skipped: list[tuple[Path, str]]) -> None:
    """One line on stderr per record file that could not be read, naming it and why."""
    for path, reason in skipped:
        shown.say(f"netra-stack: skipped {path}: {reason}", err=True)
