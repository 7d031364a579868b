"""`netra-stack status` with 1 environment up against 20 (one engine query either way).

    .venv/bin/python bench/status_scale.py [--many 20] [--runs 10]

Uses the mini fixture stack (tests/fixtures/mini): two tiny services per environment.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from _timing import timed

parser = argparse.ArgumentParser()
parser.add_argument("--many", type=int, default=20)
parser.add_argument("--runs", type=int, default=10)
args = parser.parse_args()
os.environ["NETRA_STACK_PROFILE_PATH"] = str(Path(__file__).resolve().parents[1] / "tests/fixtures/mini/profiles")

from netra_stack import StackManager  # noqa: E402

cli = [sys.executable, "-m", "netra_stack", "status", "--json"]
names = []
try:
    names.append(StackManager("mini").acquire_environment(wait=False)[0])
    one = [timed(cli) for _ in range(args.runs)]
    while len(names) < args.many:
        names.append(StackManager("mini").acquire_environment(wait=False)[0])
    many = [timed(cli) for _ in range(args.runs)]
finally:
    for name in names:
        StackManager("mini").release_environment(name)
print(f"status, median of {args.runs}: {statistics.median(one):.3f}s with 1 environment, "
      f"{statistics.median(many):.3f}s with {args.many} ({statistics.median(many) / statistics.median(one):.2f}x)")
