"""`netra-stack doctor` (the example's test profile: engine, Compose, buildx, a container started
to try a memory limit, leftovers, 10001 ports counted, state directory, profile, plugins)
against `docker info` and `docker compose version` run one after the other, the raw commands
that say the least of the same: alternating runs, medians. The issue's bound is 3 s.

    .venv/bin/python bench/doctor.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _timing import CLI, alternate, report

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=10)
args = parser.parse_args()
env = {**os.environ, "NETRA_STACK_PROFILE_PATH": str(Path(__file__).resolve().parents[1] / "profiles")}


def run(*commands: list[str]) -> float:
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, stdout=subprocess.DEVNULL, env=env)  # doctor exits 1 when a check fails
    return time.perf_counter() - started


samples = alternate(args.runs, {
    "netra-stack doctor --profile test": lambda: run([*CLI, "doctor", "--profile", "test"]),
    "docker info; docker compose version": lambda: run(["docker", "info"], ["docker", "compose", "version"]),
})
print(f"{args.runs} alternating runs each, {sys.executable}\n")
print(report(samples, "docker info; docker compose version"))
