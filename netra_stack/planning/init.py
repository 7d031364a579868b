"""`netra-stack init`: a first profile for an existing compose project, from its resolved model.

The pure part turns the model (`docker compose config --format json`) into profile TOML: isolated
ports from a range, health from each healthcheck, one-shot services as `up` infers them, and
memory limits left as comments to fill. The I/O part finds the compose files as compose does,
reads the model through the compose adapter, and writes or prints the profile.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w

from netra_stack.model.errors import NotFoundError, UsageError
from netra_stack.planning.plan import one_shot_services
from netra_stack.model.profiles import Profile

# Compose's own default file names, in its order of preference; it adds the first override found.
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILE_NAMES = ("compose.override.yml", "compose.override.yaml",
                       "docker-compose.override.yml", "docker-compose.override.yaml")
PROFILE_NAME = "test"
HEADER = "# Made by `netra-stack init`; `netra-stack profile schema` describes every key.\n"
MEMORY_HINT = '# memory = "512m"'


# --- the pure part: compose model -> profile TOML ----------------------------------------------


def starting_profile(compose_files: Sequence[str], description: str) -> dict[str, Any]:
    """The profile's keys that do not depend on the model: isolated environments, ports from a range."""
    return {"environment": "test", "description": description, "compose_files": list(compose_files),
            "project_name": "{profile}-{id}", "ports": {"strategy": "range", "range": [30000, 40000]}}


def health_command(healthcheck: Mapping[str, Any] | None) -> list[str] | None:
    """A compose healthcheck as a profile health command (argv), or None when it has no test of its own.

    CMD-SHELL becomes `/bin/sh -c TEXT`, as Docker runs it: a profile's health string would be split
    into words, not run by a shell. Being Docker's very test, one run answers for both checks."""
    if not healthcheck or healthcheck.get("disable"):
        return None
    kind, *rest = healthcheck.get("test") or ["NONE"]
    rest = [part.replace("$$", "$") for part in rest]  # the model escapes $ for compose; exec does not read it
    if kind == "CMD" and rest:
        return rest
    if kind == "CMD-SHELL" and rest:
        return ["/bin/sh", "-c", rest[0]]
    return None  # NONE, or no test: the image's own healthcheck, which Docker runs anyway


def profile_toml(model: Mapping[str, Any], profile: Mapping[str, Any]) -> str:
    """The profile's TOML: `profile` (from starting_profile) with a [services.NAME] table per service."""
    one_shot = one_shot_services(Profile.model_validate(profile), model)
    chunks = [HEADER, tomli_w.dumps(dict(profile))]
    for service, spec in (model.get("services") or {}).items():
        settings: dict[str, Any] = {}
        health = health_command(spec.get("healthcheck"))
        if health:
            settings["health"] = health
        if service in one_shot:
            settings["one_shot"] = True
        # tomli-w writes no comments: each service is dumped alone, so its first line is its header
        header, _, rest = tomli_w.dumps({"services": {service: settings}}).partition("\n")
        chunks.append(f"\n{header}\n{MEMORY_HINT}\n{rest}")
    return "".join(chunks)


# --- the I/O part -------------------------------------------------------------------------------


def find_compose_files(folder: Path, given: Sequence[str] = ()) -> list[Path]:
    """The files given (relative to `folder`), else those compose itself would pick in `folder`."""
    if given:
        files = [folder / name for name in given]
        missing = next((f for f in files if not f.is_file()), None)
        if missing:
            raise NotFoundError(f"compose file {missing} does not exist", hint="-f names a compose file, relative to --dir")
        return files
    main = next((folder / name for name in COMPOSE_FILE_NAMES if (folder / name).is_file()), None)
    if main is None:
        raise NotFoundError(f"no compose file in {folder}: looked for {', '.join(COMPOSE_FILE_NAMES)}",
                            hint="run it in a compose project's directory, or pass --dir DIR or -f FILE")
    override = next((folder / name for name in OVERRIDE_FILE_NAMES if (folder / name).is_file()), None)
    return [main, override] if override else [main]


def read_model(profile: Profile) -> dict[str, Any]:
    """The compose model of the profile's files, read as `up` reads it (by the profile's backend)."""
    from netra_stack.plugins.registry import Plugins

    return Plugins().backend(profile.backend, os.environ).read_model(profile, os.environ)


def init_profile(folder: str | Path = ".", files: Sequence[str] = (), *, write: bool = True) -> tuple[str, Path]:
    """The profile TOML for the compose project in `folder`, and where it goes (folder/profiles/test.toml),
    written there unless `write` is false. An existing profile is never overwritten."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise NotFoundError(f"directory {folder} does not exist", hint="--dir names a compose project's directory")
    target = folder / "profiles" / f"{PROFILE_NAME}.toml"
    if write and target.exists():
        raise UsageError(f"{target} already exists: init does not overwrite a profile",
                         hint="use --print to see the generated one, or remove the file")
    compose_files = [Path(os.path.relpath(f, folder)).as_posix() for f in find_compose_files(folder, files)]
    profile = starting_profile(compose_files, f"{folder.name}: isolated test environments (made by netra-stack init)")
    model = read_model(Profile.model_validate({**profile, "name": PROFILE_NAME, "source": target}))
    text = profile_toml(model, profile)
    if write:
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)
    return text, target
