"""Resource metrics, on the example stack (alpine-test: postgres, redis, backend, auth, frontend):

1. `netra-stack stats` (one shot) against `docker stats --no-stream` of the same containers,
   alternating runs, medians, ratio;
2. what recording costs: the recorder (`up --record`'s detached process) sampling the five
   services every second, its CPU time over a window, as a share of one core.

    .venv/bin/python bench/stats.py [--runs 10] [--window 60]

The environment is brought up once (building its images if need be), untimed, and removed at the
end. The recorder is ended by its own pid.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import CLI, alternate, report, timed

REPO = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="alpine-test")
parser.add_argument("--runs", type=int, default=10)
parser.add_argument("--window", type=float, default=60.0, help="seconds of recording measured")
args = parser.parse_args()

env = {**os.environ, "NETRA_STACK_PROFILE_PATH": str(REPO / "profiles"),
       "NETRA_STACK_STATE_DIR": tempfile.mkdtemp(prefix="netra-bench-stats-")}
env.pop("COMPOSE_PROJECT_NAME", None)
done = subprocess.run([*CLI, "up", "--profile", args.profile, "--json"], env=env, capture_output=True, text=True)
if done.returncode != 0:
    sys.exit(f"netra-stack up failed: {done.stderr[-2000:]}")
name = json.loads(done.stdout)["environment"]


def cpu_seconds(pid: int) -> float:
    """User and system time of a process so far (/proc/PID/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


try:
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=io.netra-stack.environment={name}"],
                         capture_output=True, text=True, check=True).stdout.split()
    print(f"environment {name}: {len(ids)} containers", file=sys.stderr)
    samples = alternate(args.runs, {
        "netra-stack stats": lambda: timed([*CLI, "stats", "--name", name], env=env),
        "docker stats --no-stream": lambda: timed(["docker", "stats", "--no-stream", *ids], env=env),
    })
    print(f"stats, one shot, {len(ids)} services, {args.runs} runs each, alternating:\n")
    print(report(samples, "docker stats --no-stream"))

    profile_file = str(REPO / "profiles" / f"{args.profile}.toml")
    recorder = subprocess.Popen([sys.executable, "-m", "netra_stack.metrics.recorder", name, profile_file, "compose"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)  # past its start-up (imports, the first streams)
        before, started = cpu_seconds(recorder.pid), time.monotonic()
        time.sleep(args.window)
        used, elapsed = cpu_seconds(recorder.pid) - before, time.monotonic() - started
    finally:
        recorder.terminate()
        recorder.wait(timeout=30)
    print(f"\nrecording {len(ids)} services every second: {used:.2f} s of CPU in {elapsed:.1f} s = "
          f"{100 * used / elapsed:.2f}% of one core (the recorder's process, after its start-up)")
    median = statistics.median(samples["netra-stack stats"])
    print(f"(netra-stack stats median {median:.3f} s)", file=sys.stderr)
finally:
    subprocess.run([*CLI, "down", "--profile", args.profile, "--name", name], env=env, capture_output=True)
