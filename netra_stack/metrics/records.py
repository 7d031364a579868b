"""Run records: what an environment used over its life, one small JSON file per run under the
state directory (runs/PROFILE/STARTED-ENVIRONMENT.json), pruned by age. `advise` reads them.

A record keeps, per service, its limits, its peaks, OOM kills, restarts and CPU throttling, and a
series of (seconds since the start, CPU % of a core, memory bytes). A series never grows past
MAX_POINTS: when it would, neighbouring points merge (the mean CPU, the highest memory) and the
step between points doubles, so a day-long run stays as small as a minute-long one."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netra_stack.model.state import state_dir
from netra_stack.model.usage import Usage, by_service

FORMAT = "netra-stack.run/1"
MAX_POINTS = 720
MAX_AGE_DAYS = 30.0  # records older than this are removed when a new run starts
MAX_AGE_VAR = "NETRA_STACK_RUNS_MAX_AGE_DAYS"


class RecordError(ValueError):
    """A file that is not a run record of this format (corrupt, or another program's)."""


@dataclass
class ServiceSeries:
    """One service over one run."""

    memory_limit_bytes: int = 0
    cpu_limit: float = 0.0
    peak_memory_bytes: int = 0
    peak_cpu_percent: float = 0.0
    oom_kills: int = 0
    restarts: int = 0
    throttled_periods: int = 0
    throttled_seconds: float = 0.0
    step: float = 1.0  # seconds between points
    points: list[tuple[float, float, int]] = field(default_factory=list)  # (offset s, cpu %, memory bytes)
    extra_peaks: dict[str, float] = field(default_factory=dict)  # the highest of each plugin metric

    def add(self, offset: float, sample: Usage) -> None:
        self.memory_limit_bytes = sample.memory_limit_bytes or self.memory_limit_bytes
        self.cpu_limit = sample.cpu_limit or self.cpu_limit
        self.peak_memory_bytes = max(self.peak_memory_bytes, sample.memory_peak_bytes, sample.memory_bytes)
        self.peak_cpu_percent = max(self.peak_cpu_percent, sample.cpu_percent)
        # Counters only grow; a restarted container's own counters start again from 0.
        self.oom_kills = max(self.oom_kills, sample.oom_kills)
        self.restarts = max(self.restarts, sample.restarts)
        self.throttled_periods = max(self.throttled_periods, sample.throttled_periods)
        self.throttled_seconds = max(self.throttled_seconds, sample.throttled_seconds)
        for key, value in sample.extra.items():
            self.extra_peaks[key] = max(self.extra_peaks.get(key, value), value)
        if self.points and offset - self.points[-1][0] < self.step:
            return  # thinned: one point per step
        self.points.append((round(offset, 2), round(sample.cpu_percent, 2), sample.memory_bytes))
        if len(self.points) > MAX_POINTS:
            self.points = [_merge(self.points[i:i + 2]) for i in range(0, len(self.points), 2)]
            self.step *= 2

    def cpu_values(self) -> list[float]:
        return [p[1] for p in self.points]

    def memory_values(self) -> list[int]:
        return [p[2] for p in self.points]


def _merge(pair: Sequence[tuple[float, float, int]]) -> tuple[float, float, int]:
    return pair[0][0], round(sum(p[1] for p in pair) / len(pair), 2), max(p[2] for p in pair)


@dataclass
class RunRecord:
    profile: str
    environment: str
    backend: str
    started: float
    ended: float
    interval: float = 1.0  # seconds between samples
    machine: dict[str, Any] = field(default_factory=dict)  # cpus, memory_bytes: what fits is judged against it
    services: dict[str, ServiceSeries] = field(default_factory=dict)
    path: Path | None = None

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended - self.started)

    def add(self, samples: Sequence[Usage]) -> None:
        """One round of samples: each service's instances summed into one point."""
        if not samples:
            return
        now = max(s.time for s in samples)
        self.ended = max(self.ended, now)
        for row in by_service(samples):
            self.services.setdefault(row.service, ServiceSeries()).add(now - self.started, row)

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "profile": self.profile, "environment": self.environment, "backend": self.backend,
                "started": self.started, "ended": self.ended, "interval": self.interval, "machine": self.machine,
                "services": {name: {**vars(series), "points": [list(p) for p in series.points]}
                             for name, series in self.services.items()}}

    def save(self, path: Path | None = None) -> Path:
        """Written whole to a new file and renamed over the old one, so a reader never sees half."""
        self.path = path or self.path or record_path(self.profile, self.environment, self.started)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        partial.write_text(json.dumps(self.as_dict(), separators=(",", ":")))
        os.replace(partial, self.path)
        return self.path


def runs_dir(environ: Mapping[str, str] | None = None) -> Path:
    return state_dir(environ) / "runs"


def record_path(profile: str, environment: str, started: float, environ: Mapping[str, str] | None = None) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(started))
    return runs_dir(environ) / profile / f"{stamp}-{environment}.json"


def load(path: Path) -> RunRecord:
    """A record from its file; RecordError (naming what is wrong) for anything else."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise RecordError(f"not a run record of netra-stack (format {found!r}, expected {FORMAT!r})")
    try:
        services = {name: ServiceSeries(**{**series, "points": [tuple(p) for p in series["points"]]})
                    for name, series in data["services"].items()}
        return RunRecord(profile=str(data["profile"]), environment=str(data["environment"]),
                         backend=str(data["backend"]), started=float(data["started"]), ended=float(data["ended"]),
                         interval=float(data.get("interval", 1.0)), machine=dict(data.get("machine") or {}),
                         services=services, path=path)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecordError(f"a run record with a missing or malformed field ({exc})") from None


def list_runs(profile: str | None = None, environ: Mapping[str, str] | None = None
              ) -> tuple[list[RunRecord], list[tuple[Path, str]]]:
    """The records (of one profile), oldest first, and the files skipped with the reason."""
    base = runs_dir(environ)
    folders = [base / profile] if profile else sorted(p for p in base.glob("*") if p.is_dir())
    found, skipped = [], []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            try:
                found.append(load(path))
            except RecordError as exc:
                skipped.append((path, str(exc)))
    return sorted(found, key=lambda r: r.started), skipped


def prune(environ: Mapping[str, str] | None = None, *, now: float | None = None) -> list[Path]:
    """Remove records older than $NETRA_STACK_RUNS_MAX_AGE_DAYS (default 30) days; the removed."""
    environ = os.environ if environ is None else environ
    try:
        days = float(environ.get(MAX_AGE_VAR) or MAX_AGE_DAYS)
    except ValueError:
        days = MAX_AGE_DAYS
    cutoff = (time.time() if now is None else now) - days * 86400
    removed = []
    for path in runs_dir(environ).glob("*/*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed
