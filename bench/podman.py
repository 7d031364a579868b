"""The example's profile to healthy on Podman against Docker Engine: `netra-stack up --profile P
--no-build` (same files, same images) on the machine's Docker engine and on Podman's
Docker-compatible API (the test bed's `podman system service`, tests/testbed/podman.py),
alternating runs, medians and ratio. The issue's bound is 1.5x. Images are built once on each
engine before timing (an untimed `up`).

Also tried once, bounded: `docker compose up -d --wait` on Podman, which waits for Docker
healthchecks that Podman, without systemd, never runs.

    .venv/bin/python bench/podman.py [--profile alpine-test] [--runs 5] [--compose-timeout 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _timing import CLI, alternate, netra_up, report  # noqa: E402
from tests.helpers import EXAMPLE_IMAGES  # noqa: E402
from tests.testbed import podman as testbed  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="alpine-test")
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--compose-timeout", type=float, default=60.0)
args = parser.parse_args()

docker_env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
docker_env["NETRA_STACK_PROFILE_PATH"] = str(REPO / "profiles")
service = testbed.start(*EXAMPLE_IMAGES)
try:
    podman_env = {**docker_env, "DOCKER_HOST": service.host}
    for env in (docker_env, podman_env):  # the images, built once on each engine
        netra_up(args.profile, [], env)
    samples = alternate(args.runs, {
        "Docker Engine: netra-stack up --no-build": lambda: netra_up(args.profile, ["--no-build"], docker_env),
        "Podman: netra-stack up --no-build": lambda: netra_up(args.profile, ["--no-build"], podman_env),
    })

    # The same files as netra-stack resolves them, with compose's own wait, on Podman.
    resolved = service.folder / "resolved.yml"
    resolved.write_text(subprocess.run([*CLI, "config", "--profile", args.profile, "--reveal-secrets"], check=True,
                                       capture_output=True, text=True, env=podman_env).stdout)
    compose = ["docker", "compose", "-p", "bench-podman-wait", "-f", str(resolved)]
    started = time.perf_counter()
    try:
        waited = subprocess.run([*compose, "up", "-d", "--wait"], env=podman_env, capture_output=True, text=True,
                                timeout=args.compose_timeout)
        compose_result = (f"exit {waited.returncode} after {time.perf_counter() - started:.1f} s: "
                          f"{(waited.stderr.strip().splitlines() or ['no output'])[-1]}")
    except subprocess.TimeoutExpired:
        compose_result = f"still waiting after {args.compose_timeout:.0f} s (stopped)"
    finally:
        subprocess.run([*compose, "down", "-v", "-t", "1"], env=podman_env, capture_output=True, timeout=300)
finally:
    service.stop()

print(f"profile {args.profile}, {args.runs} alternating runs each, {sys.executable}\n")
print(report(samples, "Docker Engine: netra-stack up --no-build"))
print(f"\n`docker compose up -d --wait` on Podman: {compose_result}")
