"""Cold start of `netra-stack --help` / `--version` against `python -c pass`, alternating runs.

    .venv/bin/python bench/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import sys

from _timing import alternate, report, timed

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=20)
args = parser.parse_args()
cli = shutil.which("netra-stack") or str((__import__("pathlib").Path(sys.executable).parent / "netra-stack"))
samples = alternate(args.runs, {
    "python -c pass": lambda: timed([sys.executable, "-c", "pass"]),
    "netra-stack --help": lambda: timed([cli, "--help"]),
    "netra-stack --version": lambda: timed([cli, "--version"]),
})
print(f"{args.runs} alternating runs each\n")
print(report(samples, "python -c pass"))
