"""The same netra-stack command from two checkouts (say the code before and after a change),
alternating run by run, medians and the ratio of new to old. For the no-regression checks of a
restructuring: CLI start-up, `up` of a profile (taken down again, untimed), with or without the
build-cache decisions, and how soon a ready service is reported ready (bench/ready_latency.py).

    .venv/bin/python bench/ab_checkouts.py --old /tmp/old --runs 20 -- --help
    NETRA_STACK_PROFILE_PATH=profiles .venv/bin/python bench/ab_checkouts.py --old /tmp/old --up alpine-test --runs 7
    NETRA_STACK_PROFILE_PATH=profiles .venv/bin/python bench/ab_checkouts.py --old /tmp/old --up alpine-test --build
    NETRA_STACK_PROFILE_PATH=tests/fixtures/health/profiles .venv/bin/python bench/ab_checkouts.py --old /tmp/old --ready

Run it from outside both checkouts: `python -m` puts the working directory first on the path.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from _timing import alternate, netra_up, report, timed

parser = argparse.ArgumentParser()
parser.add_argument("--old", required=True, help="the other checkout (e.g. a `git worktree` of the old commit)")
parser.add_argument("--new", default=str(Path(__file__).resolve().parents[1]))
parser.add_argument("--runs", type=int, default=20)
parser.add_argument("--up", metavar="PROFILE", help="time `up --profile PROFILE --no-build` instead of a command")
parser.add_argument("--build", action="store_true", help="with --up: let the build-cache policy decide (no --no-build)")
parser.add_argument("--ready", action="store_true",
                    help="instead: seconds from a service's readiness to its report (ready_latency.py --once)")
parser.add_argument("command", nargs="*", help="arguments of `netra-stack` (after --)")
args = parser.parse_args()


def env_of(checkout: str) -> dict[str, str]:
    """The checkout's code, and its own profiles (and their plugins) where the profile path is relative."""
    env = {**os.environ, "PYTHONPATH": str(Path(checkout).resolve())}
    profiles = os.environ.get("NETRA_STACK_PROFILE_PATH")
    if profiles and not Path(profiles).is_absolute():
        env["NETRA_STACK_PROFILE_PATH"] = str(Path(checkout).resolve() / profiles)
    return env


def ready_lag(env: dict[str, str]) -> float:
    script = Path(__file__).with_name("ready_latency.py")
    return float(subprocess.run([sys.executable, str(script), "--once"], env=env, check=True, capture_output=True,
                                text=True).stdout.split()[-1])


def contender(checkout: str):
    env = env_of(checkout)
    if args.ready:
        return lambda: ready_lag(env)
    if args.up:
        return lambda: netra_up(args.up, [] if args.build else ["--no-build"], env)
    return lambda: timed([sys.executable, "-m", "netra_stack", *args.command], env=env)


samples = alternate(args.runs, {"old": contender(args.old), "new": contender(args.new)})
what = ("ready_latency.py --once: from ready to reported" if args.ready else
        f"up --profile {args.up}{'' if args.build else ' --no-build'}" if args.up else f"netra-stack {' '.join(args.command)}")
print(f"`{what}`, {args.runs} alternating runs each (old: {args.old}, new: {args.new})\n")
print(report(samples, "old"))
