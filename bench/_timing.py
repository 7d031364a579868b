"""Shared by the benchmarks: alternate commands, time each run, report medians and ratios."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable


def timed(command: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def alternate(runs: int, contenders: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Run each contender once per round, in turn, so drift on a noisy machine hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, run in contenders.items():
            samples[name].append(run())
    return samples


def report(samples: dict[str, list[float]], baseline: str, unit: str = "s") -> str:
    base = statistics.median(samples[baseline])
    lines = [f"| command | median ({unit}) | min | max | ratio to `{baseline}` |", "|---|---|---|---|---|"]
    for name, values in samples.items():
        median = statistics.median(values)
        lines.append(f"| `{name}` | {median:.3f} | {min(values):.3f} | {max(values):.3f} | {median / base:.2f}x |")
    return "\n".join(lines)
