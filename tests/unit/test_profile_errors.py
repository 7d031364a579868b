"""Bad profiles: each fails with the right error class and a one-line message that names the
file, the key, the bad value and what was expected, plus a hint."""

from __future__ import annotations

import pytest

from conftest import MINIMAL
from netra_stack.model import errors
from netra_stack.model.errors import ExitCode, NetraError, NotFoundError, ProfileError
from netra_stack.planning.plan import environment_name, port_requests, resolve_plan
from netra_stack.model.profiles import Profile, default_profile_name, load_profile


def assert_one_line(error: NetraError, *fragments: str) -> None:
    text = error.line
    assert "\n" not in text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert error.hint and f"(hint: {error.hint})" in text


BAD = [
    # id, toml text, what the message must contain (key, value, expectation)
    ("unknown-top-level-key", MINIMAL + 'colour = "red"\n',
     ["unknown key 'colour'", "expected one of: extends, description, environment, compose_files", "services"]),
    ("unknown-service-key", MINIMAL + '[services.db]\nmemroy = "1g"\n',
     ["unknown key 'services.db.memroy'", "expected one of: memory, cpus, health, ports, tmpfs", "one_shot"]),
    ("unknown-ports-key", MINIMAL + '[ports]\nstratgy = "fixed"\n',
     ["unknown key 'ports.stratgy'", "expected one of: strategy, range, host_ip"]),
    ("unknown-port-spec-key", MINIMAL + '[services.db]\nports = [{ container = 5432, hots = 1 }]\n',
     ["unknown key 'services.db.ports.0.hots'", "expected one of: container, protocol, strategy, host, env"]),
    ("wrong-type", MINIMAL + 'wait_timeout = "soon"\n',
     ["wait_timeout = 'soon'", "valid number"]),
    ("bad-memory-size", MINIMAL + '[services.db]\nmemory = "512X"\n',
     ["services.db.memory = '512X'", "expected a size such as 256m"]),
    ("inverted-range", MINIMAL + "[ports]\nrange = [40000, 30000]\n",
     ["ports", "range [40000, 30000] is inverted", "low <= high"]),
    ("port-too-high", MINIMAL + "[ports]\nrange = [30000, 70000]\n",
     ["ports.range.1 = 70000", "less than or equal to 65535"]),
    ("container-port-too-high", MINIMAL + "[services.db]\nports = [{ container = 70000 }]\n",
     ["services.db.ports.0.container = 70000", "65535"]),
    ("bad-strategy", MINIMAL + '[ports]\nstrategy = "random"\n',
     ["ports.strategy = 'random'", "'range', 'fixed' or 'ephemeral'"]),
    ("bad-environment", 'environment = "staging"\ncompose_files = ["c.yml"]\n',
     ["environment = 'staging'", "'test', 'dev' or 'prod'"]),
    ("zero-cpus", MINIMAL + "[services.db]\ncpus = 0\n",
     ["services.db.cpus = 0", "greater than 0"]),
    ("registry-with-scheme", MINIMAL + '[swarm]\nregistry = "http://registry:5000"\n',
     ["swarm.registry = 'http://registry:5000'", "HOST[:PORT][/PATH] without a scheme"]),
    ("registry-with-space", MINIMAL + '[swarm]\nregistry = "reg istry"\n', ["swarm.registry = 'reg istry'", "e.g. 'registry.local:5000'"]),
    ("unknown-swarm-key", MINIMAL + '[swarm]\nregistery = "r:5000"\n',
     ["unknown key 'swarm.registery'", "expected one of: registry, routing_mesh"]),
    ("missing-environment", 'compose_files = ["c.yml"]\n', ["environment: missing; expected test, dev or prod"]),
    ("missing-compose-files", 'environment = "dev"\n', ["compose_files: missing; expected a list of compose files"]),
]


@pytest.mark.parametrize(("text", "fragments"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_profile(load, tmp_path, text, fragments):
    with pytest.raises(ProfileError) as info:
        load(text, name="bad")
    assert info.value.exit_code == ExitCode.PROFILE_INVALID == 3
    assert str(info.value).startswith(f"{tmp_path / 'profiles' / 'bad.toml'}: ")
    assert_one_line(info.value, *fragments)


def test_malformed_toml_names_the_line(load, tmp_path):
    with pytest.raises(ProfileError) as info:
        load(MINIMAL + "wait_timeout = \n", name="broken")
    assert_one_line(info.value, str(tmp_path / "profiles" / "broken.toml"), "malformed TOML", "line 3")


def test_missing_keys_after_merge_name_the_child(load, tmp_path):
    with pytest.raises(ProfileError) as info:
        load('extends = "base"\n', name="child", others={"base": 'environment = "dev"\n'})
    assert_one_line(info.value, f"{tmp_path / 'profiles' / 'child.toml'}: compose_files: missing", "extends")


def test_bad_key_inherited_from_parent_names_the_parent(load, tmp_path):
    parent = MINIMAL + '[services.db]\nmemory = "512X"\nhealth = "true"\n'
    child = 'extends = "parent"\n[services.db]\ncpus = 1.0\n'  # touches the same table, not the key
    with pytest.raises(ProfileError) as info:
        load(child, name="child", others={"parent": parent})
    assert_one_line(info.value, f"{tmp_path / 'profiles' / 'parent.toml'}: services.db.memory = '512X'")


def test_unknown_key_inherited_from_parent_names_the_parent(load, tmp_path):
    parent = MINIMAL + "[services.db]\nmemroy = 1\n"
    with pytest.raises(ProfileError) as info:
        load('extends = "parent"\n[services.db]\ncpus = 1.0\n', name="child", others={"parent": parent})
    assert_one_line(info.value, f"{tmp_path / 'profiles' / 'parent.toml'}: unknown key 'services.db.memroy'")


def test_bad_key_in_child_names_the_child(load, tmp_path):
    parent = MINIMAL + '[services.db]\nmemory = "1g"\n'
    child = 'extends = "parent"\n[services.db]\nmemory = "512X"\n'
    with pytest.raises(ProfileError) as info:
        load(child, name="child", others={"parent": parent})
    assert_one_line(info.value, f"{tmp_path / 'profiles' / 'child.toml'}: services.db.memory = '512X'")


def test_inverted_range_inherited_from_parent_names_the_parent(load, tmp_path):
    parent = MINIMAL + "[ports]\nrange = [40000, 30000]\n"
    with pytest.raises(ProfileError) as info:
        load('extends = "parent"\n[ports]\nstrategy = "range"\n', name="child", others={"parent": parent})
    assert str(info.value).startswith(str(tmp_path / "profiles" / "parent.toml"))


def test_wrong_type_of_union_key_names_the_real_key(load):
    with pytest.raises(ProfileError) as info:
        load(MINIMAL + "[services.db]\nhealth = 5\n")
    message = str(info.value)
    assert "services.db.health = 5" in message
    assert "list" in message  # a string or a list of strings


def test_non_string_extends_has_a_hint(load):
    with pytest.raises(ProfileError) as info:
        load(MINIMAL + "extends = 3\n")
    assert_one_line(info.value, "extends = 3", "expected a profile name")


def test_unknown_profile_is_not_found(profile_dir):
    folder = profile_dir({"dev": MINIMAL, "test": MINIMAL})
    with pytest.raises(NotFoundError) as info:
        load_profile("staging", dirs=[folder])
    assert info.value.exit_code == ExitCode.NOT_FOUND == 4
    assert_one_line(info.value, "unknown profile 'staging'", str(folder), "known profiles: dev, test")


# --- bad values from the environment and the compose model -----------------------------------------


def test_docker_env_staging():
    with pytest.raises(ProfileError) as info:
        default_profile_name({"DOCKER_ENV": "staging"})
    assert_one_line(info.value, "DOCKER_ENV='staging'", "expected one of test, dev, prod")


def test_bad_compose_project_name():
    with pytest.raises(ProfileError) as info:
        environment_name(Profile(name="test"), {"COMPOSE_PROJECT_NAME": "Bad Name!"})
    assert_one_line(info.value, "COMPOSE_PROJECT_NAME='Bad Name!'", "expected lowercase letters")


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1", "54 32"])
def test_bad_port_variable(value):
    profile = Profile(name="alpine-test", services={"postgres": {"ports": [{"container": 5432, "env": "ALPINE_TEST_POSTGRES_PORT"}]}})
    model = {"services": {"postgres": {}}}
    with pytest.raises(ProfileError) as info:
        port_requests(profile, model, {"ALPINE_TEST_POSTGRES_PORT": value})
    assert_one_line(info.value, f"ALPINE_TEST_POSTGRES_PORT={value!r}", "expected a port number 1-65535")


def test_profile_service_missing_from_compose_model(load, model, tmp_path):
    profile = load(MINIMAL + '[services.postgress]\nmemory = "1g"\n', name="typo")
    with pytest.raises(NotFoundError) as info:
        resolve_plan(profile, model, name="x", env={}, host_ports={}, requests=[])
    assert info.value.exit_code == 4
    assert_one_line(info.value, str(tmp_path / "profiles" / "typo.toml"), "services.postgress",
                    "unknown service 'postgress'", "the compose files define: postgres, redis, worker")


def test_command_args_without_base_command(load, model):
    profile = load(MINIMAL + '[services.redis]\ncommand_args = ["--save", ""]\n', name="p")
    requests = port_requests(profile, model, {})
    with pytest.raises(ProfileError) as info:
        resolve_plan(profile, model, name="x", env={}, host_ports={r.key: 0 for r in requests}, requests=requests)
    assert_one_line(info.value, "p.toml", "services.redis.command_args", "declares no command",
                    "services.redis.command")


@pytest.mark.parametrize(
    ("cls", "code"),
    [(errors.NetraError, 1), (ProfileError, 3), (NotFoundError, 4), (errors.DockerUnavailableError, 5),
     (errors.ComposeMissingError, 6), (errors.EngineError, 7), (errors.NotHealthyError, 8),
     (errors.PluginError, 9), (errors.Abandoned, 130)],
)
def test_exit_codes(cls, code):
    error = cls("message", hint="do this")
    assert error.exit_code == code and isinstance(error.exit_code, int)
    assert (error.message, error.hint, str(error), error.line) == ("message", "do this", "message",
                                                                   "message (hint: do this)")
    assert str(cls("bare")) == cls("bare").line == "bare"
