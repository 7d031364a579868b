"""Loading profiles: the real ones, `extends`, and where profiles are looked up."""

from __future__ import annotations

import os

import pytest

from conftest import MINIMAL, REAL_PROFILES, REPO
from netra_stack.model.errors import ExitCode, NotFoundError, ProfileError
from netra_stack.model.profiles import (
    PROFILE_PATH_VAR,
    available_profiles,
    find_profile,
    load_profile,
    profile_dirs,
    profile_json_schema,
)

REAL = ["dev", "test", "prod", "alpine-dev", "alpine-test", "prod-swarm", "prod-k8s"]


@pytest.mark.parametrize("name", REAL)
def test_real_profiles_load(name):
    profile = load_profile(name, dirs=[REAL_PROFILES])
    assert profile.name == name
    assert profile.source == REAL_PROFILES / f"{name}.toml"
    assert profile.environment in ("test", "dev", "prod")
    assert profile.compose_files
    assert profile.root == REPO


def test_alpine_test_inherits_health_and_overrides_compose_files():
    dev = load_profile("dev", dirs=[REAL_PROFILES])
    test = load_profile("test", dirs=[REAL_PROFILES])
    alpine = load_profile("alpine-test", dirs=[REAL_PROFILES])
    assert alpine.compose_files == ["compose/docker-compose.alpine-test.yml"]
    assert alpine.environment == "test"  # from test.toml
    assert alpine.ports.strategy == "range"  # from test.toml
    assert alpine.wait_timeout == test.wait_timeout == 180
    for service in ("postgres", "redis", "backend", "auth", "frontend"):  # stated once, in dev.toml
        assert alpine.services[service].health == dev.services[service].health is not None
    postgres = alpine.services["postgres"]
    assert postgres.memory == 512 * 1024**2
    assert postgres.tmpfs == ["/var/lib/postgresql/data:size=512m"]
    assert postgres.command_args[:2] == ["-c", "fsync=off"]
    assert postgres.ports[0].env == "ALPINE_TEST_POSTGRES_PORT"
    assert alpine.services["frontend"].memory == 128 * 1024**2  # test.toml's, not dev.toml's 256m


def test_extends_deep_merges_tables_and_replaces_lists(load):
    parent = """
        environment = "dev"
        compose_files = ["a.yml", "b.yml"]
        plugins = ["one.py", "two.py"]
        [env]
        DOCKER_TAG = "latest"
        BUILD_TARGET = "runtime"
        [ports]
        strategy = "fixed"
        host_ip = "127.0.0.2"
        [services.db]
        memory = "1g"
        health = "pg_isready"
        tmpfs = ["/a", "/b"]
        [services.cache]
        cpus = 0.5
    """
    child = """
        extends = "parent"
        compose_files = ["c.yml"]
        plugins = []
        [env]
        DOCKER_TAG = "v2"
        [ports]
        strategy = "range"
        [services.db]
        memory = "256m"
        tmpfs = ["/c"]
    """
    profile = load(child, name="child", others={"parent": parent})
    assert profile.compose_files == ["c.yml"]
    assert profile.plugins == []
    assert profile.env == {"DOCKER_TAG": "v2", "BUILD_TARGET": "runtime"}
    assert (profile.ports.strategy, profile.ports.host_ip) == ("range", "127.0.0.2")
    db = profile.services["db"]
    assert (db.memory, db.health, db.tmpfs) == (256 * 1024**2, "pg_isready", ["/c"])
    assert profile.services["cache"].cpus == 0.5
    assert profile.environment == "dev"
    assert profile.name == "child"


def test_extends_chain_of_three(load):
    files = {"a": MINIMAL + "wait_timeout = 1\n", "b": 'extends = "a"\ndescription = "b"\n'}
    profile = load('extends = "b"\nwait_timeout = 3\n', name="c", others=files)
    assert (profile.wait_timeout, profile.description, profile.environment) == (3.0, "b", "test")


@pytest.mark.parametrize(
    ("files", "start", "chain"),
    [
        ({"a": 'extends = "b"\n', "b": 'extends = "a"\n'}, "a", "a -> b -> a"),
        ({"self": 'extends = "self"\n'}, "self", "self -> self"),
        ({"x": 'extends = "y"\n', "y": 'extends = "z"\n', "z": 'extends = "y"\n'}, "x", "x -> y -> z -> y"),
    ],
)
def test_circular_extends(profile_dir, files, start, chain):
    folder = profile_dir(files)
    with pytest.raises(ProfileError) as info:
        load_profile(start, dirs=[folder])
    assert "circular inheritance" in str(info.value)
    assert chain in str(info.value)
    assert info.value.hint
    assert info.value.exit_code == ExitCode.PROFILE_INVALID == 3


def test_extends_missing_profile(profile_dir):
    folder = profile_dir({"child": 'extends = "ghost"\n', "other": MINIMAL})
    with pytest.raises(ProfileError) as info:
        load_profile("child", dirs=[folder])
    message = str(info.value)
    assert str(folder / "child.toml") in message
    assert "extends = 'ghost'" in message
    assert "known: other" in message
    assert info.value.hint


# --- where profiles are looked up ----------------------------------------------------------------


def test_profile_dirs_from_environment_variable(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    value = os.pathsep.join([str(one), "", str(two)])
    assert profile_dirs({PROFILE_PATH_VAR: value}, cwd=tmp_path / "elsewhere") == [one, two]


def test_profile_dirs_searches_upwards(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "test.toml").write_text(MINIMAL)
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    (deep / "profiles").mkdir()  # a profiles/ without .toml files does not count
    assert profile_dirs({}, cwd=deep) == [tmp_path / "profiles"]
    assert profile_dirs({PROFILE_PATH_VAR: ""}, cwd=deep) == [tmp_path / "profiles"]  # empty: ignored


def test_profile_dirs_empty_when_nothing_found(tmp_path):
    if any((folder / "profiles").is_dir() for folder in tmp_path.parents):
        pytest.skip("a profiles/ directory exists above the temporary directory")
    assert profile_dirs({}, cwd=tmp_path) == []


def test_available_profiles_first_directory_wins(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, names in ((first, ["a", "shared"]), (second, ["shared", "b"])):
        folder.mkdir()
        for name in names:
            (folder / f"{name}.toml").write_text(MINIMAL)
    (second / "notes.txt").write_text("not a profile")
    found = available_profiles([first, second])
    assert found == {"a": first / "a.toml", "shared": first / "shared.toml", "b": second / "b.toml"}


def test_available_profiles_real():
    assert sorted(available_profiles([REAL_PROFILES])) == sorted(REAL)


def test_find_profile_by_toml_path(profile_dir, monkeypatch):
    folder = profile_dir({"mine": MINIMAL})
    assert find_profile(str(folder / "mine.toml"), dirs=[]) == folder / "mine.toml"
    monkeypatch.chdir(folder.parent)
    assert find_profile("profiles/mine.toml", dirs=[]) == (folder / "mine.toml").resolve()
    assert load_profile("profiles/mine.toml", dirs=[]).name == "mine"


def test_find_profile_missing_toml_path(tmp_path):
    with pytest.raises(NotFoundError) as info:
        find_profile(str(tmp_path / "absent.toml"))
    assert "absent.toml" in str(info.value) and info.value.hint
    assert info.value.exit_code == ExitCode.NOT_FOUND == 4


def test_unknown_profile_lists_known_ones(profile_dir):
    folder = profile_dir({"alpha": MINIMAL, "beta": MINIMAL})
    with pytest.raises(NotFoundError) as info:
        load_profile("gamma", dirs=[folder])
    message = str(info.value)
    assert "'gamma'" in message and str(folder) in message
    assert "known profiles: alpha, beta" in message
    assert PROFILE_PATH_VAR in info.value.hint


def test_unknown_profile_without_any_directory():
    with pytest.raises(NotFoundError, match="no profiles/ directory found.*known profiles: none"):
        find_profile("test", dirs=[])


def test_json_schema_lists_keys_but_not_loader_fields():
    schema = profile_json_schema()
    assert schema["title"] == "netra-stack profile"
    properties = schema["properties"]
    assert {"extends", "compose_files", "services", "ports", "wait_timeout"} <= set(properties)
    assert "name" not in properties and "source" not in properties
