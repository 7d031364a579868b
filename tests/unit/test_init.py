"""`netra-stack init`'s pure part: a compose model -> profile TOML; and finding compose's files."""

from __future__ import annotations

import tomllib

import pytest

from netra_stack.model.errors import ExitCode, NotFoundError, UsageError
from netra_stack.planning.init import (COMPOSE_FILE_NAMES, MEMORY_HINT, find_compose_files, health_command, init_profile,
                              profile_toml, starting_profile)
from netra_stack.model.profiles import load_profile

# Shaped like `docker compose config --format json`: depends_on and healthchecks in their long form.
MODEL = {
    "name": "shop",
    "services": {
        "migrate": {"image": "busybox", "command": ["true"]},
        "db": {"image": "busybox", "healthcheck": {"test": ["CMD", "pg_isready", "-U", "shop"], "interval": "10s"}},
        "web": {
            "image": "busybox",
            "ports": [{"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}],
            "healthcheck": {"test": ["CMD-SHELL", "wget -q -O- http://127.0.0.1/ || exit 1"]},
            "depends_on": {"migrate": {"condition": "service_completed_successfully", "required": True},
                           "db": {"condition": "service_healthy", "required": True}},
        },
        "worker": {"image": "busybox", "healthcheck": {"disable": True},
                   "depends_on": {"db": {"condition": "service_started", "required": True}}},
        "cron": {"image": "busybox", "healthcheck": {"test": ["NONE"]}},
    },
}


def generated(model=MODEL) -> str:
    return profile_toml(model, starting_profile(["compose.yaml"], "shop: test environments"))


@pytest.mark.parametrize("healthcheck, expected", [
    ({"test": ["CMD", "pg_isready", "-U", "shop"]}, ["pg_isready", "-U", "shop"]),
    ({"test": ["CMD-SHELL", "curl -f localhost || exit 1"]}, ["/bin/sh", "-c", "curl -f localhost || exit 1"]),
    ({"test": ["CMD-SHELL", "test -n \"$$HOME\""]}, ["/bin/sh", "-c", "test -n \"$HOME\""]),  # compose's $$ escape
    ({"test": ["CMD", "echo", "$$X"]}, ["echo", "$X"]),
    ({"disable": True}, None),
    ({"disable": True, "test": ["CMD", "true"]}, None),
    ({"test": ["NONE"]}, None),
    ({"interval": "5s"}, None),  # no test of its own: the image's healthcheck, which Docker runs anyway
    ({"test": ["CMD"]}, None),
    (None, None),
])
def test_health_command_from_a_healthcheck(healthcheck, expected):
    assert health_command(healthcheck) == expected


def test_the_profile_isolates_and_carries_health_and_one_shot_services():
    data = tomllib.loads(generated())
    assert data["environment"] == "test" and data["description"] == "shop: test environments"
    assert data["compose_files"] == ["compose.yaml"] and data["project_name"] == "{profile}-{id}"
    assert data["ports"] == {"strategy": "range", "range": [30000, 40000]}
    assert "project_dir" not in data  # the default, "..": the profile lives in the project's profiles/
    assert data["services"] == {
        "migrate": {"one_shot": True},  # web waits for it with service_completed_successfully
        "db": {"health": ["pg_isready", "-U", "shop"]},
        "web": {"health": ["/bin/sh", "-c", "wget -q -O- http://127.0.0.1/ || exit 1"]},
        "worker": {},
        "cron": {},
    }


def test_every_service_has_a_memory_comment_under_its_header():
    lines = generated().splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("[services.")]
    assert [lines[i] for i in headers] == [f"[services.{s}]" for s in MODEL["services"]]
    assert all(lines[i + 1] == MEMORY_HINT for i in headers)
    assert sum(line == MEMORY_HINT for line in lines) == len(MODEL["services"])


def test_a_filled_in_memory_comment_is_a_valid_limit(tmp_path):
    text = generated().replace(MEMORY_HINT, MEMORY_HINT.removeprefix("# "))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "test.toml").write_text(text)
    profile = load_profile(str(tmp_path / "profiles" / "test.toml"))
    assert {s.memory for s in profile.services.values()} == {512 * 1024**2}


def test_the_output_loads_as_a_valid_profile(tmp_path):
    model = {"services": {**MODEL["services"], "odd.name": {"image": "busybox"}}}  # a key TOML must quote
    (tmp_path / "profiles").mkdir()
    path = tmp_path / "profiles" / "test.toml"
    path.write_text(generated(model))
    profile = load_profile(str(path))
    assert profile.name == "test" and profile.root == tmp_path and profile.compose_files == ["compose.yaml"]
    assert profile.ports.strategy == "range" and profile.ports.range == (30000, 40000)
    assert set(profile.services) == set(model["services"])
    assert profile.services["migrate"].one_shot is True and profile.services["web"].one_shot is None
    assert profile.services["web"].health == ["/bin/sh", "-c", "wget -q -O- http://127.0.0.1/ || exit 1"]
    assert profile.services["odd.name"].memory is None


def test_compose_files_are_found_as_compose_finds_them(tmp_path):
    for name in ("docker-compose.yaml", "docker-compose.yml", "compose.yml", "docker-compose.override.yaml",
                 "docker-compose.override.yml"):
        (tmp_path / name).write_text("services: {}\n")
    assert find_compose_files(tmp_path) == [tmp_path / "compose.yml", tmp_path / "docker-compose.override.yml"]
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "compose.override.yml").write_text("services: {}\n")
    assert find_compose_files(tmp_path) == [tmp_path / "compose.yaml", tmp_path / "compose.override.yml"]
    for name in ("compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"):
        (tmp_path / name).unlink()
    assert find_compose_files(tmp_path) == [tmp_path / "compose.yaml"]
    assert find_compose_files(tmp_path, ["docker-compose.yml"]) == [tmp_path / "docker-compose.yml"]


def test_no_compose_file_names_the_directory_and_the_names_looked_for(tmp_path):
    with pytest.raises(NotFoundError) as caught:
        find_compose_files(tmp_path)
    assert caught.value.exit_code == ExitCode.NOT_FOUND
    assert str(tmp_path) in str(caught.value) and all(name in str(caught.value) for name in COMPOSE_FILE_NAMES)
    with pytest.raises(NotFoundError, match="compose file .*other.yml does not exist"):
        find_compose_files(tmp_path, ["other.yml"])
    with pytest.raises(NotFoundError, match="directory .*missing does not exist"):
        init_profile(tmp_path / "missing")


def test_an_existing_profile_is_never_overwritten(tmp_path):
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "test.toml").write_text("# mine\n")
    with pytest.raises(UsageError) as caught:
        init_profile(tmp_path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert str(tmp_path / "profiles" / "test.toml") in caught.value.line and "--print" in caught.value.line
    assert (tmp_path / "profiles" / "test.toml").read_text() == "# mine\n"
