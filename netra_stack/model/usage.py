"""Resource use, as every backend samples it: one `Usage` per instance and moment, summed per
service and per environment for `stats`, the run records and `advise`. Plain records, like
instances.py: hooks and records see these, never an engine's own types."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Usage:
    """One instance's resource use at one moment (or, summed, a service's or an environment's)."""

    service: str
    instance: str
    time: float  # Unix time of the sample
    cpu_percent: float = 0.0  # of one core: 100 is one core kept busy
    memory_bytes: int = 0  # in use, without the page cache (as `docker stats` counts it)
    memory_peak_bytes: int = 0  # the most it used: the cgroup's own maximum where it keeps one
    memory_limit_bytes: int = 0  # 0: no limit of its own
    cpu_limit: float = 0.0  # cores; 0: no limit of its own
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    block_read_bytes: int = 0
    block_write_bytes: int = 0
    pids: int = 0
    restarts: int = 0
    oom_kills: int = 0  # kills by the kernel's OOM killer seen for this instance
    throttled_periods: int = 0  # CFS periods in which the CPU limit held it back
    throttled_seconds: float = 0.0
    status: str = "running"
    extra: dict[str, float] = field(default_factory=dict)  # from netra_collect_samples plugins

    @property
    def memory_percent(self) -> float | None:
        """Memory in use as a percentage of the limit; None without a limit."""
        return 100.0 * self.memory_bytes / self.memory_limit_bytes if self.memory_limit_bytes else None

    @property
    def cpu_of_limit(self) -> float | None:
        """CPU as a percentage of the limit; None without a limit."""
        return self.cpu_percent / self.cpu_limit if self.cpu_limit else None

    def with_extra(self, extra: dict[str, float]) -> Usage:
        return replace(self, extra={**self.extra, **extra}) if extra else self

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["cpu_percent"] = round(self.cpu_percent, 2)
        found["throttled_seconds"] = round(self.throttled_seconds, 3)
        found["memory_percent"] = None if self.memory_percent is None else round(self.memory_percent, 1)
        found["cpu_of_limit"] = None if self.cpu_of_limit is None else round(self.cpu_of_limit, 1)
        return found


_SUMMED = ("cpu_percent", "memory_bytes", "memory_peak_bytes", "memory_limit_bytes", "cpu_limit", "net_rx_bytes",
           "net_tx_bytes", "block_read_bytes", "block_write_bytes", "pids", "restarts", "oom_kills",
           "throttled_periods", "throttled_seconds")


def total(samples: Sequence[Usage], *, service: str, instance: str = "") -> Usage:
    """The sum of samples (a service's instances, or an environment's services). A limit sums only
    where every part has one: one unlimited part makes the whole unlimited."""
    values: dict[str, Any] = {key: sum(getattr(s, key) for s in samples) for key in _SUMMED}
    for limit in ("memory_limit_bytes", "cpu_limit"):
        if any(not getattr(s, limit) for s in samples):
            values[limit] = type(values[limit])(0)
    running = [s for s in samples if s.status == "running"]
    extra: dict[str, float] = {}
    for sample in samples:
        for key, value in sample.extra.items():
            extra[key] = extra.get(key, 0.0) + value
    return Usage(service=service, instance=instance, time=max((s.time for s in samples), default=0.0),
                 status="running" if running else (samples[0].status if samples else "absent"), extra=extra, **values)


def by_service(samples: Iterable[Usage]) -> list[Usage]:
    """One row per service (its instances summed), by name."""
    grouped: dict[str, list[Usage]] = {}
    for sample in samples:
        grouped.setdefault(sample.service, []).append(sample)
    return [parts[0] if len(parts) == 1 else total(parts, service=name, instance=f"{len(parts)} instances")
            for name, parts in sorted(grouped.items())]


def size(value: float) -> str:
    """Bytes as `docker stats` writes them: 512MiB, 1.25GiB, 96.3KiB."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= factor:
            return f"{value / factor:.4g}{unit}"
    return f"{value:.0f}B"


def sparkline(values: Sequence[float], ceiling: float) -> str:
    """Values as a line of block characters, full height at `ceiling` (a limit, else the peak)."""
    top = ceiling or max(values, default=0.0)
    if not values or top <= 0:
        return ""
    last = len(SPARKS) - 1
    return "".join(SPARKS[min(last, max(0, round(last * v / top)))] for v in values)
