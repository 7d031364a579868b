"""What a content-hash fingerprint costs on a large build context, against archiving the same
context and hashing the archive (`tar -c | sha256sum`: reading and hashing it once, about what
sending it to the builder costs), alternating runs.

    .venv/bin/python bench/fingerprint_scale.py [--files 10000] [--megabytes 100] [--runs 5]

The context holds --files files of equal size (--megabytes in all) in 100 directories, plus a
.dockerignored node_modules/ of the same size, which the fingerprint never reads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _timing import alternate, report

from netra_stack.planning.fingerprint import fingerprint

parser = argparse.ArgumentParser()
parser.add_argument("--files", type=int, default=10000)
parser.add_argument("--megabytes", type=int, default=100)
parser.add_argument("--runs", type=int, default=5)
args = parser.parse_args()

context = Path(tempfile.mkdtemp(prefix="netra-bench-context-"))
size = args.megabytes * 1024 * 1024 // args.files
for tree in ("src", "node_modules"):
    for i in range(args.files):
        folder = context / tree / f"d{i % 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.py").write_bytes(os.urandom(size))
(context / "Dockerfile").write_text("FROM scratch\nCOPY src /src\n")
(context / ".dockerignore").write_text("node_modules\n")
build = {"context": str(context), "dockerfile": "Dockerfile"}


def fingerprint_run() -> float:
    started = time.perf_counter()
    fingerprint(build, lambda ref: None)
    return time.perf_counter() - started


def tar_run() -> float:
    started = time.perf_counter()
    tar = subprocess.Popen(["tar", "-cf", "-", "--exclude=./node_modules", "-C", str(context), "."],
                           stdout=subprocess.PIPE)
    subprocess.run(["sha256sum"], stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL)
    tar.stdout.close()
    tar.wait()
    return time.perf_counter() - started


try:
    samples = alternate(args.runs, {"fingerprint (netra-stack)": fingerprint_run,
                                    "tar -c piped to sha256sum (the context, read and hashed once)": tar_run})
    print(f"{args.files} files, {args.megabytes} MB in the context (and as much .dockerignored), "
          f"{args.runs} alternating runs, warm page cache\n")
    print(report(samples, "tar -c piped to sha256sum (the context, read and hashed once)"))
finally:
    shutil.rmtree(context)
