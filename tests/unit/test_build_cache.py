"""The content-hash build cache without Docker: .dockerignore semantics, base images, the
fingerprint, the policy's decisions and build ordering. (tests/integration/test_build_cache.py
checks the same rules against what BuildKit really sends.)"""

from __future__ import annotations

import os

import pytest

from netra_stack.backends.compose.override import compose_override
from netra_stack.model import labels as L
from netra_stack.plugins.builtin.cache import decide
from netra_stack.planning.fingerprint import IgnoreRules, NotFingerprintable, base_images, context_entries, fingerprint
from netra_stack.planning.graph import Graph
from netra_stack.planning.plan import built_image_name, resolve_plan
from netra_stack.model.profiles import Profile

# --- .dockerignore ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    (["notes"], "notes", True),
    (["notes"], "notes/todo.txt", True),  # a matching directory takes its contents along
    (["notes/"], "notes/a/b.txt", True),  # trailing slash cleaned away
    (["notes"], "src/notes", False),  # patterns are anchored at the context root
    (["/notes"], "notes/x", True),  # a leading slash means the root too
    (["*.md"], "README.md", True),
    (["*.md"], "docs/README.md", False),  # `*` does not cross directories
    (["**/*.md"], "docs/deep/README.md", True),
    (["**/*.md"], "README.md", True),  # `**/` matches zero directories as well
    (["docs/**"], "docs/a/b", True),
    (["docs/**"], "docs", False),  # its contents go, the (then empty) directory stays
    (["a/**/z"], "a/z", True),
    (["a/**/z"], "a/b/c/z", True),
    (["?.txt"], "a.txt", True),
    (["?.txt"], "ab.txt", False),
    (["[ab].txt"], "b.txt", True),
    (["[ab].txt"], "c.txt", False),
    (["*.md", "!KEEP.md"], "KEEP.md", False),  # an exception re-includes
    (["!KEEP.md", "*.md"], "KEEP.md", True),  # the last matching pattern decides
    (["notes", "!notes/keep"], "notes/keep", False),
    (["notes", "!notes/keep"], "notes/other", True),
    (["# a comment", "", "   "], "# a comment", False),  # comments and blank lines are not patterns
    (["  spaced.txt  "], "spaced.txt", True),  # surrounding space trimmed
    (["a.b"], "axb", False),  # a dot is a dot
    (["./build"], "build/out", True),
])
def test_ignore_rules(patterns, path, excluded):
    assert IgnoreRules(patterns).excludes(path) is excluded


def make_tree(root, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_context_walk_prunes_excluded_directories_but_honours_exceptions(tmp_path):
    make_tree(tmp_path, {"Dockerfile": "FROM x", "app/main.py": "", "node_modules/a/index.js": "",
                         "notes/keep.txt": "", "notes/drop.txt": ""})
    found = {p for p, _ in context_entries(tmp_path, IgnoreRules(["node_modules", "notes", "!notes/keep.txt"]))}
    # notes/ itself comes along with its re-included file, as BuildKit sends it
    assert found == {"Dockerfile", "app", "app/main.py", "notes", "notes/keep.txt"}


def test_dockerfile_specific_ignore_file_wins(tmp_path):
    make_tree(tmp_path, {".dockerignore": "a.txt\n", "build/app.Dockerfile": "FROM x",
                         "build/app.Dockerfile.dockerignore": "b.txt\n"})
    rules = IgnoreRules.for_build(tmp_path, tmp_path / "build" / "app.Dockerfile")
    assert rules.excludes("b.txt") and not rules.excludes("a.txt")
    assert IgnoreRules.for_build(tmp_path, tmp_path / "Dockerfile").excludes("a.txt")


# --- base images -----------------------------------------------------------------------------------


def test_base_images_with_args_stages_and_copy_from():
    dockerfile = """
        # syntax=docker/dockerfile:1
        ARG BASE_IMAGE=debian:bookworm
        ARG TOOLS
        FROM ${BASE_IMAGE} AS app
        FROM --platform=linux/amd64 app AS dev
        FROM scratch
        COPY --from=app /x /x
        COPY --from=registry.example/tools:${TOOLS:-1.0} \\
             /bin/tool /bin/tool
        COPY --from=0 /y /y
    """
    assert base_images(dockerfile, {}) == ["debian:bookworm", "registry.example/tools:1.0"]
    assert base_images(dockerfile, {"BASE_IMAGE": "local/base:2", "TOOLS": "3"}) == ["local/base:2",
                                                                                     "registry.example/tools:3"]


# --- fingerprints ----------------------------------------------------------------------------------


@pytest.fixture
def context(tmp_path):
    make_tree(tmp_path, {"Dockerfile": "ARG BASE=base:1\nFROM $BASE\nCOPY . /app\n", "app.py": "VERSION = 1\n",
                         "notes/todo.txt": "later", ".dockerignore": "notes\n"})
    return tmp_path


def bases(reference: str) -> str:
    return {"base:1": "sha256:aaa", "base:2": "sha256:bbb"}.get(reference)


def fp(context, **build) -> str:
    return fingerprint({"context": str(context), "dockerfile": "Dockerfile", **build}, bases)


def test_fingerprint_is_stable_and_ignores_what_the_build_does_not_read(context):
    first = fp(context)
    assert first.startswith("sha256:") and fp(context) == first
    (context / "notes" / "todo.txt").write_text("now")  # .dockerignored
    os.utime(context / "app.py", (1, 1))  # timestamps are not content
    assert fp(context) == first


@pytest.mark.parametrize("change", [
    lambda c: (c / "app.py").write_text("VERSION = 2\n"),  # one line of code
    lambda c: (c / "new.txt").write_text(""),  # a new file
    lambda c: (c / "app.py").chmod(0o755),  # a mode
    lambda c: (c / "Dockerfile").write_text("ARG BASE=base:1\nFROM $BASE\nCOPY . /srv\n"),
    lambda c: (c / ".dockerignore").write_text(""),  # notes/ comes into the context
])
def test_fingerprint_changes_with_what_the_build_reads(context, change):
    before = fp(context)
    change(context)
    assert fp(context) != before


def test_fingerprint_covers_args_target_and_base_image_ids(context):
    plain = fp(context)
    assert fp(context, args={"BASE": "base:2"}) != plain  # another base image
    assert fp(context, args={"OTHER": "x"}) != plain  # any build arg
    assert fp(context, target="dev") != plain
    moved = fingerprint({"context": str(context), "dockerfile": "Dockerfile"}, lambda ref: "sha256:rebuilt")
    assert moved != plain  # the same base reference, rebuilt: a new id


def test_fingerprint_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(NotFingerprintable, match="remote"):
        fingerprint({"context": "https://github.com/example/app.git"}, bases)
    with pytest.raises(NotFingerprintable, match="not a directory"):
        fingerprint({"context": str(tmp_path / "missing")}, bases)
    with pytest.raises(NotFingerprintable, match="cannot read"):
        fingerprint({"context": str(tmp_path), "dockerfile": "Nope.Dockerfile"}, bases)


# --- decisions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "existing", "built", "no_cache", "reason"), [
    ("content-hash", {L.FINGERPRINT: "sha256:" + "1" * 64}, False, False, "unchanged, fingerprint 111111111111"),
    ("content-hash", {L.FINGERPRINT: "sha256:" + "0" * 64}, True, False,
     "fingerprint changed, 000000000000 -> 111111111111"),
    ("content-hash", None, True, False, "no image app:latest"),
    ("content-hash", {}, True, False, "image app:latest carries no fingerprint"),
    ("no-cache", {L.FINGERPRINT: "sha256:" + "1" * 64}, True, True, "build_cache = no-cache"),
    ("layer-cache", {L.FINGERPRINT: "sha256:" + "1" * 64}, True, False, "build_cache = layer-cache"),
])
def test_decisions(policy, existing, built, no_cache, reason):
    decision = decide(policy, "sha256:" + "1" * 64, "app:latest", existing)
    assert (decision.build, decision.no_cache, decision.reason) == (built, no_cache, reason)
    assert decision.labels == {L.FINGERPRINT: "sha256:" + "1" * 64}  # every build records it


def test_decision_without_a_fingerprint_builds_with_the_layer_cache():
    decision = decide("content-hash", None, "app:latest", None, "the build context https://x is remote")
    assert decision.build and not decision.no_cache and decision.labels == {}
    assert decision.reason == "the build context https://x is remote: built with the layer cache"


def test_policy_per_profile_and_per_service():
    profile = Profile.model_validate({"name": "p", "compose_files": ["c.yml"],
                                      "services": {"backend": {"build_cache": "no-cache"}}})
    assert profile.build_cache == "content-hash"  # the default
    assert profile.build_cache_of("backend") == "no-cache" and profile.build_cache_of("auth") == "content-hash"
    forced = profile.with_build_cache("layer-cache")  # no_cache_app_code=False: every service
    assert forced.build_cache_of("backend") == "layer-cache" and forced.build_cache_of("auth") == "layer-cache"


# --- planning --------------------------------------------------------------------------------------


def graph(depends: dict[str, list[str]]) -> Graph:
    return Graph.from_model({"services": {s: {"depends_on": d} for s, d in depends.items()}})


def test_build_waves_follow_depends_on():
    depends = {"frontend": ["backend"], "backend": ["postgres", "base"], "auth": ["postgres"], "postgres": [],
               "base": []}
    # postgres is not built: frontend still waits for base, through backend
    assert graph(depends).build_waves(["frontend", "auth", "base", "backend"]) == [["auth", "base"], ["backend"],
                                                                                  ["frontend"]]
    assert graph({"a": ["b"], "b": ["a"]}).build_waves(["a", "b"]) == [["a", "b"]]  # a cycle: together


def test_what_starts_while_the_builds_run_needs_nothing_that_is_built():
    depends = {"frontend": ["backend"], "backend": ["postgres", "redis"], "auth": ["postgres"], "postgres": [],
               "redis": [], "proxy": ["frontend"], "worker": ["redis"]}
    services = ["postgres", "redis", "backend", "auth", "frontend", "proxy", "worker"]
    # frontend and proxy need the backend, directly or not; auth and worker need nothing built
    assert graph(depends).startable_while_building(services, ["backend"]) == ["postgres", "redis", "auth", "worker"]
    assert graph(depends).startable_while_building(services, ["postgres"]) == ["redis", "worker"]
    assert graph(depends).startable_while_building(services, []) == services


def test_services_without_an_image_name_build_one_shared_by_every_environment(tmp_path):
    profile = Profile.model_validate({"name": "p", "compose_files": ["c.yml"], "project_dir": ".",
                                      "source": tmp_path / "My Project" / "p.toml"})
    model = {"services": {"api": {"build": {"context": "."}}, "named": {"build": {"context": "."}, "image": "x/y:1"},
                          "db": {"image": "postgres"}}}
    plans = [resolve_plan(profile, model, name=name, env={}, host_ports={}, requests=[]) for name in ("p-1", "p-2")]
    assert built_image_name(profile, "api") == "myproject-api"
    for plan in plans:
        assert plan.images == {"api": "myproject-api", "named": "x/y:1"}
        assert compose_override(plan)["services"]["api"]["image"] == "myproject-api"
        assert "image" not in compose_override(plan)["services"]["named"]
