"""N environments acquired at once by N separate `netra-stack up` processes: all healthy, no host
port used twice; wall time of a round against one environment alone (alternating).

    .venv/bin/python bench/parallel_envs.py --profile alpine-test --processes 8 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="alpine-test")
parser.add_argument("--processes", type=int, default=8)
parser.add_argument("--rounds", type=int, default=5)
args = parser.parse_args()
cli = [sys.executable, "-m", "netra_stack"]


def round_of(count: int) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    children = [subprocess.Popen([*cli, "up", "--profile", args.profile, "--no-build", "--json"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    outputs = [(child, *child.communicate()) for child in children]
    elapsed = time.perf_counter() - started
    ups = []
    for child, out, err in outputs:
        if child.returncode != 0:
            print(f"an up failed ({child.returncode}): {err.strip().splitlines()[-1]}", file=sys.stderr)
        else:
            ups.append(json.loads(out))
    for up in ups:
        subprocess.run([*cli, "down", "--profile", args.profile, "--name", up["environment"]], capture_output=True)
    return elapsed, ups


subprocess.run([*cli, "up", "--profile", args.profile, "--json"], capture_output=True, env=os.environ)  # build once
subprocess.run([*cli, "clean", "--all"], capture_output=True)
singles, rounds, collisions, healthy = [], [], 0, 0
for number in range(args.rounds):
    single, _ = round_of(1)
    singles.append(single)
    elapsed, ups = round_of(args.processes)
    rounds.append(elapsed)
    healthy += len(ups)
    ports = [p for up in ups for p in up["ports"].values()]
    collisions += len(ports) - len(set(ports))
    print(f"round {number + 1}: {len(ups)}/{args.processes} healthy in {elapsed:.1f}s, "
          f"{len(ports) - len(set(ports))} port collisions (one alone: {single:.1f}s)")
print(f"\n{args.processes} processes x {args.rounds} rounds, profile {args.profile}: {healthy}/"
      f"{args.processes * args.rounds} healthy, {collisions} port collisions; round median "
      f"{statistics.median(rounds):.1f}s against {statistics.median(singles):.1f}s for one environment alone "
      f"({statistics.median(rounds) / statistics.median(singles):.2f}x)")
