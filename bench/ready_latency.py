"""How soon after a service really becomes ready does netra-stack report it ready, and what does
waiting cost? The fixture service `ready` (tests/fixtures/health) writes the instant it becomes
ready (as /proc/uptime, 10 ms resolution) into /ready; Docker's own healthcheck would first probe it 30 s after start.

    .venv/bin/python bench/ready_latency.py [--runs 10] [--ready-after 3]
    .venv/bin/python bench/ready_latency.py --cpu --ready-after 60      # CPU time while waiting
    .venv/bin/python bench/ready_latency.py --once                      # one lag, in seconds
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=10)
parser.add_argument("--ready-after", type=float, default=3.0)
parser.add_argument("--cpu", action="store_true", help="one run, reporting the CPU time spent waiting")
parser.add_argument("--once", action="store_true", help="one run; print only the seconds from ready to reported")
args = parser.parse_args()

os.environ.setdefault("NETRA_STACK_PROFILE_PATH", str(Path(__file__).resolve().parents[1] / "tests/fixtures/health/profiles"))
os.environ["READY_AFTER"] = str(args.ready_after)

from netra_stack import StackManager  # noqa: E402  (after the environment is set


def uptime() -> float:
    """The kernel's clock since boot, which host and containers share (busybox `date` has no %N)."""
    return float(Path("/proc/uptime").read_text().split()[0])


def once() -> tuple[float, float, float]:
    """(seconds from ready to reported, CPU seconds of this process while waiting, seconds waited).
    Only the public API and the docker CLI, so that it measures older code as well (ab_checkouts.py)."""
    manager = StackManager("health-ready")
    name, _ = manager.acquire_environment(wait=False)
    try:
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        waited_from = time.monotonic()
        manager.wait_for_services()
        reported = uptime()
        waited = time.monotonic() - waited_from
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        container = subprocess.run(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={name}"],
                                   capture_output=True, text=True, check=True).stdout.split()[0]
        ready_at = subprocess.run(["docker", "exec", container, "cat", "/ready"], capture_output=True, text=True,
                                  check=True).stdout
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        return reported - float(ready_at), cpu, waited
    finally:
        manager.release_environment(name)


if args.once:
    print(f"{once()[0]:.3f}")
elif args.cpu:
    lag, cpu, waited = once()
    print(f"waited {waited:.1f} s for a service ready after {args.ready_after:g} s: netra-stack used "
          f"{cpu:.2f} s of CPU ({100 * cpu / waited:.1f}% of one core); reported {lag * 1000:.0f} ms after ready")
else:
    lags = [once()[0] for _ in range(args.runs)]
    print(f"{args.runs} runs, service ready {args.ready_after:g} s after start: reported ready "
          f"median {statistics.median(lags) * 1000:.0f} ms after it was (min {min(lags) * 1000:.0f}, "
          f"max {max(lags) * 1000:.0f})")
