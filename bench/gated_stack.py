"""Time to healthy on a stack whose dependents wait for `condition: service_healthy`, with a 10 s
healthcheck interval on each (tests/fixtures/corpus/gated: database -> backend -> proxy, each
ready within a second of starting): `netra-stack up --profile gated` against
`docker compose up -d --wait` on the same compose file, alternating runs, medians and the ratio
(issue 14's target: at most 0.5x).

    NETRA_STACK_PROFILE_PATH=tests/fixtures/corpus/gated/profiles .venv/bin/python bench/gated_stack.py [--runs 5]

Every run has a project name of its own (netra-stack's through COMPOSE_PROJECT_NAME) and is taken
down after it, untimed, even on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from _timing import CLI, alternate, report

COMPOSE_FILE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus" / "gated" / "compose.yaml"
BASELINE = "docker compose up -d --wait"

parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="gated")
parser.add_argument("--runs", type=int, default=5)
args = parser.parse_args()
env = {k: v for k, v in os.environ.items() if k not in ("COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES")}


def timed_then_removed(command: list[str], down: list[str], run_env: dict[str, str]) -> float:
    """Seconds until `command` ends; then `down`, untimed. The command runs in a session of its
    own, so a Ctrl-C reaches it only through here: it is interrupted as a terminal would do it
    (SIGINT) and waited for, so that its own cleanup is not cut short (subprocess.run would kill
    it); `down` runs in any case, and further Ctrl-Cs are ignored until it is done."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        _, errors = child.communicate()
        elapsed = time.perf_counter() - started
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
                child.wait()
            subprocess.run(down, env=run_env, capture_output=True, start_new_session=True)
        finally:
            signal.signal(signal.SIGINT, previous)
    if child.returncode != 0:
        sys.exit(f"{' '.join(command[-4:])} exited {child.returncode}: {errors.strip()[-2000:]}")
    return elapsed


def netra_up() -> float:
    name = f"netra-bench-gated-{uuid.uuid4().hex[:6]}"
    return timed_then_removed([*CLI, "up", "--profile", args.profile],
                              [*CLI, "down", "--profile", args.profile, "--name", name],
                              {**env, "COMPOSE_PROJECT_NAME": name})


def compose_up() -> float:
    base = ["docker", "compose", "-p", f"netra-bench-compose-{uuid.uuid4().hex[:6]}", "-f", str(COMPOSE_FILE)]
    return timed_then_removed([*base, "up", "-d", "--wait"], [*base, "down", "-v", "-t", "1"], env)


try:
    samples = alternate(args.runs, {f"netra-stack up --profile {args.profile}": netra_up, BASELINE: compose_up})
except KeyboardInterrupt:
    sys.exit("interrupted: the run in progress was taken down")
print(f"{COMPOSE_FILE.parent.name} stack (service_healthy gates, 10 s healthcheck intervals), "
      f"{args.runs} alternating runs each, time to healthy (target: at most 0.5x)\n")
print(report(samples, BASELINE))
