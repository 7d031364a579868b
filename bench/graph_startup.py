"""`netra-stack graph --format text` of the example against `netra-stack status`, alternating
runs, medians: drawing the files' graph starts as fast as listing the environments.

    .venv/bin/python bench/graph_startup.py [--runs 20] [--profile test]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from _timing import CLI, alternate, report, timed

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=20)
parser.add_argument("--profile", default="test")
args = parser.parse_args()
repo = Path(__file__).resolve().parents[1]
env = {**os.environ, "NETRA_STACK_PROFILE_PATH": str(repo / "profiles")}
samples = alternate(args.runs, {
    "netra-stack status": lambda: timed([*CLI, "status"], env=env),
    f"netra-stack graph --profile {args.profile}": lambda: timed([*CLI, "graph", "--profile", args.profile], env=env),
})
print(f"{args.runs} alternating runs each, {sys.executable}\n")
print(report(samples, "netra-stack status"))
