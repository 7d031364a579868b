"""`advise`: memory and CPU limits for each service from what its recorded runs used, and how
many environments of the profile fit on the machine before and after. Pure: records and a
profile in, Recommendations out (the netra_adjust_recommendation hook may change each one).

Memory: the highest peak of every run with 25% headroom (at least 32 MiB more), rounded up to
a step of LADDER; after an OOM kill the peak is only a floor, so at least 1.5x the limit it had.
CPU: the 95th percentile of the samples, in cores, times 1.5, rounded up to a quarter core (at
least a quarter); after throttling, at least 1.5x the limit it had."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from netra_stack.metrics.records import RunRecord, ServiceSeries
from netra_stack.model.decisions import Recommendation
from netra_stack.model.errors import PluginError

if TYPE_CHECKING:
    from netra_stack.model.profiles import Profile
    from netra_stack.plugins.registry import Plugins

KiB, MiB, GiB = 1024, 1024**2, 1024**3
# The sizes a recommendation is rounded up to; above the last, whole and half gigabytes.
LADDER = tuple(mib * MiB for mib in (64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 640, 768, 896,
                                     1024, 1280, 1536, 1792, 2048))
MEMORY_HEADROOM = 1.25
MIN_MEMORY_HEADROOM = 32 * MiB
CPU_HEADROOM = 1.5
CPU_STEP = 0.25  # cores
AFTER_LIMIT_HIT = 1.5  # an OOM kill or throttling: at least this times the limit that was hit
SUSTAINED_PERCENTILE = 95
OVERSIZED = 4.0  # a limit this many times what was used is flagged...
OVERSIZED_MEMORY_SLACK = 64 * MiB  # ...when it also leaves at least this much unused
OVERSIZED_CPU_SLACK = 0.5  # cores


def ladder_size(needed: int) -> int:
    """The smallest step of LADDER that holds `needed` bytes; above it, half gigabytes."""
    for step in LADDER:
        if step >= needed:
            return step
    return math.ceil(needed / (GiB // 2)) * (GiB // 2)


def format_size(size: int) -> str:
    """Bytes as a profile spells them: '384m', '1.25g', '512k' (what parse_size reads back)."""
    for unit, factor, decimals in (("g", GiB, 2), ("m", MiB, 1), ("k", KiB, 1)):
        if size >= factor:
            return _decimal(size / factor, decimals) + unit
    return str(size)


def format_cpus(cores: float) -> str:
    """Cores as '0.5', '1', '1.25'."""
    return _decimal(cores, 2)


def _decimal(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def _times(ratio: float) -> str:
    return f"{_decimal(ratio, 1)}x" if ratio < 10 else f"{ratio:.0f}x"


def percentile(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def _round_up(value: float, step: float) -> float:
    return math.ceil(round(value / step, 6)) * step  # round: 0.75/0.25 must not become 3.0000000004


def recommend(runs: list[RunRecord], profile: Profile, *, plugins: Plugins | None = None) -> list[Recommendation]:
    """One Recommendation per service recorded in `runs` (by name), each passed through the
    netra_adjust_recommendation hook when `plugins` are given."""
    names = sorted({name for run in runs for name in run.services})
    found = [_recommend_one(name, [run.services[name] for run in runs if name in run.services], profile)
             for name in names]
    return [_adjusted(r, runs, profile, plugins) for r in found] if plugins else found


def _recommend_one(service: str, series: list[ServiceSeries], profile: Profile) -> Recommendation:
    settings = profile.services.get(service)
    current_memory = settings.memory if settings else None
    current_cpus = settings.cpus if settings else None
    total = len(series)
    flags = []

    peak = max(s.peak_memory_bytes for s in series)
    memory = None
    if peak:  # nothing measured: nothing to say
        needed = max(peak * MEMORY_HEADROOM, peak + MIN_MEMORY_HEADROOM)
        killed = [s for s in series if s.oom_kills > 0]
        if killed:  # the peak is where the kernel stopped it, not what it needs
            needed = max(needed, AFTER_LIMIT_HIT * max(s.memory_limit_bytes or s.peak_memory_bytes for s in killed))
            flags.append(f"OOM-killed in {len(killed)} of {total} runs")
        memory = ladder_size(math.ceil(needed))
        if current_memory and current_memory > OVERSIZED * peak and current_memory - peak > OVERSIZED_MEMORY_SLACK:
            flags.append(f"memory limit {_times(current_memory / peak)} its peak")

    samples = [cpu / 100 for s in series for cpu in s.cpu_values()]
    sustained = percentile(samples, SUSTAINED_PERCENTILE)
    cpus = None
    if samples:
        needed_cpus = sustained * CPU_HEADROOM
        throttled = [s for s in series if s.throttled_periods > 0 and s.cpu_limit > 0]
        if throttled:  # held back by its limit: what it used is less than it wanted
            needed_cpus = max(needed_cpus, AFTER_LIMIT_HIT * max(s.cpu_limit for s in throttled))
            flags.append(f"throttled in {len(throttled)} of {total} runs")
        cpus = max(CPU_STEP, _round_up(needed_cpus, CPU_STEP))
        if current_cpus and current_cpus > OVERSIZED * sustained and current_cpus - sustained > OVERSIZED_CPU_SLACK:
            flags.append(f"CPU limit {_times(current_cpus / max(sustained, 0.01))} what it uses")

    return Recommendation(service=service, memory_bytes=memory, cpus=cpus, current_memory_bytes=current_memory,
                          current_cpus=current_cpus, peak_memory_bytes=peak, sustained_cpus=round(sustained, 3),
                          runs=total, flags=tuple(flags))


def _adjusted(recommendation: Recommendation, runs: list[RunRecord], profile: Profile, plugins: Plugins) -> Recommendation:
    adjusted = plugins.adjust_recommendation(recommendation, runs, profile)
    if adjusted.service != recommendation.service:
        plugin = plugins.deciders.get("netra_adjust_recommendation", "?")
        raise PluginError(f"plugin {plugin!r}: netra_adjust_recommendation returned a recommendation for "
                          f"{adjusted.service!r} when asked about {recommendation.service!r}",
                          hint="return a changed copy: dataclasses.replace(recommendation, ...)")
    return adjusted


def machine_memory_bytes(runs: list[RunRecord]) -> int:
    """The machine's memory as the newest run recorded it (0: unknown)."""
    try:
        return int(runs[-1].machine.get("memory_bytes") or 0) if runs else 0
    except (TypeError, ValueError):
        return 0


def fits(runs: list[RunRecord], recommendations: list[Recommendation], profile: Profile) -> tuple[int, int]:
    """How many environments of the profile fit in the machine's memory, with the current limits
    (a service without one counts its peak) and with the recommended ones (a vetoed one keeps
    its current limit)."""
    memory = machine_memory_bytes(runs)
    before = after = 0
    for r in recommendations:
        settings = profile.services.get(r.service)
        current = (settings.memory if settings else None) or r.peak_memory_bytes
        before += current
        after += current if r.vetoed or r.memory_bytes is None else r.memory_bytes
    return (memory // before if before else 0), (memory // after if after else 0)


def limits_table(recommendations: list[Recommendation]) -> dict[str, Any]:
    """The recommendations as a profile's table: {"services": {NAME: {"memory": "384m", "cpus": 0.5}}};
    vetoed ones left out."""
    services: dict[str, dict[str, Any]] = {}
    for r in recommendations:
        if r.vetoed:
            continue
        limits: dict[str, Any] = {}
        if r.memory_bytes is not None:
            limits["memory"] = format_size(r.memory_bytes)
        if r.cpus is not None:
            limits["cpus"] = float(r.cpus)
        if limits:
            services[r.service] = limits
    return {"services": services} if services else {}


def as_toml(recommendations: list[Recommendation]) -> str:
    """The recommendations as TOML to paste into a profile ([services.NAME] memory, cpus)."""
    import tomli_w

    return tomli_w.dumps(limits_table(recommendations))


def as_dict(recommendation: Recommendation) -> dict[str, Any]:
    """A recommendation for --json: its fields, and the sizes as a profile spells them."""
    r = recommendation
    spelled = {key: None if value is None else format_size(value)
               for key, value in (("memory", r.memory_bytes), ("current_memory", r.current_memory_bytes),
                                  ("peak_memory", r.peak_memory_bytes))}
    return {"service": r.service, "memory_bytes": r.memory_bytes, "memory": spelled["memory"], "cpus": r.cpus,
            "current_memory_bytes": r.current_memory_bytes, "current_memory": spelled["current_memory"],
            "current_cpus": r.current_cpus, "peak_memory_bytes": r.peak_memory_bytes,
            "peak_memory": spelled["peak_memory"], "sustained_cpus": r.sustained_cpus, "runs": r.runs,
            "flags": list(r.flags), "vetoed": r.vetoed}
