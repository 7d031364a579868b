"""`netra-stack manifests` on real compose files (compose reads them; no cluster is needed)."""

from __future__ import annotations

import yaml

from netra_stack.model import labels as L
from netra_stack.model.errors import ExitCode
from tests.helpers import FIXTURES, REAL_PROFILES

from .conftest import run_cli


def test_the_example_stack_as_kubernetes_objects_every_change_said(mini_env):
    result = run_cli("manifests", "--profile", "prod", env={**mini_env, "NETRA_STACK_PROFILE_PATH": str(REAL_PROFILES)})
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {("Deployment", s) for s in ("postgres", "redis", "backend", "auth", "frontend")} <= kinds
    assert ("Namespace", "netra-prod") in kinds and ("PersistentVolumeClaim", "pgdata") in kinds
    assert all(o["metadata"]["labels"][L.ENVIRONMENT] == "netra-prod" for o in objects)
    postgres = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "postgres")
    container = postgres["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"  # the profile's health command
    assert {"name": "POSTGRES_PASSWORD", "value": "***"} in container["env"]  # masked, as in `config`
    assert "# backend: depends_on carried out by netra-stack: backend is applied once postgres, redis are ready" in result.stdout


def test_a_one_shot_is_a_job_and_a_fixed_container_name_is_said(mini_env, tmp_path):
    (tmp_path / "k.toml").write_text(f'environment = "test"\nproject_dir = "{FIXTURES / "swarm"}"\n'
                                     'compose_files = ["compose.yml"]\n[ports]\nstrategy = "range"\n'
                                     'range = [30000, 32767]\n')  # the cluster's NodePort range
    result = run_cli("manifests", "--profile", "k", env={**mini_env, "NETRA_STACK_PROFILE_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    jobs = [o for o in yaml.safe_load_all(result.stdout) if o["kind"] == "Job"]
    assert [j["metadata"]["name"] for j in jobs] == ["migrate"]
    assert "# web: container_name" in result.stdout and "dropped (Kubernetes names each pod)" in result.stdout


def test_host_networking_cannot_run_on_kubernetes_one_line_exit_3(mini_env, tmp_path):
    (tmp_path / "compose.yml").write_text("services:\n  agent:\n    image: busybox\n    network_mode: host\n")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "k.toml").write_text('environment = "test"\ncompose_files = ["compose.yml"]\n')
    result = run_cli("manifests", "--profile", "k", env={**mini_env, "NETRA_STACK_PROFILE_PATH": str(tmp_path / "profiles")})
    assert result.returncode == ExitCode.PROFILE_INVALID, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "services.agent.network_mode = 'host': cannot run on Kubernetes" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_manifests_access_prints_the_cluster_role_to_bind_without_a_profile(mini_env, tmp_path):
    result = run_cli("manifests", "--access", env={**mini_env, "NETRA_STACK_PROFILE_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    role = yaml.safe_load(result.stdout)
    assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == "netra-stack"
    assert {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]} in role["rules"]
