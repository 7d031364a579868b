"""Profile + environment + compose model -> Plan, without Docker."""

from __future__ import annotations

import getpass
import socket

import json

import pytest

from conftest import REAL_PROFILES
from netra_stack.model import labels as L
from netra_stack.model.errors import ProfileError
from netra_stack.backends.compose.override import Override, compose_override, render_override
from netra_stack.planning.plan import (PortRequest, compose_env, environment_name, healthcheck_tests, port_requests,
                                       resolve_plan)
from netra_stack.model.profiles import Profile, load_profile


def make_profile(**fields) -> Profile:
    fields.setdefault("name", "alpine-test")
    fields.setdefault("environment", "test")
    fields.setdefault("compose_files", ["docker-compose.yml"])
    return Profile.model_validate(fields)


def host_ports_for(requests: list[PortRequest], range_port: int = 35001) -> dict[str, int]:
    """What the allocation hook would choose: fixed -> its port, range -> one from the range, ephemeral -> 0."""
    return {r.key: r.host if r.strategy == "fixed" else range_port if r.strategy == "range" else 0 for r in requests}


def plan_for(profile: Profile, model: dict, environ: dict | None = None, name: str = "env-1", **kw):
    requests = port_requests(profile, model, environ or {})
    return resolve_plan(profile, model, name=name, env=compose_env(profile, environ or {}),
                        host_ports=kw.get("host_ports") or host_ports_for(requests), requests=requests)


# --- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile_name", "template", "expected"),
    [
        ("alpine-test", "{profile}-{id}", "alpine-test-3f9a1c"),
        ("test", "{env}-{profile}-{id}", "test-test-3f9a1c"),
        ("Alpine_Test", "{profile}-{id}", "alpine_test-3f9a1c"),  # lowercased
        ("test", "My Stack.{id}", "my-stack-3f9a1c"),  # runs of other characters become '-'
        ("test", "--{profile}!!", "test"),  # leading/trailing '-' and '_' stripped
        ("dev", "netra-dev", "netra-dev"),  # a fixed name
    ],
)
def test_environment_name_template(profile_name, template, expected):
    profile = make_profile(name=profile_name, project_name=template)
    assert environment_name(profile, {}, env_id="3f9a1c") == expected


def test_environment_name_random_id_differs():
    profile = make_profile()
    first, second = environment_name(profile, {}), environment_name(profile, {})
    assert first != second and first.startswith("alpine-test-") and len(first) == len("alpine-test-") + 6


def test_environment_name_user_placeholder(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "Ada Lovelace")
    assert environment_name(make_profile(project_name="{user}-{id}"), {}, env_id="x1") == "ada-lovelace-x1"


def test_compose_project_name_wins():
    profile = make_profile(project_name="{profile}-{id}")
    assert environment_name(profile, {"COMPOSE_PROJECT_NAME": "ci_run-42"}, env_id="abc") == "ci_run-42"
    assert environment_name(profile, {"COMPOSE_PROJECT_NAME": ""}, env_id="abc") == "alpine-test-abc"


@pytest.mark.parametrize(("template", "fragment"), [("{nope}-{id}", "unknown placeholder"),
                                                     ("{}-x", "unknown placeholder"),
                                                     ("!!!", "renders to an empty name")])
def test_environment_name_bad_template(template, fragment):
    with pytest.raises(ProfileError, match=fragment) as info:
        environment_name(make_profile(project_name=template), {}, env_id="abc")
    assert f"project_name = {template!r}" in str(info.value)


def test_compose_env_passthrough():
    profile = make_profile(env={"DOCKER_TAG": "latest", "BUILD_TARGET": "runtime", "OTHER": "kept"})
    environ = {"DOCKER_TAG": "v1.2", "USE_PRODUCTION_IMAGES": "true", "HOME": "/root", "PATH": "/bin"}
    assert compose_env(profile, environ) == {
        "DOCKER_TAG": "v1.2", "BUILD_TARGET": "runtime", "OTHER": "kept", "USE_PRODUCTION_IMAGES": "true"}
    assert compose_env(profile, {}) == profile.env
    assert profile.env["DOCKER_TAG"] == "latest"  # the profile is not changed


# --- port requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "hosts"),
    [("fixed", {"postgres": 5432, "redis": 6379}), ("range", {"postgres": None, "redis": None}),
     ("ephemeral", {"postgres": None, "redis": None})],
)
def test_port_requests_from_compose_model(model, strategy, hosts):
    requests = port_requests(make_profile(ports={"strategy": strategy}), model, {})
    assert [(r.key, r.strategy, r.host) for r in requests] == [
        ("postgres:5432/tcp", strategy, hosts["postgres"]), ("redis:6379/tcp", strategy, hosts["redis"])]
    assert {r.source for r in requests} == {"services.postgres.ports", "services.redis.ports"}


def test_profile_port_specs_replace_compose_ports(model):
    profile = make_profile(ports={"strategy": "range"}, services={"postgres": {"ports": [
        {"container": 5432, "strategy": "fixed", "host": 15432},
        {"container": 9187, "protocol": "udp", "strategy": "ephemeral"},
        {"container": 8008, "strategy": "fixed"},  # host defaults to the container port
    ]}})
    requests = {r.key: r for r in port_requests(profile, model, {})}
    assert set(requests) == {"postgres:5432/tcp", "postgres:9187/udp", "postgres:8008/tcp", "redis:6379/tcp"}
    assert (requests["postgres:5432/tcp"].strategy, requests["postgres:5432/tcp"].host) == ("fixed", 15432)
    assert (requests["postgres:9187/udp"].strategy, requests["postgres:9187/udp"].host) == ("ephemeral", None)
    assert requests["postgres:8008/tcp"].host == 8008
    assert requests["redis:6379/tcp"].strategy == "range"  # the profile's default


def test_compose_port_without_published_side(model):
    model["services"]["redis"]["ports"] = [{"target": 6379, "protocol": "tcp"}]
    (_, redis) = port_requests(make_profile(ports={"strategy": "fixed"}), model, {})
    assert (redis.strategy, redis.host) == ("fixed", 6379)


def test_env_variable_forces_fixed_port():
    profile = load_profile("alpine-test", dirs=[REAL_PROFILES])
    model = {"services": {s: {} for s in ("postgres", "redis", "backend", "auth", "frontend")}}
    environ = {"ALPINE_TEST_POSTGRES_PORT": "15432", "ALPINE_TEST_REDIS_PORT": ""}  # empty: not set
    requests = {r.service: r for r in port_requests(profile, model, environ)}
    postgres = requests["postgres"]
    assert (postgres.strategy, postgres.host, postgres.source) == ("fixed", 15432, "ALPINE_TEST_POSTGRES_PORT")
    assert (requests["redis"].strategy, requests["redis"].host) == ("range", None)
    assert [r.container for r in requests.values()] == [5432, 6379, 8000, 8081, 3000]


# --- the plan and its override ---------------------------------------------------------------------


def test_plan_labels_services_networks_and_volumes_but_not_external_ones(model):
    plan = plan_for(make_profile(name="mine", environment="dev"), model, name="mine-1")
    own = {L.MANAGED: "true", L.ENVIRONMENT: "mine-1", L.PROFILE: "mine", L.ENV_TYPE: "dev",
           L.OWNER: f"{getpass.getuser()}@{socket.gethostname()}"}
    assert plan.labels == own
    override = compose_override(plan)
    assert {s: o["labels"] for s, o in override["services"].items()} == {s: own for s in ("postgres", "redis", "worker")}
    assert override["networks"] == {"default": {"labels": own}}  # not "shared" (external)
    assert override["volumes"] == {"pgdata": {"labels": own}}  # not "outside" (external)
    assert plan.services == ("postgres", "redis", "worker")


def test_plan_without_networks_or_volumes(model):
    del model["networks"], model["volumes"]
    override = compose_override(plan_for(make_profile(), model))
    assert set(override) == {"services"}


def test_plan_service_settings(model):
    profile = make_profile(services={
        "postgres": {"memory": "512m", "cpus": 1.5, "tmpfs": ["/var/lib/postgresql/data:size=512m"],
                     "environment": {"POSTGRES_DB": "app"}, "command_args": ["-c", "fsync=off"]},
        "worker": {"command_args": ["--once"], "one_shot": True},
        "redis": {"command": ["redis-server", "--port", "6379"], "command_args": ["--save", ""]},
    })
    services = compose_override(plan_for(profile, model))["services"]
    postgres = services["postgres"]
    assert postgres["mem_limit"] == 512 * 1024**2
    assert postgres["cpus"] == 1.5
    assert postgres["deploy"] == {"resources": {"limits": {"memory": str(512 * 1024**2), "cpus": 1.5}}}  # as files may set them
    assert postgres["tmpfs"] == ["/var/lib/postgresql/data:size=512m"]
    assert postgres["environment"] == {"POSTGRES_DB": "app"}
    assert postgres["command"] == ["postgres", "-c", "fsync=off"]  # the compose command, then the args
    assert services["worker"]["command"] == ["python", "-m", "worker", "--verbose", "--once"]  # string split
    assert services["worker"]["labels"][L.ONE_SHOT] == "true"
    assert L.ONE_SHOT not in services["postgres"]["labels"]
    assert services["redis"]["command"] == ["redis-server", "--port", "6379", "--save", ""]  # profile's command
    assert "mem_limit" not in services["redis"] and "deploy" not in services["redis"] and "environment" not in services["worker"]


def test_plan_real_alpine_test_postgres(model):
    profile = load_profile("alpine-test", dirs=[REAL_PROFILES])
    model["services"] = {s: {"command": ["x"]} for s in ("postgres", "redis", "backend", "auth", "frontend")}
    postgres = compose_override(plan_for(profile, model))["services"]["postgres"]
    assert postgres["command"][:3] == ["x", "-c", "fsync=off"]
    assert postgres["mem_limit"] == 512 * 1024**2 and postgres["cpus"] == 1.0
    assert postgres["ports"] == ["127.0.0.1:35001:5432/tcp"]


def test_plan_ports(model):
    profile = make_profile(ports={"strategy": "range"}, services={"redis": {"ports": [{"container": 6379, "strategy": "ephemeral"}]}})
    plan = plan_for(profile, model, {}, host_ports={"postgres:5432/tcp": 35001, "redis:6379/tcp": 0})
    services = compose_override(plan)["services"]
    assert services["postgres"]["ports"] == ["127.0.0.1:35001:5432/tcp"]
    assert services["redis"]["ports"] == ["127.0.0.1::6379/tcp"]
    assert isinstance(services["postgres"]["ports"], Override)
    assert "ports" not in services["worker"]
    assert plan.ports == {"postgres:5432/tcp": 35001, "redis:6379/tcp": 0}
    assert plan.fixed_ports == frozenset()


def test_plan_fixed_ports_and_compose_ports_dropped(model):
    profile = make_profile(ports={"strategy": "fixed"}, services={"postgres": {"ports": [{"container": 5433}]}})
    plan = plan_for(profile, model)
    assert compose_override(plan)["services"]["postgres"]["ports"] == ["127.0.0.1:5433:5433/tcp"]  # 5432 not published
    assert plan.fixed_ports == {"postgres:5433/tcp", "redis:6379/tcp"}


def test_plan_ipv6_host_ip_bracketed(model):
    profile = make_profile(ports={"strategy": "ephemeral", "host_ip": "::1"})
    services = compose_override(plan_for(profile, model))["services"]
    assert services["postgres"]["ports"] == ["[::1]::5432/tcp"]


def test_plan_compose_service_with_ports_but_no_requests_gets_empty_override(model):
    # The compose file publishes a port but the request list is empty: the override still replaces the list,
    # so no host port from the compose file leaks into a parallel environment.
    profile = make_profile()
    plan = resolve_plan(profile, model, name="n", env={}, host_ports={}, requests=[])
    assert compose_override(plan)["services"]["postgres"]["ports"] == []
    assert isinstance(compose_override(plan)["services"]["postgres"]["ports"], Override)


def test_plan_paths_and_env(model, tmp_path):
    source = tmp_path / "profiles" / "p.toml"
    profile = make_profile(source=source, compose_files=["a.yml", "sub/b.yml"], env={"DOCKER_TAG": "x"})
    plan = plan_for(profile, model, {"BUILD_TARGET": "dev"})
    assert plan.compose_files == (tmp_path / "a.yml", tmp_path / "sub" / "b.yml")
    assert plan.env == {"DOCKER_TAG": "x", "BUILD_TARGET": "dev"}


def test_render_override(model):
    profile = make_profile(ports={"strategy": "range"}, services={"postgres": {"memory": "1g", "command_args": ["-c", "a=\"b\""]}})
    plan = plan_for(profile, model)
    text = render_override(compose_override(plan))
    assert text.startswith("# generated by netra-stack: do not edit\n") and text.endswith("}\n")
    assert '"ports": !override ["127.0.0.1:35001:5432/tcp"]' in text
    assert text.count("!override") == 2  # postgres and redis; worker publishes nothing
    body = text.split("\n", 1)[1].replace("!override ", "")
    assert json.loads(body) == compose_override(plan)  # JSON once the tag is removed: same content
    assert json.loads(body)["services"]["postgres"]["command"] == ["postgres", "-c", 'a="b"']


def test_render_override_empty_and_nested():
    assert render_override({"services": {"a": {"ports": Override([])}}}).splitlines()[1] == \
        '{"services": {"a": {"ports": !override []}}}'


@pytest.mark.parametrize(
    ("health", "expected"),
    [("pg_isready -h 127.0.0.1 -p 5432", ["pg_isready", "-h", "127.0.0.1", "-p", "5432"]),
     ("sh -c 'redis-cli ping | grep PONG'", ["sh", "-c", "redis-cli ping | grep PONG"]),
     (["curl", "-fsS", "http://x/health"], ["curl", "-fsS", "http://x/health"])],
)
def test_plan_health_command(model, health, expected):
    plan = plan_for(make_profile(services={"postgres": {"health": health}, "worker": {"one_shot": True}}), model)
    assert plan.health_command("postgres") == expected
    assert plan.health_command("worker") is None  # settings without health
    assert plan.health_command("redis") is None  # no settings at all
    assert plan.is_one_shot("worker") and not plan.is_one_shot("postgres") and not plan.is_one_shot("redis")


def test_port_map_with_ipv4_and_ipv6_bindings():
    from netra_stack.backends.compose.engine import parse_port_map
    from netra_stack.lifecycle.inventory import primary_ports

    bindings = parse_port_map("db", {"5432/tcp": [{"HostIp": "::", "HostPort": "35001"},
                                                  {"HostIp": "0.0.0.0", "HostPort": "35001"}],
                                     "9000/udp": [{"HostIp": "::1", "HostPort": "35002"}],
                                     "80/tcp": None})
    assert [(b.host_ip, b.host_port, b.protocol) for b in bindings] == [
        ("::", 35001, "tcp"), ("0.0.0.0", 35001, "tcp"), ("::1", 35002, "udp")]
    assert primary_ports(bindings) == {"db": 35001}


# --- compose models as people write them -----------------------------------------------------------

from netra_stack.planning.plan import compose_profiles, external_resources, shared_mounts  # noqa: E402

CHAIN = {"services": {
    "db": {"image": "db", "healthcheck": {"test": ["CMD", "true"]}},
    "migrate": {"image": "app", "depends_on": {"db": {"condition": "service_healthy", "required": True}}},
    "seed": {"image": "app", "depends_on": {"migrate": {"condition": "service_completed_successfully"}}},
    "web": {"image": "app", "container_name": "web", "networks": {"front": {"aliases": ["www"]}, "back": None},
            "depends_on": {"migrate": {"condition": "service_completed_successfully"},
                           "db": {"condition": "service_healthy", "restart": True},
                           "debug": {"condition": "service_healthy", "required": False}}},
    "tool": {"image": "tool", "container_name": "tool", "network_mode": "host", "stop_grace_period": "30s"},
}}


def test_services_others_wait_to_complete_are_one_shot_unless_the_profile_says_otherwise():
    assert plan_for(make_profile(), CHAIN).one_shot == {"migrate"}  # seed: nobody waits for it
    profile = make_profile(services={"seed": {"one_shot": False}, "tool": {"one_shot": True}})
    plan = plan_for(profile, CHAIN)
    assert plan.one_shot == {"migrate", "tool"} and plan.is_one_shot("tool") and not plan.is_one_shot("seed")
    assert compose_override(plan)["services"]["migrate"]["labels"][L.ONE_SHOT] == "true"


def test_healthy_gates_are_netra_stacks_and_every_other_condition_stays_composes():
    plan = plan_for(make_profile(), CHAIN)
    assert plan.gates == {"migrate": {"db"}, "web": {"db"}}  # `debug` is not in the model
    web = compose_override(plan)["services"]["web"]["depends_on"]
    assert web["db"] == {"condition": "service_started", "restart": True}
    assert web["migrate"] == {"condition": "service_completed_successfully"}
    assert web["debug"] == {"condition": "service_started", "required": False}
    assert "depends_on" not in compose_override(plan)["services"]["seed"]


def test_fixed_container_names_are_made_unique_and_kept_as_aliases():
    plan = plan_for(make_profile(), CHAIN, name="t-1")
    web = compose_override(plan)["services"]["web"]
    assert web["container_name"] == "t-1-web"
    assert web["networks"] == {"front": {"aliases": ["web", "www"]}, "back": {"aliases": ["web"]}}
    assert compose_override(plan)["services"]["tool"]["container_name"] == "t-1-tool"
    assert "networks" not in compose_override(plan)["services"]["tool"]  # host networking: nothing to alias on
    assert plan.container_names == {"web": "t-1-web", "tool": "t-1-tool"}


@pytest.mark.parametrize(("fields", "unique"), [
    ({}, True), ({"project_name": "netra-dev"}, False), ({"container_names": "keep"}, False),
    ({"project_name": "fixed", "container_names": "unique"}, True)])
def test_container_names_are_kept_where_the_profile_does_not_isolate_or_asks(fields, unique):
    plan = plan_for(make_profile(**fields), CHAIN, name="t-1")
    assert plan.container_names["web"] == ("t-1-web" if unique else "web")
    assert ("container_name" in compose_override(plan)["services"]["web"]) is unique


def test_stop_timeouts_2s_for_tests_the_files_own_wins_an_explicit_setting_wins_over_both():
    services = compose_override(plan_for(make_profile(), CHAIN))["services"]
    assert services["db"]["stop_grace_period"] == "2s" and "stop_grace_period" not in services["tool"]
    services = compose_override(plan_for(make_profile(environment="dev"), CHAIN))["services"]
    assert "stop_grace_period" not in services["db"]  # compose's own default
    profile = make_profile(stop_timeout=5, services={"db": {"stop_timeout": 0.5}})
    services = compose_override(plan_for(profile, CHAIN))["services"]
    assert (services["db"]["stop_grace_period"], services["tool"]["stop_grace_period"]) == ("0.5s", "5s")


def test_compose_profiles_from_the_profile_and_compose_profiles_once_each():
    profile = make_profile(compose_profiles=["debug"], env={"COMPOSE_PROFILES": "seed"})
    assert compose_profiles(profile, {"COMPOSE_PROFILES": "tools, debug"}) == ("debug", "tools")
    assert compose_profiles(profile, {}) == ("debug", "seed")


def test_external_resources_and_what_parallel_environments_would_share():
    model = {"services": {"db": {"volumes": [
        {"type": "volume", "source": "pgdata", "target": "/data"},
        {"type": "volume", "source": "shared", "target": "/shared"},
        {"type": "bind", "source": "/srv/conf", "target": "/conf", "read_only": True},
        {"type": "bind", "source": "/srv/data", "target": "/var/data"}]}},
        "volumes": {"pgdata": {}, "shared": {"external": True, "name": "team-shared"}},
        "networks": {"edge": {"external": True}}}
    assert external_resources(model) == [("volume", "team-shared"), ("network", "edge")]
    assert shared_mounts(make_profile(), model) == ["db: external volume shared", "db: bind mount /srv/data (writable)"]
    assert shared_mounts(make_profile(project_name="netra-dev"), model) == []  # one environment at a time


def test_the_owner_is_user_at_host_unless_netra_stack_owner_names_one():
    profile = make_profile()
    requests = port_requests(profile, CHAIN, {})
    plan = resolve_plan(profile, CHAIN, name="t-1", env={}, host_ports=host_ports_for(requests), requests=requests,
                        environ={"NETRA_STACK_OWNER": "ci-job-42"})
    assert plan.labels[L.OWNER] == "ci-job-42"
    assert plan_for(profile, CHAIN).labels[L.OWNER] == f"{getpass.getuser()}@{socket.gethostname()}"


@pytest.mark.parametrize(("value", "expected"), [("on", True), ("YES", True), ("1", True), ("true", True),
                                                  ("off", False), ("0", False), ("", False)])
def test_yes_no_variables_follow_one_rule(value, expected):
    from netra_stack.model.profiles import default_profile_name

    plan = plan_for(make_profile(), CHAIN, environ={"USE_PRODUCTION_IMAGES": value})
    assert plan.uses_production_images is expected
    assert (default_profile_name({"USE_ALPINE": value}) == "alpine-test") is expected


def test_the_graph_knows_conditions_gates_and_what_holds_a_service_back():
    from netra_stack.planning.graph import COMPLETED, HEALTHY, Graph

    graph = Graph.from_model(CHAIN)
    assert graph.awaited(COMPLETED) == {"migrate"} and graph.awaited(HEALTHY) == {"db", "debug"}
    assert graph.gates("web") == {"db"}  # debug is no service of the model
    assert graph.upstream("seed") == {"migrate", "db"}
    assert graph.holds("seed") == {"db"}  # through migrate, which compose starts with it
    assert graph.holds("db") == set() and graph.depends_on("web") == ["migrate", "db", "debug"]
    assert Graph.from_model({"services": {"a": {"depends_on": ["b"]}, "b": {}}}).edges == {
        "a": {"b": {"condition": "service_started"}}, "b": {}}


def test_the_plan_keeps_each_healthcheck_test_as_the_files_say_it():
    model = {"services": {
        "db": {"healthcheck": {"test": ["CMD", "sh", "-c", "test -f /ready && echo ok"]}},
        "off": {"healthcheck": {"test": ["CMD", "true"], "disable": True}},
        "plain": {"image": "busybox"},
        "empty": None,
    }}
    assert healthcheck_tests(model) == {"db": ("CMD", "sh", "-c", "test -f /ready && echo ok")}
