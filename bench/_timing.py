"""Shared by the benchmarks: alternate commands, time each run, report medians and ratios."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

CLI = [sys.executable, "-m", "netra_stack"]


def timed(command: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def seconds(action: Callable[[], object]) -> float:
    """How long a call takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def netra_up(profile: str, flags: list[str], env: Mapping[str, str]) -> float:
    """Time `netra-stack up --profile P FLAGS` in a fresh process; then (untimed) take it down."""
    started = time.perf_counter()
    result = subprocess.run([*CLI, "up", "--profile", profile, *flags, "--json"], env=env, capture_output=True,
                            text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"netra-stack up failed: {result.stderr}")
    name = json.loads(result.stdout)["environment"]
    subprocess.run([*CLI, "down", "--profile", profile, "--name", name], env=env, check=True, capture_output=True)
    return elapsed


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
