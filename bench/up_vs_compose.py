"""Time to healthy: `netra-stack up --profile P` against `docker compose up -d --wait` on the same
resolved configuration (what `netra-stack config` prints), alternating runs, medians and ratio.

    .venv/bin/python bench/up_vs_compose.py --profile alpine-test [--runs 5]

Images are built once before timing (by an untimed `netra-stack up`, so that they carry its
fingerprints), and neither side builds while timed (netra-stack with
--no-build; `--build-step` times netra-stack with its build step instead: under the default
content-hash policy, fingerprinting the five builds and finding them current).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

from _timing import CLI, alternate, report, timed
from _timing import netra_up as run_netra_up

parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="alpine-test")
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--build-step", action="store_true", help="let netra-stack run its build step (the profile's policy)")
args = parser.parse_args()

env = {**os.environ}
workdir = Path(tempfile.mkdtemp(prefix="netra-bench-"))
resolved = workdir / "resolved.yml"
resolved.write_text(subprocess.run([*CLI, "config", "--profile", args.profile, "--reveal-secrets"], check=True,
                                   capture_output=True, text=True, env=env).stdout)


def netra_up() -> float:
    return run_netra_up(args.profile, [] if args.build_step else ["--no-build"], env)


def compose_up() -> float:
    project = f"netra-bench-{uuid.uuid4().hex[:6]}"
    base = ["docker", "compose", "-p", project, "-f", str(resolved)]
    try:
        return timed([*base, "up", "-d", "--wait"], stderr=subprocess.DEVNULL)
    finally:
        subprocess.run([*base, "down", "-v", "-t", "5"], capture_output=True)


run_netra_up(args.profile, [], env)  # warm-up, untimed: builds what the build-cache policy says is missing

label = f"netra-stack up --profile {args.profile}{'' if args.build_step else ' --no-build'}"
samples = alternate(args.runs, {label: netra_up,
                                "docker compose up -d --wait": compose_up})
print(f"profile {args.profile}, {args.runs} alternating runs each, time to healthy\n")
print(report(samples, "docker compose up -d --wait"))
