"""The example's PostgreSQL: how long a fresh container takes to accept connections when it
copies the cluster its image made at build time (the default) against running initdb itself
(what POSTGRES_INITDB_ARGS makes it do, as every container did before), alternating runs,
medians and ratio.

    .venv/bin/python bench/postgres_start.py [--image netra-example/postgres:latest] [--runs 7]

Each run is `docker run` with PGDATA on a tmpfs (as the test profiles have it) until
`pg_isready` inside the container succeeds, polled every 50 ms. The containers carry the label
netra-stack-bench=postgres-start and are removed after each run.
"""

from __future__ import annotations

import argparse
import subprocess
import time

from _timing import alternate, report

parser = argparse.ArgumentParser()
parser.add_argument("--image", default="netra-example/postgres:latest")
parser.add_argument("--runs", type=int, default=7)
args = parser.parse_args()


def time_to_ready(*env: str) -> float:
    started = time.perf_counter()
    container = subprocess.run(
        ["docker", "run", "-d", "--label", "netra-stack-bench=postgres-start", "--tmpfs", "/var/lib/postgresql/data",
         "-e", "POSTGRES_USER=netra_test", "-e", "POSTGRES_PASSWORD=netra_test", "-e", "POSTGRES_DB=netra_test",
         *env, args.image, "postgres", "-c", "max_connections=50"],
        check=True, capture_output=True, text=True).stdout.strip()
    try:
        while subprocess.run(["docker", "exec", container, "pg_isready", "-q", "-h", "127.0.0.1", "-U", "netra_test"],
                             capture_output=True).returncode != 0:
            if time.perf_counter() - started > 60:
                raise SystemExit(f"{args.image} not ready after 60 s")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)


samples = alternate(args.runs, {
    "copy of the image's cluster (default)": time_to_ready,
    "initdb in the container (POSTGRES_INITDB_ARGS set)": lambda: time_to_ready("-e", "POSTGRES_INITDB_ARGS=--encoding=UTF8"),
})
print(f"\nA fresh {args.image} until pg_isready, {args.runs} alternating runs each\n")
print(report(samples, "initdb in the container (POSTGRES_INITDB_ARGS set)"))
