"""`advise --plot`: each service's memory and CPU over its recorded runs, with the current and the
recommended limits, as one PNG or SVG. matplotlib is optional (the `plot` extra) and imported
only here, inside `plot`."""

from __future__ import annotations

import time
from pathlib import Path

from netra_stack.metrics.advise import MiB, format_cpus, format_size
from netra_stack.metrics.records import RunRecord
from netra_stack.model.decisions import Recommendation
from netra_stack.model.errors import NetraError, UsageError

FORMATS = {".png": "png", ".svg": "svg"}


def plot_format(path: Path) -> str:
    """The image format a path's suffix names; UsageError for any other suffix."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--plot {path}: unknown suffix {path.suffix or '(none)'!r}; expected .png or .svg",
                         hint="name the file e.g. advise.png or advise.svg")
    return FORMATS[suffix]


def plot(runs: list[RunRecord], recommendations: list[Recommendation], path: Path) -> Path:
    """One figure, a row per service: memory (MiB) and CPU (cores) of each run, overlaid by
    the time since its start, and the current and recommended limits as labelled lines."""
    image_format = plot_format(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("advise --plot needs matplotlib", hint="pip install 'netra-stack[plot]'") from None

    rows = max(1, len(recommendations))
    figure = Figure(figsize=(12, 2.8 * rows), layout="constrained")
    FigureCanvasAgg(figure)  # no pyplot: no global state, no display needed
    axes = figure.subplots(rows, 2, squeeze=False)
    colours = _run_colours(len(runs))
    for row, r in enumerate(recommendations):
        memory_axis, cpu_axis = axes[row]
        for number, run in enumerate(runs):
            series = run.services.get(r.service)
            if series is None or not series.points:
                continue
            minutes = [p[0] / 60 for p in series.points]
            # The runs are named once, in the first panel; the limits in every panel.
            label = time.strftime("run %m-%d %H:%M", time.localtime(run.started)) if row == 0 else None
            memory_axis.plot(minutes, [p[2] / MiB for p in series.points], color=colours[number], linewidth=1,
                             label=label)
            cpu_axis.plot(minutes, [p[1] / 100 for p in series.points], color=colours[number], linewidth=1)
        kept = bool(r.vetoed)
        _limit(memory_axis, r.current_memory_bytes, "current", "tab:red", "--", format_size, MiB)
        _limit(memory_axis, None if kept else r.memory_bytes, "recommended", "tab:green", "-", format_size, MiB)
        _limit(cpu_axis, r.current_cpus, "current", "tab:red", "--", format_cpus, 1)
        _limit(cpu_axis, None if kept else r.cpus, "recommended", "tab:green", "-", format_cpus, 1)
        vetoed = f" (kept: {r.vetoed})" if kept else ""
        memory_axis.set_title(f"{r.service}: memory, peak {format_size(r.peak_memory_bytes)}{vetoed}",
                              loc="left", fontsize=10)
        cpu_axis.set_title(f"{r.service}: CPU, sustained {format_cpus(r.sustained_cpus)} cores", loc="left",
                           fontsize=10)
        memory_axis.set_ylabel("MiB")
        cpu_axis.set_ylabel("cores")
        for axis in (memory_axis, cpu_axis):
            axis.set_ylim(bottom=0)
            axis.grid(True, alpha=0.3)
            if axis.get_legend_handles_labels()[0]:
                axis.legend(fontsize=7, loc="upper left", ncols=2)
    if not recommendations:
        axes[0][0].set_title("no services recorded")
    for axis in axes[-1]:
        axis.set_xlabel("minutes since the start of each run")
    try:
        figure.savefig(path, format=image_format, dpi=100)
    except OSError as exc:
        raise NetraError(f"--plot {path}: cannot write it: {exc.strerror or exc}",
                         hint="check that its directory exists and is writable") from None
    return path


def _run_colours(count: int) -> list:
    """Older runs paler, the newest darkest."""
    from matplotlib import colormaps

    blues = colormaps["Blues"]
    return [blues(0.35 + 0.65 * (n + 1) / count) for n in range(count)]


def _limit(axis, value, what: str, colour: str, style: str, spell, unit: float) -> None:
    """A limit as a horizontal line, labelled with its value (nothing for no limit)."""
    if value:
        axis.axhline(value / unit, color=colour, linestyle=style, linewidth=1.2, label=f"{what} {spell(value)}")
