"""Getting the images netra-stack built on the local engine to where an orchestrator runs them:
pushed to a registry every node pulls from, or loaded into a node's container runtime (no
registry: the way kind loads images)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

from netra_stack.backends.processes import last_line, run_docker
from netra_stack.model.errors import EngineError

IMAGE = "{image}"  # in a load command: the image's name, for a loader that takes names, not a tar


def pushed(registry: str, image: str) -> str:
    """An image's name in a registry."""
    return f"{registry}/{image}"


def push(environ: Mapping[str, str], registry: str, images: Sequence[str]) -> None:
    """Tag each image with the registry's name for it and push it there, from the local engine."""
    for image in images:
        try:
            run_docker(environ, "tag", image, pushed(registry, image), timeout=60)
            run_docker(environ, "push", "--quiet", pushed(registry, image), timeout=600)
        except EngineError as error:
            message = f"pushing {image} to registry {registry} failed: {error}"
            raise EngineError(message, hint="the local engine must reach the registry, and trust it "
                                            "(insecure-registries, for one without TLS)", stderr=message) from None


def load(environ: Mapping[str, str], image: str, argv: Sequence[str], *, where: str,
         env: Mapping[str, str] | None = None) -> None:
    """Load an image of the local engine with a command (run without a shell): `docker save`'s
    tar on its stdin, or, where an argument holds {image}, its name there instead (`kind load
    docker-image {image}`). `env`: the command's environment (default: `environ`); `where`
    names the destination in errors."""
    env = dict(env if env is not None else environ)
    command = [arg.replace(IMAGE, image) for arg in argv]
    try:
        if any(IMAGE in arg for arg in argv):
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
            saved_ok = True
        else:
            saved = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=dict(environ))
            done = subprocess.run(command, stdin=saved.stdout, capture_output=True, text=True, env=env, timeout=600)
            saved.stdout.close()
            saved_ok = saved.wait() == 0
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EngineError(f"loading {image} into {where} failed: {error}", stderr=str(error)) from None
    if not saved_ok or done.returncode != 0:
        text = (done.stderr or done.stdout or "docker save failed").strip()
        raise EngineError(f"loading {image} into {where} failed: {last_line(text)}",
                          hint=f"the load command was: {' '.join(command)}", stderr=text)
