"""Build-cache policies on the real engine: content-hash builds exactly when what the build reads
has changed, and what runs afterwards is always the current code; no-cache always builds
afresh; rebuild forces; production images are never built; and the fingerprint's idea of the
context is BuildKit's own."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import urllib.request
from datetime import datetime

import pytest

from netra_stack import StackManager
from tests.engine import engine
from netra_stack.model import labels as L
from netra_stack.model.errors import ExitCode
from netra_stack.model.instances import ImageInfo
from netra_stack.planning.fingerprint import IgnoreRules, context_entries

from ..conftest import REPO
from .conftest import BUSYBOX, run_cli


def up(env: dict, profile: str = "mini-build", **options) -> tuple[StackManager, str]:
    manager = StackManager(profile, environ=env, **options)
    name, _ = manager.acquire_environment()
    return manager, name


def built(manager: StackManager) -> tuple[bool, str]:
    (outcome,) = manager.builds
    return outcome.built, outcome.reason


def read_in(name: str, path: str) -> str:
    """A file as the running `built` container of an environment sees it."""
    (container,) = [c for c in engine.containers(name) if c.service == "built"]
    code, output, _ = engine.execute(container.id, ["cat", path])
    assert code == 0, output
    return output.strip()


def image_of(env: dict) -> ImageInfo:
    return engine.image(f"netra-test/mini-built:{env['DOCKER_TAG']}")


def test_content_hash_builds_exactly_when_the_inputs_change(mini_build):
    env, root = mini_build
    manager, name = up(env)
    assert built(manager) == (True, f"no image netra-test/mini-built:{env['DOCKER_TAG']}")
    assert read_in(name, "/app/app.txt") == "version 1"
    first = image_of(env)
    assert first.labels[L.FINGERPRINT].startswith("sha256:") and L.is_ours(first.labels)
    manager.release_environment(name)

    manager, name = up(env)  # nothing changed
    assert built(manager)[0] is False and built(manager)[1].startswith("unchanged, fingerprint ")
    assert image_of(env).id == first.id
    manager.release_environment(name)

    (root / "built" / "notes" / "todo.txt").write_text("changed, but .dockerignored\n")
    (root / "built" / "README.md").write_text("# changed, but .dockerignored\n")
    manager, name = up(env)
    assert built(manager)[0] is False
    manager.release_environment(name)

    (root / "built" / "app.txt").write_text("version 2\n")  # a one-line change
    manager, name = up(env)
    assert built(manager)[0] is True and built(manager)[1].startswith("fingerprint changed, ")
    assert read_in(name, "/app/app.txt") == "version 2"
    assert engine.image(first.id) is None  # the image it replaced is gone, not left dangling
    manager.release_environment(name)

    (root / "built" / "KEEP.md").write_text("an exception to *.md: in the image\n")
    manager, name = up(env)
    assert built(manager)[0] is True
    assert read_in(name, "/app/KEEP.md") == "an exception to *.md: in the image"
    manager.release_environment(name)

    env["MINI_GREETING"] = "bonjour"  # a changed build arg (compose reads it from the manager's environment)
    manager, name = up(env)
    assert built(manager)[0] is True and built(manager)[1].startswith("fingerprint changed, ")
    assert read_in(name, "/greeting.txt") == "bonjour"
    manager.release_environment(name)


def test_no_cache_builds_every_time_without_the_layer_cache(mini_build):
    env, root = mini_build
    (root / "profiles" / "mini-build-fresh.toml").write_text(
        'extends = "mini-build"\n[services.built]\nbuild_cache = "no-cache"\n')  # per service
    stamps = []
    for version in ("1", "2", "2"):
        (root / "built" / "app.txt").write_text(f"version {version}\n")
        manager, name = up(env, "mini-build-fresh")
        (outcome,) = manager.builds
        assert outcome.built and outcome.no_cache and outcome.reason == "build_cache = no-cache"
        assert read_in(name, "/app/app.txt") == f"version {version}"
        stamps.append(read_in(name, "/built.txt"))  # written by a RUN step: the same if cached
        manager.release_environment(name)
    assert len(set(stamps)) == 3  # no layer came from the cache, even with nothing changed

    manager, name = up(env, no_cache_app_code=False)  # the seed's option overrides the profile's
    assert built(manager) == (True, "build_cache = layer-cache")
    manager.release_environment(name)


def test_the_cli_reports_each_build_and_rebuild_forces_one(mini_build):
    env, _ = mini_build
    result = run_cli("up", "--profile", "mini-build", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    name, (outcome,) = report["environment"], report["builds"]
    assert outcome["service"] == "built" and outcome["built"] and outcome["seconds"] > 0
    assert f"built: built in {outcome['seconds']:.1f}s (no image netra-test/mini-built:" in result.stderr

    before = image_of(env).id
    result = run_cli("rebuild", "--profile", "mini-build", "--name", name, "--services", "built", "--no-cache",
                     env=env)
    assert result.returncode == 0, result.stderr
    assert "built: built in" in result.stderr and "(forced: rebuild --no-cache)" in result.stderr
    assert image_of(env).id != before  # and the running service uses it
    assert engine.image(before) is None  # the image it replaced, once the service was recreated
    assert "built: removed the image it replaced" in result.stderr
    (container,) = [c for c in engine.containers(name) if c.service == "built"]
    assert engine.client().api.inspect_container(container.id)["Image"] == image_of(env).id

    # With the layer cache the image comes out the same: the service is recreated all the same.
    image = image_of(env).id
    result = run_cli("rebuild", "--profile", "mini-build", "--name", name, "--services", "built", env=env)
    assert result.returncode == 0, result.stderr
    assert "(forced: rebuild)" in result.stderr and "recreating built" in result.stderr
    assert image_of(env).id == image
    (again,) = [c for c in engine.containers(name) if c.service == "built"]
    assert again.id != container.id and engine.client().api.inspect_container(again.id)["State"]["Running"]
    run_cli("down", "--profile", "mini-build", "--name", name, env=env)


def started_at(container_id: str) -> float:
    """When a container last started, in seconds since the epoch (the engine gives nanoseconds)."""
    text = engine.client().api.inspect_container(container_id)["State"]["StartedAt"]
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", text).replace("Z", "+00:00")).timestamp()


def test_services_that_need_no_build_start_while_the_builds_run(mini_build):
    """web and worker are not built and need nothing built: they start while `built` builds, and
    the `up` after the build keeps them as they are."""
    env, root = mini_build
    dockerfile = root / "built" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("RUN echo", "RUN sleep 4 && date +%s > /finished && echo"))
    (root / "built" / "app.txt").write_text(f"version {secrets.token_hex(4)}\n")  # no layer cache for that step
    manager, name = up(env)
    assert built(manager)[0] is True
    build_finished = int(read_in(name, "/finished"))  # after its 4 s
    started = {c.service: started_at(c.id) for c in engine.containers(name)}
    assert started["web"] < build_finished and started["worker"] < build_finished, (started, build_finished)
    assert started["built"] > build_finished
    assert manager.get_health_report(name).healthy
    manager.release_environment(name)


def test_production_images_are_used_as_they_are(mini_build):
    env, root = mini_build
    manager, name = up(env)
    manager.release_environment(name)
    (root / "built" / "app.txt").write_text("not deployed: production images are not rebuilt\n")
    manager, name = up({**env, "USE_PRODUCTION_IMAGES": "true"})
    assert built(manager) == (False, "USE_PRODUCTION_IMAGES: using the existing image")
    assert read_in(name, "/app/app.txt") == "version 1"
    before = image_of(env).id
    refused = run_cli("rebuild", "--profile", "mini-build", "--name", name, env={**env, "USE_PRODUCTION_IMAGES": "true"})
    assert refused.returncode == ExitCode.USAGE
    assert refused.stderr.strip().splitlines() == [
        "error: USE_PRODUCTION_IMAGES is set: production images are used as they are, never rebuilt "
        "(hint: unset USE_PRODUCTION_IMAGES to build the images)"]
    assert image_of(env).id == before
    manager.release_environment(name)


def test_the_fingerprint_sees_the_context_buildkit_sends(tmp_path, built_images):
    """The same .dockerignore rules, applied by BuildKit (through compose) and by the fingerprint,
    give the same files."""
    context = tmp_path / "ctx"
    files = ["Dockerfile", "app/main.py", "app/main.pyc", "app/cache/x.bin", "docs/guide.md", "docs/deep/more.md",
             "docs/deep/keep.md", "notes/a.txt", "notes/b.txt", "a1.log", "ab1.log", "b.txt", "vendor/lib/x.py",
             "src/vendor/y.py", "build/out/z", ".env", ".git/HEAD"]
    for relative in files:
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        (context / relative).write_text(relative)
    (context / "Dockerfile").write_text(f"FROM {BUSYBOX}\nCOPY . /ctx/\n")
    (context / ".dockerignore").write_text("\n".join([
        "# everything the context walk has to get right", "**/*.pyc", "app/cache", "docs/**", "!docs/deep/keep.md",
        "notes", "!notes/b.txt", "?1.log", "[bc].txt", "/vendor", "build/", ".git", ".env", ""]))
    image = f"netra-test/context-check:{tmp_path.name[-8:].lower()}"
    (tmp_path / "compose.yml").write_text(
        f"services:\n  ctx:\n    build:\n      context: ctx\n      labels: {{{L.MANAGED}: \"true\"}}\n"
        f"    image: {image}\n")
    subprocess.run(["docker", "compose", "-f", str(tmp_path / "compose.yml"), "-p", "netra-context-check", "build"],
                   check=True, capture_output=True, timeout=300)
    listing = engine.client().containers.run(image, ["find", "/ctx", "-mindepth", "1"], remove=True)
    sent = {line.removeprefix("/ctx/") for line in listing.decode().split()}
    ours = {relative for relative, _ in context_entries(context, IgnoreRules.for_build(context, context / "Dockerfile"))}
    assert sent == ours
    assert "docs/deep/keep.md" in ours and "notes/b.txt" in ours and "ab1.log" in ours  # exceptions, non-matches
    assert not {"app/main.pyc", "a1.log", "b.txt", ".env", "vendor/lib/x.py"} & ours


@pytest.mark.slow
def test_a_one_line_change_to_the_example_backend_is_what_runs(tmp_path, monkeypatch, built_images):
    """The example stack (its regular images: the build policy is what is tested), copied so that
    its backend can be edited, with images of its own tag."""
    for folder in ("compose", "profiles", "plugins"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    monkeypatch.setenv("NETRA_STACK_PROFILE_PATH", str(tmp_path / "profiles"))
    monkeypatch.setenv("DOCKER_TAG", f"t{secrets.token_hex(4)}")  # this run's: never one a killed run left
    for var in ("COMPOSE_PROJECT_NAME", "USE_PRODUCTION_IMAGES", "BUILD_TARGET"):
        monkeypatch.delenv(var, raising=False)
    app = tmp_path / "compose" / "services" / "backend" / "app.py"

    def up_and_ask(version: str, **options) -> dict[str, object]:
        app.write_text(app.read_text().replace(next(line for line in app.read_text().splitlines()
                                                    if line.startswith("VERSION = ")), f'VERSION = "{version}"'))
        manager = StackManager("test", **options)
        name, ports = manager.acquire_environment()
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['backend']}/version", timeout=5) as response:
            assert json.loads(response.read())["version"] == version
        manager.release_environment(name)
        return {b.service: b for b in manager.builds}

    first = up_and_ask("1.0.0")
    assert all(b.built and b.reason.startswith("no image netra-example/") for b in first.values()), first
    changed = up_and_ask("1.0.1")  # content-hash: what reads the changed file is built again
    assert changed["backend"].built and changed["backend"].reason.startswith("fingerprint changed")
    # auth shares the backend's context (compose/services), so it is built too, from the layer cache
    assert {s for s, b in changed.items() if b.built} == {"backend", "auth"}, changed
    fresh = up_and_ask("1.0.2", no_cache_app_code=True)  # the seed's no-cache: everything, from scratch
    assert all(b.built and b.no_cache for b in fresh.values()), fresh
    again = up_and_ask("1.0.2")  # and content-hash trusts what no-cache built
    assert not any(b.built for b in again.values()), again

    monkeypatch.setenv("BUILD_TARGET", "dev")  # the seed's variable: another target, so another fingerprint
    manager = StackManager("test")
    name, _ = manager.acquire_environment()
    targeted = {b.service: b for b in manager.builds}
    assert {s for s, b in targeted.items() if b.built} == {"backend", "auth"}, targeted
    assert targeted["backend"].reason.startswith("fingerprint changed")
    (backend,) = [c for c in engine.containers(name) if c.service == "backend"]
    assert "APP_DEBUG=1" in engine.client().api.inspect_container(backend.id)["Config"]["Env"]  # the dev stage
    manager.release_environment(name)
