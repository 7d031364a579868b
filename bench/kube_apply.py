"""The kubernetes backend against kubectl, on the test bed's single-node cluster (Kubernetes 1.20
in one node container: tests/testbed/cluster.py), alternating runs, medians, ratios:

1. apply until ready: `netra-stack up --backend kubernetes` against `kubectl apply -f` of the
   same objects (what `netra-stack manifests` prints), then `kubectl rollout status` of each
   Deployment and `kubectl wait --for=condition=complete` of each Job, one after the other, as a
   script does;
2. teardown until gone: `netra-stack down` against `kubectl delete namespace --wait`.

    .venv/bin/python bench/kube_apply.py [--profile prod-k8s] [--runs 5]

The default is the example stack (prod-k8s: postgres with a claim, redis, and three services
built on them with depends_on). Its images are built and loaded into the node once, before
timing; neither side builds or loads while timed. kubectl is the one of the test extras
(.venv/bin/kubectl). The cluster is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from _timing import CLI, report, seconds

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.testbed import cluster as testbed  # noqa: E402  (the test bed's cluster)

parser = argparse.ArgumentParser()
parser.add_argument("--profile", default="prod-k8s")
parser.add_argument("--runs", type=int, default=5)
args = parser.parse_args()

KUBECTL = str(Path(sys.executable).parent / "kubectl")
testbed.remove_leftovers()
testbed.build()
bed = testbed.start()
work = Path(tempfile.mkdtemp(prefix="netra-bench-kube-"))
try:
    # The profile as it is, with the test bed's load command: a layer beside copies of profiles/.
    profiles = work / "profiles"
    shutil.copytree(REPO / "profiles", profiles)
    (profiles / "bench-k8s.toml").write_text(
        f'extends = "{args.profile}"\nproject_dir = "{REPO}"\n\n[kubernetes]\nload = {json.dumps(bed.load_command)}\n')
    config = bed.write_kubeconfig(work / "kubeconfig")
    env = {**os.environ, "KUBECONFIG": str(config), "NETRA_STACK_PROFILE_PATH": str(profiles),
           "NETRA_STACK_STATE_DIR": str(work / "state")}

    def netra(*command: str) -> subprocess.CompletedProcess:
        done = subprocess.run([*CLI, *command], env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"netra-stack {' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def kubectl(*command: str) -> None:
        subprocess.run([KUBECTL, "--kubeconfig", str(config), *command], env=env, check=True, capture_output=True,
                       text=True, timeout=600)

    warm = json.loads(netra("up", "--profile", "bench-k8s", "--json").stdout)  # builds and loads once, untimed
    netra("down", "--profile", "bench-k8s", "--name", warm["environment"])
    objects = list(yaml.safe_load_all(netra("manifests", "--profile", "bench-k8s", "--reveal-secrets").stdout))
    deployments = [o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"]
    jobs = [o["metadata"]["name"] for o in objects if o["kind"] == "Job"]
    names: dict[str, list[str]] = {"netra": [], "kubectl": []}

    def netra_up() -> float:
        started = time.perf_counter()
        found = json.loads(netra("up", "--profile", "bench-k8s", "--no-build", "--json").stdout)
        elapsed = time.perf_counter() - started
        names["netra"].append(found["environment"])
        return elapsed

    def kubectl_up() -> float:
        name = f"bench-{uuid.uuid4().hex[:6]}"
        names["kubectl"].append(name)
        renamed = [{**o, "metadata": {**o["metadata"], "name": name} if o["kind"] == "Namespace"
                    else {**o["metadata"], "namespace": name}} for o in objects]
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(renamed, sort_keys=False))

        def apply_and_wait() -> None:
            kubectl("apply", "-f", str(path))
            for deployment in deployments:
                kubectl("rollout", "status", f"deployment/{deployment}", "-n", name, "--timeout=300s")
            for job in jobs:
                kubectl("wait", "--for=condition=complete", f"job/{job}", "-n", name, "--timeout=300s")

        return seconds(apply_and_wait)

    def netra_down() -> float:
        return seconds(lambda: netra("down", "--profile", "bench-k8s", "--name", names["netra"].pop()))

    def kubectl_down() -> float:
        return seconds(lambda: kubectl("delete", "namespace", names["kubectl"].pop(), "--wait", "--timeout=300s"))

    up_netra, up_kubectl = "netra-stack up --backend kubernetes", "kubectl apply + rollout status / wait"
    down_netra, down_kubectl = "netra-stack down", "kubectl delete namespace --wait"
    ups: dict[str, list[float]] = {up_netra: [], up_kubectl: []}
    downs: dict[str, list[float]] = {down_netra: [], down_kubectl: []}
    sides = [(netra_up, netra_down, up_netra, down_netra), (kubectl_up, kubectl_down, up_kubectl, down_kubectl)]
    for _ in range(args.runs):
        for up, down, up_key, down_key in sides:
            ups[up_key].append(up())
            downs[down_key].append(down())
    print(f"profile {args.profile} on the test bed's single-node Kubernetes 1.20, {args.runs} alternating runs each\n")
    print("apply until ready\n")
    print(report(ups, up_kubectl))
    print("\nteardown until gone\n")
    print(report(downs, down_kubectl))
finally:
    bed.stop()
    shutil.rmtree(work, ignore_errors=True)
