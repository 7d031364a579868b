"""Starting a Docker engine that cannot be reached: the command that starts it on this platform
(or the one configured), run without a shell and bounded, then a wait until the engine answers,
each step said; what was tried is in the error when it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from netra_stack.model.errors import DockerUnavailableError

HINT = "start it by hand, or name the command that does in the profile's engine.start_command"


def start_command(platform: str = sys.platform, environ: Mapping[str, str] = os.environ,
                  which: Callable[[str], str | None] = shutil.which,
                  systemd: Callable[[], bool] = lambda: Path("/run/systemd/system").is_dir()) -> tuple[list[str], str]:
    """The command that starts the engine on this platform, and what chose it."""
    if platform == "darwin":
        return ["open", "-a", "Docker"], "macOS: Docker Desktop"
    if platform == "win32":
        folder = Path(environ.get("ProgramFiles") or r"C:\Program Files")
        return [str(folder / "Docker" / "Docker" / "Docker Desktop.exe")], "Windows: Docker Desktop"
    if systemd() and which("systemctl"):
        return ["systemctl", "start", "docker"], "systemd runs this machine's services"
    if which("service"):
        return ["service", "docker", "start"], "no systemd: the service script"
    raise DockerUnavailableError("cannot start the Docker engine: neither systemd nor `service` is here", hint=HINT)


def start_engine(reachable: Callable[[], bool], where: str, command: list[str] | None, timeout: float,
                 on_line: Callable[[str], None], environ: Mapping[str, str]) -> None:
    """Run the start command (`command`, else the platform's), then wait until `reachable()`;
    both within `timeout` seconds. The command's output goes to a file, not a pipe: a command that
    leaves a daemon behind holding its output would keep a pipe open."""
    argv, why = (command, "configured") if command else start_command(environ=environ)
    shown = " ".join(argv)
    on_line(f"the engine at {where} cannot be reached: starting it with `{shown}` ({why})")
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        try:
            done = subprocess.run(argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=timeout, env=dict(environ))
        except FileNotFoundError:
            raise DockerUnavailableError(f"cannot start the Docker engine: `{shown}` ({why}): {argv[0]} not found",
                                         hint=HINT) from None
        except subprocess.TimeoutExpired:
            raise DockerUnavailableError(f"cannot start the Docker engine: `{shown}` ({why}) did not finish within "
                                         f"{timeout:.0f}s{_said(output)}", hint=HINT) from None
        if done.returncode != 0:
            raise DockerUnavailableError(f"cannot start the Docker engine: `{shown}` ({why}) exited "
                                         f"{done.returncode}{_said(output)}", hint=HINT)
    on_line(f"waiting for the engine at {where} to answer (up to {timeout:.0f}s)")
    while not reachable():
        if time.monotonic() - started > timeout:
            raise DockerUnavailableError(f"`{shown}` ({why}) ran, but the engine at {where} did not answer within "
                                         f"{timeout:.0f}s", hint=HINT)
        time.sleep(0.2)
    on_line(f"the engine at {where} answers, {time.monotonic() - started:.1f}s after `{shown}`")


def _said(output) -> str:
    """The last line the command printed, as the end of an error."""
    output.seek(0)
    lines = output.read().decode("utf-8", "replace").strip().splitlines()
    return f": {lines[-1]}" if lines else " (it printed nothing)"
