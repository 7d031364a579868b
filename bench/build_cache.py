"""The build-cache policies on the example stack, alternating runs, medians and ratios (issue 7):

1. `up` with unchanged code: content-hash (the default) against the seed's no-cache default;
2. `up` after a one-line change to the backend: content-hash against `docker compose up -d
   --build`, like for like: `up --no-wait` against plain `up -d --build` (both return once the
   containers are started), and `up` against `up -d --build --wait` (both return once healthy).

    .venv/bin/python bench/build_cache.py --profile alpine-test [--runs 5] [--only unchanged|changed]

It works on a copy of compose/, profiles/ and plugins/ (the backend is edited there), and each
contender builds images of its own DOCKER_TAG, so that none finds the others' images; the layer
cache is shared, as on a developer's machine. Teardown is not timed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from _timing import CLI, alternate, report, timed
from _timing import netra_up as run_netra_up

REPO = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="alpine-test")
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--only", choices=["unchanged", "changed"])
args = parser.parse_args()

work = Path(tempfile.mkdtemp(prefix="netra-bench-"))
for folder in ("compose", "profiles", "plugins"):
    shutil.copytree(REPO / folder, work / folder)
backend = work / "compose" / "services" / "backend" / "app.py"
versions = itertools.count(1)
RUN = uuid.uuid4().hex[:12]  # this run's own versions
base_env = {k: v for k, v in os.environ.items() if k not in ("COMPOSE_PROJECT_NAME", "USE_PRODUCTION_IMAGES")}
base_env["NETRA_STACK_PROFILE_PATH"] = str(work / "profiles")
tags = {"content-hash": "bench-hash", "no-cache": "bench-nocache", "compose": "bench-compose",
        "compose-wait": "bench-compose-wait"}


def edit_backend() -> None:
    """A one-line change: the backend's VERSION, to a value no build has seen. (A value an earlier
    run of this benchmark used would find its layer in the builder's cache: no change at all.)"""
    lines = [f'VERSION = "1.0.{next(versions)}+{RUN}"' if line.startswith("VERSION = ") else line
             for line in backend.read_text().splitlines()]
    backend.write_text("\n".join(lines) + "\n")


def netra_up(tag: str, *flags: str) -> float:
    return run_netra_up(args.profile, list(flags), {**base_env, "DOCKER_TAG": tag})


def compose_up(tag: str, *flags: str) -> float:
    # `config` resolved DOCKER_TAG into the image names: point them at this contender's tag
    text = resolved.read_text().replace(":bench-config-tag", f":{tag}")
    own = work / f"{tag}.yml"
    own.write_text(text)
    command = ["docker", "compose", "-p", f"netra-bench-{tag}", "-f", str(own), "--project-directory",
               str(work / "compose")]
    try:
        return timed([*command, "up", "-d", "--build", *flags], stderr=subprocess.DEVNULL, env=base_env)
    finally:
        subprocess.run([*command, "down", "-v", "-t", "5"], capture_output=True)


resolved = work / "resolved.yml"  # what compose runs: the same configuration as netra-stack's
resolved.write_text(subprocess.run([*CLI, "config", "--profile", args.profile, "--reveal-secrets"], check=True,
                                   capture_output=True, text=True,
                                   env={**base_env, "DOCKER_TAG": "bench-config-tag"}).stdout)

# Warm up: every contender's images exist and the layer cache is filled, before any timing.
netra_up(tags["content-hash"])
netra_up(tags["no-cache"])
compose_up(tags["compose"])
compose_up(tags["compose-wait"], "--wait")

if args.only in (None, "unchanged"):
    samples = alternate(args.runs, {
        f"netra-stack up --profile {args.profile} (content-hash)": lambda: netra_up(tags["content-hash"]),
        f"netra-stack up --profile {args.profile} --no-cache (the seed's default)":
            lambda: netra_up(tags["no-cache"], "--no-cache"),
    })
    print(f"\nUnchanged code, {args.runs} alternating runs each, time to healthy\n")
    print(report(samples, f"netra-stack up --profile {args.profile} --no-cache (the seed's default)"))


def after_edit(run):
    def contender() -> float:
        edit_backend()
        return run()
    return contender


if args.only in (None, "changed"):
    samples = alternate(args.runs, {
        f"netra-stack up --profile {args.profile} --no-wait (content-hash)":
            after_edit(lambda: netra_up(tags["content-hash"], "--no-wait")),
        "docker compose up -d --build": after_edit(lambda: compose_up(tags["compose"])),
        f"netra-stack up --profile {args.profile} (content-hash)": after_edit(lambda: netra_up(tags["content-hash"])),
        "docker compose up -d --build --wait": after_edit(lambda: compose_up(tags["compose-wait"], "--wait")),
    })
    print(f"\nAfter a one-line change to the backend, {args.runs} alternating runs each "
          "(--no-wait and plain `up -d`: until started; the others: until healthy)\n")
    print(report(samples, "docker compose up -d --build"))

# The images this benchmark built (its own tags, and what compose's rebuilds left untagged in its
# own projects) go; the layer cache stays.
for tag in tags.values():
    for service in ("postgres", "redis", "backend", "auth", "frontend"):
        subprocess.run(["docker", "rmi", f"netra-example/{service}:{tag}"], capture_output=True)
    subprocess.run(["docker", "image", "prune", "-f", "--filter", f"label=com.docker.compose.project=netra-bench-{tag}"],
                   capture_output=True)
shutil.rmtree(work, ignore_errors=True)
