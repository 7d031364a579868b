"""The swarm backend against the swarm's own commands, on a single-node swarm of the test bed
(a Docker-in-Docker node container: tests/testbed/nodes.py), alternating runs, medians, ratios:

1. deploy until healthy: `netra-stack up --backend swarm` against `docker stack deploy
   --detach=false` of the same rendered stack file (what `netra-stack config` prints);
2. teardown until gone: `netra-stack down` against `docker stack rm` and then polling until the
   stack's containers and networks are gone (what `docker stack rm` does not wait for).

    .venv/bin/python bench/swarm_deploy.py [--profile mini] [--runs 5]
    .venv/bin/python bench/swarm_deploy.py --profile prod-swarm --profiles profiles \
        --load netra-example/base:bookworm           # the example stack

The default is the mini stack (a web service with a healthcheck, a worker without). The example
stack (prod-swarm: postgres, redis, and three services built on them with depends_on) is the
one the issue names: the swarm's own deploy starts everything at once and lets the dependents
fail and restart until what they need is up; netra-stack starts them in order.

The base images the profile runs or builds on (`--load`, besides busybox) are loaded into the
node once, and the profile's images built once, before timing; neither side builds while timed.
The node is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _timing import CLI, report, seconds

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.testbed import nodes  # noqa: E402  (the test bed's swarm)

parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="mini")
parser.add_argument("--profiles", default=str(REPO / "tests/fixtures/mini/profiles"))
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--load", nargs="*", default=[], metavar="IMAGE", help="more images of the host to load into the node")
args = parser.parse_args()

nodes.build_image()
cluster = nodes.start(1)
env = {**os.environ, **cluster.environ(), "NETRA_STACK_PROFILE_PATH": args.profiles,
       "NETRA_STACK_STATE_DIR": tempfile.mkdtemp(prefix="netra-bench-state-")}
host = cluster.manager.host


def netra(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *command, "--backend", "swarm"], env=env, check=True, capture_output=True, text=True)


def gone(name: str) -> None:
    """Poll until the stack's containers and networks are gone, as a script after `docker stack rm` must."""
    label = f"label=com.docker.stack.namespace={name}"
    while (nodes.docker("ps", "-aq", "--filter", label, host=host).stdout.strip()
           or nodes.docker("network", "ls", "-q", "--filter", label, host=host).stdout.strip()):
        time.sleep(0.2)



try:
    cluster.load(os.environ.get("BUSYBOX_IMAGE", "netra-example/busybox:1.35"), *args.load)
    warm = json.loads(netra("up", "--profile", args.profile, "--json").stdout)  # builds once, untimed
    netra("down", "--profile", args.profile, "--name", warm["environment"])
    stack_file = Path(env["NETRA_STACK_STATE_DIR"]) / "stack.yml"
    stack_file.write_text(netra("config", "--profile", args.profile).stdout)
    names: dict[str, list[str]] = {"netra": [], "stack": []}

    def netra_up() -> float:
        started = time.perf_counter()
        found = json.loads(netra("up", "--profile", args.profile, "--no-build", "--json").stdout)
        elapsed = time.perf_counter() - started
        names["netra"].append(found["environment"])
        return elapsed

    def stack_up() -> float:
        name = f"bench-{uuid.uuid4().hex[:6]}"
        names["stack"].append(name)
        return seconds(lambda: nodes.docker("stack", "deploy", "--detach=false", "--resolve-image", "never",
                                          "--compose-file", str(stack_file), name, host=host, timeout=600))

    def netra_down() -> float:
        return seconds(lambda: netra("down", "--profile", args.profile, "--name", names["netra"].pop()))

    def stack_down() -> float:
        name = names["stack"].pop()
        return seconds(lambda: (nodes.docker("stack", "rm", name, host=host), gone(name)))

    ups: dict[str, list[float]] = {"netra-stack up --backend swarm": [], "docker stack deploy --detach=false": []}
    downs: dict[str, list[float]] = {"netra-stack down": [], "docker stack rm + polling until gone": []}
    sides = [(netra_up, netra_down, "netra-stack up --backend swarm", "netra-stack down"),
             (stack_up, stack_down, "docker stack deploy --detach=false", "docker stack rm + polling until gone")]
    for _ in range(args.runs):
        for up, down, up_key, down_key in sides:
            ups[up_key].append(up())
            downs[down_key].append(down())
    print(f"profile {args.profile} on a single-node swarm, {args.runs} alternating runs each\n")
    print("deploy until healthy\n")
    print(report(ups, "docker stack deploy --detach=false"))
    print("\nteardown until gone\n")
    print(report(downs, "docker stack rm + polling until gone"))
finally:
    cluster.remove()
