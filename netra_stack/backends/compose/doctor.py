"""`netra-stack doctor`'s look at a Docker engine: which engine answers and its versions, the
Compose plugin, buildx, and whether a memory limit is really enforced on a container (a
container is started with one and reads its own cgroup)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from netra_stack.backends.compose.engine import UNREACHABLE_HINT, Engine
from netra_stack.model import labels as L
from netra_stack.model.errors import NetraError
from netra_stack.model.findings import FAIL, OK, WARN, Finding
from netra_stack.planning.plan import owner_of

IMAGE_VAR = "NETRA_STACK_DOCTOR_IMAGE"  # the image the memory limit is tried with
SMALL_IMAGES = ("busybox", "alpine")  # otherwise the first local one of these
LIMIT = 32 * 1024 * 1024
READ_LIMIT = "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
TIMEOUT = 20.0  # seconds any one look may take
PODMAN_HEALTHCHECKS = [Finding(
    "healthchecks", OK, "Podman runs healthchecks only through systemd timers: netra-stack runs each "
    "healthcheck's test itself while it waits", "outside netra-stack, `docker compose up --wait` can wait forever "
    "where the engine's machine has no systemd")]


def diagnose(engine: Engine, environ: Mapping[str, str]) -> list[Finding]:
    """The engine first; then, if it answers, Compose, buildx and the limit side by side."""
    found, info = _engine(engine)
    if found.status == FAIL:
        return [found]
    podman = engine.is_podman
    with ThreadPoolExecutor(3) as pool:
        rest = [pool.submit(_compose), pool.submit(_buildx, environ, podman),
                pool.submit(_memory_limit, engine, info, environ)]
        return [found, *(future.result() for future in rest), *(PODMAN_HEALTHCHECKS if podman else [])]


def _engine(engine: Engine) -> tuple[Finding, dict]:
    """What answers at the engine's address, and its `info`."""
    try:
        where = engine.address
        client = engine.client()
        version, info = engine.version, client.info()
    except NetraError as exc:
        return Finding("engine", FAIL, exc.message, exc.hint or ""), {}
    except Exception as exc:  # the engine went away between the ping and these calls
        return Finding("engine", FAIL, f"the engine at {where} failed to answer: {exc}", UNREACHABLE_HINT), {}
    product = "Podman" if engine.is_podman else "Docker Engine"
    rootless = any("rootless" in option for option in info.get("SecurityOptions") or [])
    detail = (f"{product} {version.get('Version', '?')} (API {version.get('ApiVersion', '?')}) at {where}, "
              f"{version.get('Os', '?')}/{version.get('Arch', '?')}, cgroup v{info.get('CgroupVersion', '?')}"
              f"{', rootless' if rootless else ''}")
    return Finding("engine", OK, detail), info


def _compose() -> Finding:
    from netra_stack.backends.compose.project import check_compose

    try:
        return Finding("compose", OK, check_compose())
    except NetraError as exc:
        return Finding("compose", FAIL, exc.message, exc.hint or "")


def _buildx(environ: Mapping[str, str], podman: bool) -> Finding:
    if podman:
        return Finding("buildx", OK, "not used: Podman builds with its own builder (netra-stack sets DOCKER_BUILDKIT=0)")
    try:
        done = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True, env=dict(environ),
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = str(exc)
    else:
        if done.returncode == 0:
            return Finding("buildx", OK, done.stdout.strip().splitlines()[0] if done.stdout.strip() else "present")
        text = (done.stderr or done.stdout).strip()
        reason = text.splitlines()[0] if text else f"exit {done.returncode}"
    return Finding("buildx", WARN, f"`docker buildx` is not available ({reason}): builds use the legacy builder, "
                   "without BuildKit's cache", "install the buildx plugin (Debian: docker-buildx)")


def _memory_limit(engine: Engine, info: dict, environ: Mapping[str, str]) -> Finding:
    """A container started with a 32 MiB limit reads its cgroup's: the limit is enforced, or not."""
    client = engine.client()
    if not info.get("MemoryLimit", True):
        return Finding("memory limits", FAIL, "the engine says it cannot limit memory (MemoryLimit: false)",
                       "enable the memory cgroup controller (e.g. cgroup_enable=memory on the kernel command line)")
    image = environ.get(IMAGE_VAR) or _small_image(client)
    if not image:
        return Finding("memory limits", WARN, "not tried: no small local image (busybox, alpine) to start a "
                       "container from", f"pull or build one, or name an image with /bin/sh in {IMAGE_VAR}")
    labels = {**L.ownership_labels(f"doctor-{os.getpid()}", "doctor", "doctor", owner_of(environ)),
              L.SERVICE: "memory-limit"}
    container = None
    try:
        container = client.containers.create(image, ["sh", "-c", READ_LIMIT], mem_limit=LIMIT, network_mode="none",
                                             labels=labels, entrypoint=[])
        container.start()
        code = container.wait(timeout=TIMEOUT).get("StatusCode")
        output = container.logs().decode("utf-8", "replace").strip()
    except Exception as exc:
        return Finding("memory limits", WARN, f"not tried: a container of {image} could not run: "
                       f"{str(exc).splitlines()[0]}", f"name an image with /bin/sh in {IMAGE_VAR}")
    finally:
        if container is not None:
            container.remove(force=True)
    if code == 0 and output.isdigit() and int(output) == LIMIT:
        return Finding("memory limits", OK, f"enforced: a container given 32 MiB has a {LIMIT}-byte cgroup limit")
    return Finding("memory limits", FAIL, f"not enforced: a container given 32 MiB reads {output or f'exit {code}'} "
                   "as its cgroup limit", "enable the memory cgroup controller; rootless Docker needs cgroup v2 with "
                   "memory delegated to the user (systemd: Delegate=memory)")


def _small_image(client) -> str | None:
    for image in client.images.list():
        for tag in image.tags:
            name = tag.rsplit("/", 1)[-1]
            if name.startswith(SMALL_IMAGES):
                return tag
    return None
