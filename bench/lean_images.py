"""The seed's table for the example, regular images (profile test) against lean ones
(alpine-test), with netra-stack's own commands:

- image size: the five images each profile runs (`docker image inspect`), summed;
- build time from a cold builder cache: `netra-stack up --profile P --no-cache --json`, each
  image's build as netra-stack reports it (builds[].seconds, side by side), summed; the base image
  is cached; then each image alone, `netra-stack rebuild --services S --no-cache`, timed whole;
- time to healthy: `netra-stack up --profile P --no-build`, alternating runs, medians;
- memory in use after start: `netra-stack stats --json` (the engine's stats: the working set,
  without the page cache) right after each `up`, total of the five services, medians.

    .venv/bin/python bench/lean_images.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml
from _timing import CLI

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {"regular (test)": "test", "lean (alpine-test)": "alpine-test"}

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=5)
args = parser.parse_args()
env = {**os.environ, "NETRA_STACK_PROFILE_PATH": str(REPO / "profiles")}
MIB = 1024 * 1024


def cli(*command: str) -> dict:
    done = subprocess.run([*CLI, *command, "--json"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"netra-stack {' '.join(command)} failed: {done.stderr}")
    return json.loads(done.stdout)


def down(profile: str, name: str) -> None:
    subprocess.run([*CLI, "down", "--profile", profile, "--name", name], env=env, check=True, capture_output=True)


def images(profile: str) -> list[str]:
    resolved = subprocess.run([*CLI, "config", "--profile", profile], env=env, check=True, capture_output=True,
                              text=True).stdout
    return [spec["image"] for spec in yaml.safe_load(resolved)["services"].values()]


def size(image: str) -> int:
    return int(subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image], check=True,
                              capture_output=True, text=True).stdout)


built: dict[str, float] = {}
alone: dict[str, dict[str, float]] = {}
for variant, profile in VARIANTS.items():  # the cold builds, which also leave the images for the rest
    up = cli("up", "--profile", profile, "--no-cache")
    built[variant] = sum(b["seconds"] or 0 for b in up["builds"] if b["built"])
    alone[variant] = {}
    for build in up["builds"]:  # each image again on its own, the rest idle (`rebuild` also recreates it)
        if build["built"]:
            started = time.perf_counter()
            subprocess.run([*CLI, "rebuild", "--profile", profile, "--name", up["environment"], "--services",
                            build["service"], "--no-cache"], env=env, check=True, capture_output=True)
            alone[variant][build["service"]] = time.perf_counter() - started
    down(profile, up["environment"])

healthy: dict[str, list[float]] = {v: [] for v in VARIANTS}
memory: dict[str, list[int]] = {v: [] for v in VARIANTS}
for _ in range(args.runs):
    for variant, profile in VARIANTS.items():
        started = time.perf_counter()
        up = cli("up", "--profile", profile, "--no-build")
        healthy[variant].append(time.perf_counter() - started)
        memory[variant].append(cli("stats", "--name", up["environment"])["total"]["memory_bytes"])
        down(profile, up["environment"])

sizes = {variant: {image: size(image) for image in images(profile)} for variant, profile in VARIANTS.items()}
regular, lean = VARIANTS
print(f"{args.runs} alternating runs each, {sys.executable}\n")
print("| | regular (test) | lean (alpine-test) | lean / regular |")
print("|---|---|---|---|")
rows = [
    ("image size, five images (MB)", {v: sum(sizes[v].values()) / 1e6 for v in VARIANTS}, ".0f"),
    ("time to healthy, median (s)", {v: statistics.median(healthy[v]) for v in VARIANTS}, ".2f"),
    ("memory in use after start, median (MiB)", {v: statistics.median(memory[v]) / MIB for v in VARIANTS}, ".0f"),
    ("build time without the layer cache, five images (s)", built, ".1f"),
]
for label, values, spec in rows:
    print(f"| {label} | {values[regular]:{spec}} | {values[lean]:{spec}} | {values[lean] / values[regular]:.2f}x |")
print()
for variant in VARIANTS:
    print(f"{variant}: " + ", ".join(f"{image} {bytes_ / 1e6:.0f} MB" for image, bytes_ in sizes[variant].items()))
    print(f"{variant}, each built alone (`rebuild --no-cache`): "
          + ", ".join(f"{service} {seconds:.1f} s" for service, seconds in alone[variant].items()))
