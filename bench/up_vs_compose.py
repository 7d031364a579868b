"""Time to healthy: `netra-stack up --profile P` against `docker compose up -d --wait` on the same
resolved configuration (what `netra-stack config` prints), alternating runs, medians and ratio.

    .venv/bin/python bench/up_vs_compose.py --profile alpine-test [--runs 5]

Images are built once before timing, and neither side builds while timed (netra-stack with
--no-build; `--build-step` times netra-stack with its build step instead: under the default
content-hash policy, fingerprinting the five builds and finding them current).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _timing import alternate, report, timed

parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="alpine-test")
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--build-step", action="store_true", help="let netra-stack run its build step (the profile's policy)")
args = parser.parse_args()

cli = [sys.executable, "-m", "netra_stack"]
env = {**os.environ}
workdir = Path(tempfile.mkdtemp(prefix="netra-bench-"))
resolved = workdir / "resolved.yml"
resolved.write_text(subprocess.run([*cli, "config", "--profile", args.profile, "--reveal-secrets"], check=True,
                                   capture_output=True, text=True, env=env).stdout)
# Build the images once, outside the timings.
subprocess.run(["docker", "compose", "-p", "netra-bench-build", "-f", str(resolved), "build", "-q"], check=True)


def netra_up() -> float:
    started = time.perf_counter()
    build = [] if args.build_step else ["--no-build"]
    result = subprocess.run([*cli, "up", "--profile", args.profile, *build, "--json"], env=env, capture_output=True,
                            text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"netra-stack up failed: {result.stderr}")
    name = json.loads(result.stdout)["environment"]
    subprocess.run([*cli, "down", "--profile", args.profile, "--name", name], env=env, check=True, capture_output=True)
    return elapsed


def compose_up() -> float:
    project = f"netra-bench-{uuid.uuid4().hex[:6]}"
    base = ["docker", "compose", "-p", project, "-f", str(resolved)]
    try:
        return timed([*base, "up", "-d", "--wait"], stderr=subprocess.DEVNULL)
    finally:
        subprocess.run([*base, "down", "-v", "-t", "5"], capture_output=True)


label = f"netra-stack up --profile {args.profile}{'' if args.build_step else ' --no-build'}"
samples = alternate(args.runs, {label: netra_up,
                                "docker compose up -d --wait": compose_up})
print(f"profile {args.profile}, {args.runs} alternating runs each, time to healthy\n")
print(report(samples, "docker compose up -d --wait"))
