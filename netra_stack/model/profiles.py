"""Profiles: TOML files that describe an environment, validated by pydantic models.

A profile lives in a `profiles/` directory of a project (`profiles/alpine-test.toml` is the
profile `alpine-test`). `extends = "test"` merges another profile of the same directory under
this one: tables merge key by key, everything else (lists included) is replaced.
Beside a profile file NAME.toml, `netra-stack advise --write` may keep a generated layer
NAME.limits.toml (services' memory and cpus only), merged over that file's own table at its
level of the chain: a child's own settings still win over its parent's layer.
Environment variables are not applied here but when a profile resolves to a plan (plan.py),
except those that choose the default profile (DOCKER_ENV, USE_ALPINE).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from netra_stack.model.errors import NotFoundError, ProfileError

PROFILE_PATH_VAR = "NETRA_STACK_PROFILE_PATH"  # os.pathsep-separated directories of profiles
ENV_TYPES = ("test", "dev", "prod")
ALPINE_VARIANTS = {"test": "alpine-test", "dev": "alpine-dev"}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: Any) -> int:
    """'512m', '1g', '1.5GiB', 2048 -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    size = int(float(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]) if match else 0
    if size < 1:
        raise ValueError("expected a size such as 256m, 512M, 1g or 1.5GiB")
    return size


MemorySize = Annotated[int, BeforeValidator(parse_size)]
Port = Annotated[int, Field(ge=1, le=65535)]
PortStrategy = Literal["range", "fixed", "ephemeral"]
EnvType = Literal["test", "dev", "prod"]
BuildCache = Literal["content-hash", "no-cache", "layer-cache"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortSpec(_Strict):
    """One published container port, and how its host port is chosen."""

    container: Port = Field(description="The port inside the container.")
    protocol: Literal["tcp", "udp"] = "tcp"
    strategy: PortStrategy | None = Field(
        None, description="range | fixed | ephemeral; default: the profile's ports.strategy."
    )
    host: Port | None = Field(None, description="Host port for the fixed strategy (default: the container port).")
    env: str | None = Field(
        None, description="Environment variable whose value, when set, is the host port (wins over the strategy)."
    )


class HttpCheck(_Strict):
    """Healthy when an HTTP GET of `http` on the container's `port` answers `status` (from the host)."""

    http: str = Field(description="The path to GET, e.g. '/health'.")
    port: Port = Field(description="The container port to connect to.")
    status: int = Field(200, ge=100, le=599, description="The HTTP status expected.")


class TcpCheck(_Strict):
    """Healthy when a TCP connection to the container port `tcp` succeeds (from the host)."""

    tcp: Port = Field(description="The container port to connect to.")


class LogCheck(_Strict):
    """Healthy once the container's log holds `log` (a substring) `times` times."""

    log: str = Field(min_length=1, description="Text the log must contain, e.g. 'ready to accept connections'.")
    times: int = Field(1, ge=1, description="How many times it must appear.")


HealthCheck = str | list[str] | HttpCheck | TcpCheck | LogCheck
_HOST_CHECKS = {"http": HttpCheck, "tcp": TcpCheck, "log": LogCheck}
_HOST_CHECK_EXAMPLES = {"http": '{ http = "/health", port = 8000, status = 200 }', "tcp": "{ tcp = 5432 }",
                        "log": '{ log = "ready to accept connections", times = 1 }'}


def _host_check(value: Any) -> Any:
    """A health table is the host-side check its key names (http, tcp or log), validated as that,
    so that an error says what that check expects instead of listing every alternative of the union."""
    if value is None or isinstance(value, str) or isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    kinds = [kind for kind in _HOST_CHECKS if isinstance(value, dict) and kind in value]
    if len(kinds) != 1:
        raise ValueError("expected a command (a string or a list), or a table with one of http, tcp or log: "
                         + ", ".join(_HOST_CHECK_EXAMPLES.values()))
    try:
        return _HOST_CHECKS[kinds[0]].model_validate(value)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"])
            if error["type"] == "missing":
                problems.append(f"{key}: missing")
            elif error["type"] == "extra_forbidden":
                problems.append(f"unknown key {key!r}")
            else:
                reason = error["msg"].replace("Input should be ", "should be ")
                problems.append(f"{key} = {error['input']!r}: {reason}")
        raise ValueError(f"{'; '.join(problems)}; expected {_HOST_CHECK_EXAMPLES[kinds[0]]}") from None


class ServiceSettings(_Strict):
    """What a profile sets for one compose service."""

    memory: MemorySize | None = Field(None, description="Memory limit, e.g. '512m'.")
    cpus: float | None = Field(None, gt=0, description="CPU limit in cores, e.g. 0.5.")
    health: Annotated[HealthCheck | None, BeforeValidator(_host_check)] = Field(
        None, description="Service-level health check: a command run inside the container (argv list, or a string "
        "split like a shell would), or a check from the host: { http = '/health', port = 8000, status = 200 }, "
        "{ tcp = 5432 }, { log = 'ready to accept connections' }."
    )
    ports: list[PortSpec] = Field(default_factory=list, description="Container ports to publish on the host.")
    tmpfs: list[str] = Field(default_factory=list, description="tmpfs mounts, e.g. '/var/lib/postgresql/data:size=512m'.")
    command: list[str] | None = Field(None, description="Replaces the service's command.")
    command_args: list[str] = Field(
        default_factory=list, description="Flags appended to the service's command (the compose file's, or `command`)."
    )
    environment: dict[str, str] = Field(default_factory=dict, description="Environment variables of the container.")
    one_shot: bool | None = Field(
        None, description="Runs to completion (e.g. migrations): exit 0 counts as done. Default: true for a service "
        "that another waits for with `condition: service_completed_successfully`, false otherwise."
    )
    stop_timeout: float | None = Field(
        None, ge=0, description="Seconds between SIGTERM and SIGKILL when stopped (default: the profile's)."
    )
    build_cache: BuildCache | None = Field(None, description="This service's build-cache policy (default: the profile's).")
    replicas: int | None = Field(
        None, ge=0, description="Instances of the service, on a backend that runs several (swarm); compose runs one."
    )


class PortsPolicy(_Strict):
    strategy: PortStrategy = Field("ephemeral", description="Default strategy for host ports.")
    range: tuple[Port, Port] = Field((30000, 40000), description="[low, high] host ports for the range strategy.")
    host_ip: str = Field("127.0.0.1", description="Host address the ports are bound to.")

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low > high:
            raise ValueError(f"range [{low}, {high}] is inverted: expected [low, high] with low <= high")
        return value


def registry(value: str | None) -> str | None:
    """A registry as images name it (a profile's `registry`)."""
    if value is not None and not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*", value):
        raise ValueError("expected a registry as images name it, HOST[:PORT][/PATH] without a scheme, "
                         "e.g. 'registry.local:5000'")
    return value


class SwarmSettings(_Strict):
    """What the swarm backend needs to know beyond the compose files."""

    registry: str | None = Field(
        None, description="A registry every node pulls from, e.g. 'registry.local:5000': the images netra-stack builds "
        "are pushed there before the deploy. Without one, they are loaded into each node (NETRA_SWARM_NODES).")
    routing_mesh: bool = Field(
        True, description="Publish ports through the ingress routing mesh (any node's address) where every node's "
        "kernel has IPVS, detected at `up`; elsewhere, or when false, host-mode ports on the node of each task.")

    _registry = field_validator("registry")(lambda value: registry(value))


class KubernetesSettings(_Strict):
    """What the kubernetes backend needs to know beyond the compose files. The cluster itself is
    the kubeconfig's (KUBECONFIG, its current context or --kube-context): a machine's, not a
    project's, so not written in a profile."""

    registry: str | None = Field(
        None, description="A registry the cluster's nodes pull from, e.g. 'registry.local:5000': the images netra-stack "
        "builds are pushed there before the apply. Without one, `load` puts them into the nodes.")
    load: list[str] = Field(
        default_factory=list, description="A command (argv, run without a shell) that loads an image into the "
        "cluster's nodes, for a local cluster without a registry: it reads `docker save`'s tar on stdin, or, where an "
        "argument holds {image}, gets the image's name there, e.g. ['kind', 'load', 'docker-image', '{image}'].")
    liveness: bool = Field(
        False, description="Also restart a container whose health check keeps failing (a livenessProbe beside the "
        "readinessProbe); by default a failing check only marks the pod not ready.")

    _registry = field_validator("registry")(lambda value: registry(value))


START_ENGINE_VAR = "NETRA_STACK_START_ENGINE"  # 1: `up`, `test`, the API and pytest start an engine that is down
ENGINE_START_COMMAND_VAR = "NETRA_STACK_ENGINE_START_COMMAND"  # the command that starts it (argv, shell-quoted)


class EngineSettings(_Strict):
    """Starting the engine when it cannot be reached (off unless asked: here, --start-engine or
    NETRA_STACK_START_ENGINE=1)."""

    start: bool = Field(False, description="Start the engine when `up` (or `test`, the API, pytest) cannot reach it.")
    start_command: list[str] = Field(
        default_factory=list, description="The command (argv, run without a shell) that starts it, instead of the "
        "platform's: `systemctl start docker` or `service docker start` on Linux, `open -a Docker` on macOS, Docker "
        f"Desktop on Windows. {ENGINE_START_COMMAND_VAR} overrides it.")
    start_timeout: float = Field(60.0, gt=0, description="Seconds the command and then the engine's first answer may take.")


class Profile(_Strict):
    """An environment: its compose files, services, limits, ports, cache policy and plugins."""

    name: str = Field("", description="Set from the file name; not written in the file.", exclude=True)
    source: Path | None = Field(None, description="The file it was loaded from.", exclude=True)
    extends: str | None = Field(None, description="Name of a profile in the same directory to inherit from.")
    description: str = ""
    environment: EnvType | None = Field(None, description="test, dev or prod.")
    compose_files: list[str] = Field(
        default_factory=list, description="Compose files, relative to project_dir; the first one's directory is compose's project directory."
    )
    project_dir: str = Field(
        "..", description="The project's root, relative to this file's directory: compose_files and plugin files are relative to it."
    )
    project_name: str = Field(
        "{profile}-{id}", description="Template of environment names: {profile}, {env}, {id} (short random), {user}."
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Variables for compose's interpolation (DOCKER_TAG, BUILD_TARGET, ...), "
        "over the env files and under the process environment."
    )
    env_files: list[str] | None = Field(
        None, description="Env files for compose's interpolation, relative to project_dir, later ones winning "
        "(compose's --env-file); default: the compose project directory's .env, if there is one."
    )
    compose_profiles: list[str] = Field(
        default_factory=list, description="Compose profiles to enable (compose's --profile; COMPOSE_PROFILES adds to them)."
    )
    container_names: Literal["unique", "keep"] | None = Field(
        None, description="A fixed container_name: unique makes it {env}-{name} (the old name stays an alias on the "
        "environment's networks); keep uses it as is, so only one environment can have it. Default: unique when "
        "project_name contains {id}, else keep."
    )
    stop_timeout: float | None = Field(
        None, ge=0, description="Seconds between SIGTERM and SIGKILL on down, clean and teardown "
        "(default: 2 for test environments, else compose's own: the file's stop_grace_period or 10)."
    )
    ports: PortsPolicy = Field(default_factory=PortsPolicy)
    build_cache: BuildCache = Field(
        "content-hash", description="content-hash builds only when the build's inputs changed (then with Docker's "
        "layer cache); no-cache rebuilds every layer, every time; layer-cache always builds, with Docker's cache.",
    )
    wait_timeout: float = Field(120.0, gt=0, description="Seconds to wait for health before failing.")
    backend: str = Field("compose", pattern=r"^[a-z][a-z0-9_-]*$",
                         description="The orchestrator the environment runs on: compose, or one a plugin registers "
                                     "(`netra-stack plugins` lists them); `--backend` overrides it.")
    plugins: list[str] = Field(default_factory=list, description="Plugin modules or files to load.")
    disable_plugins: list[str] = Field(default_factory=list, description="Plugin names to block.")
    services: dict[str, ServiceSettings] = Field(default_factory=dict)
    swarm: SwarmSettings = Field(default_factory=SwarmSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)

    @property
    def root(self) -> Path:
        """The project's root (compose_files and plugin paths are relative to it)."""
        base = self.source.parent if self.source else Path.cwd()
        return (base / self.project_dir).resolve()

    @property
    def env_type(self) -> str:
        return self.environment or "test"

    @property
    def isolated(self) -> bool:
        """Whether every environment is a new one of its own ({id} in project_name), so that
        several of the profile run side by side."""
        return "{id}" in self.project_name

    @property
    def unique_container_names(self) -> bool:
        """Whether a fixed container_name is made unique per environment."""
        if self.container_names:
            return self.container_names == "unique"
        return self.isolated

    def stop_timeout_of(self, service: str) -> float | None:
        """Seconds a service gets to stop: its own setting, the profile's, 2 for tests, else None (compose's)."""
        settings = self.services.get(service)
        if settings and settings.stop_timeout is not None:
            return settings.stop_timeout
        if self.stop_timeout is not None:
            return self.stop_timeout
        return 2.0 if self.env_type == "test" else None

    def build_cache_of(self, service: str) -> str:
        """The build-cache policy of one service: its own setting, else the profile's."""
        settings = self.services.get(service)
        return settings.build_cache if settings and settings.build_cache else self.build_cache

    def with_build_cache(self, policy: str) -> Profile:
        """This profile with one policy for every service (the seed's no_cache_app_code, `up --no-cache`)."""
        services = {name: s.model_copy(update={"build_cache": None}) for name, s in self.services.items()}
        return self.model_copy(update={"build_cache": policy, "services": services})


# --- locating profiles -------------------------------------------------------------------


def profile_dirs(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> list[Path]:
    """Where profiles are looked up: $NETRA_STACK_PROFILE_PATH, else the nearest `profiles/` upwards."""
    environ = os.environ if environ is None else environ
    if environ.get(PROFILE_PATH_VAR):
        return [Path(p).resolve() for p in environ[PROFILE_PATH_VAR].split(os.pathsep) if p]
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "profiles").is_dir() and any((folder / "profiles").glob("*.toml")):
            return [folder / "profiles"]
    return []


LIMITS_LAYER_SUFFIX = ".limits.toml"  # advise's generated layer beside a profile: never a profile itself
LAYER_KEYS = ("memory", "cpus")  # all a layer may set, per service


def limits_layer_path(profile_path: Path) -> Path:
    """The generated limits layer of a profile file: NAME.limits.toml beside NAME.toml."""
    return profile_path.with_name(f"{profile_path.stem}{LIMITS_LAYER_SUFFIX}")


def available_profiles(dirs: list[Path] | None = None) -> dict[str, Path]:
    """Profile name -> file, first directory wins."""
    found: dict[str, Path] = {}
    for folder in profile_dirs() if dirs is None else dirs:
        for file in sorted(folder.glob("*.toml")):
            if not file.name.endswith(LIMITS_LAYER_SUFFIX):
                found.setdefault(file.stem, file)
    return found


def truthy(value: str | None) -> bool:
    """The one rule for yes/no variables (USE_ALPINE, USE_PRODUCTION_IMAGES): 1, true, yes, on."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def default_profile_name(environ: Mapping[str, str] | None = None, use_alpine: bool | None = None) -> str:
    """The seed's rule: DOCKER_ENV picks test/dev/prod (default test); USE_ALPINE picks the alpine variant."""
    environ = os.environ if environ is None else environ
    env_type = (environ.get("DOCKER_ENV") or "test").strip().lower()
    if env_type not in ENV_TYPES:
        raise ProfileError(
            f"DOCKER_ENV={env_type!r}: expected one of {', '.join(ENV_TYPES)}",
            hint="unset DOCKER_ENV or pass --profile",
        )
    alpine = truthy(environ.get("USE_ALPINE")) if use_alpine is None else use_alpine
    return ALPINE_VARIANTS.get(env_type, env_type) if alpine else env_type


def find_profile(name: str, dirs: list[Path] | None = None) -> Path:
    """A profile name, or a path to a .toml file."""
    if name.endswith(".toml"):
        path = Path(name)
        if path.is_file():
            return path.resolve()
        raise NotFoundError(f"profile file {name} does not exist", hint="give a path to a .toml file or a profile name")
    dirs = profile_dirs() if dirs is None else dirs
    found = available_profiles(dirs)
    if name in found:
        return found[name]
    where = ", ".join(str(d) for d in dirs) or "no profiles/ directory found from here upwards"
    known = ", ".join(sorted(found)) or "none"
    raise NotFoundError(
        f"unknown profile {name!r} (looked in {where}); known profiles: {known}",
        hint=f"run `netra-stack profiles`, or set {PROFILE_PATH_VAR}",
    )


# --- loading --------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: malformed TOML: {exc}", hint="fix the syntax at that line") from None
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None


def _merge(base: dict, over: dict, path: tuple = ()) -> dict:
    """Deep-merge tables: `over` wins; lists and scalars are replaced, not appended. A service's
    `health` table is one check and replaces the parent's whole: an http check over a tcp one
    must not merge into a mix of both."""
    merged = dict(base)
    for key, value in over.items():
        here = (*path, key)
        whole = len(here) == 3 and here[0] == "services" and here[2] == "health"
        both_tables = isinstance(value, dict) and isinstance(base.get(key), dict) and not whole
        merged[key] = _merge(base[key], value, here) if both_tables else value
    return merged


def _raw_profile(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict]:
    """The merged raw table of a profile and the origin file of each key path. At each level of
    the chain, the file's limits layer (if any) is merged over the file's own table first."""
    if path in seen:
        chain = " -> ".join(p.stem for p in (*seen, path))
        raise ProfileError(f"{seen[-1]}: extends: circular inheritance {chain}", hint="remove one of the extends")
    data = _read_toml(path)
    layer_file = limits_layer_path(path)
    layer = _read_layer(layer_file, path) if layer_file.is_file() else {}
    parent_name = data.get("extends")
    if parent_name is None:
        origins: dict[tuple, Path] = {}
        _record_nested(data, (), path, origins)
        _record_layer(layer, data, layer_file, origins)
        return _merge(data, layer), origins
    if not isinstance(parent_name, str):
        raise ProfileError(f"{path}: extends = {parent_name!r}: expected a profile name (a string)",
                           hint="extends names a profile of the same directory")
    parent_path = path.parent / f"{parent_name}.toml"
    if not parent_path.is_file() or parent_path.name.endswith(LIMITS_LAYER_SUFFIX):
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.toml")
                                 if p != path and not p.name.endswith(LIMITS_LAYER_SUFFIX)))
        raise ProfileError(
            f"{path}: extends = {parent_name!r}: no such profile in {path.parent} (known: {known})",
            hint="extends names a profile of the same directory",
        )
    base, origins = _raw_profile(parent_path, (*seen, path))
    merged = _merge(base, {k: v for k, v in _merge(data, layer).items() if k != "extends"})
    _record_nested(data, (), path, origins)  # the child's keys name the child's file
    _record_layer(layer, data, layer_file, origins)
    return merged, origins


def _read_layer(layer_file: Path, profile_path: Path) -> dict:
    """A limits layer, checked to hold only [services.NAME] tables of memory and cpus."""
    layer = _read_toml(layer_file)
    hint = (f"the layer is written by `netra-stack advise --profile {profile_path.stem} --write`: set other keys in "
            f"{profile_path.name}, or delete the layer and run advise again")
    for key, value in layer.items():
        if key != "services":
            raise ProfileError(f"{layer_file}: unknown key {key!r}; a limits layer holds only [services.NAME] tables",
                               hint=hint)
        if not isinstance(value, dict):
            raise ProfileError(f"{layer_file}: services = {value!r}: expected tables [services.NAME]", hint=hint)
        for service, settings in value.items():
            if not isinstance(settings, dict):
                raise ProfileError(f"{layer_file}: services.{service} = {settings!r}: expected a table of "
                                   f"{' and '.join(LAYER_KEYS)}", hint=hint)
            for setting in settings:
                if setting not in LAYER_KEYS:
                    raise ProfileError(f"{layer_file}: unknown key 'services.{service}.{setting}'; a limits layer "
                                       f"sets only {' and '.join(LAYER_KEYS)}", hint=hint)
    return layer


def _record_layer(layer: dict, data: dict, layer_file: Path, origins: dict) -> None:
    """The layer's values name the layer; a table names it only where the file itself has none."""
    own = data.get("services") if isinstance(data.get("services"), dict) else {}
    for service, settings in layer.get("services", {}).items():
        if "services" not in data:
            origins[("services",)] = layer_file
        if service not in own:
            origins[("services", service)] = layer_file
        for setting in settings:
            origins[("services", service, setting)] = layer_file


def _record_nested(table: dict, prefix: tuple, path: Path, origins: dict) -> None:
    """Remember which file every key path came from, for error messages."""
    for key, value in table.items():
        origins[(*prefix, key)] = path
        if isinstance(value, dict):
            _record_nested(value, (*prefix, key), path, origins)


def _origin(loc: tuple, origins: dict, default: Path) -> Path:
    for end in range(len(loc), 0, -1):
        if tuple(loc[:end]) in origins:
            return origins[tuple(loc[:end])]
    return default


def _expected_keys(loc: tuple) -> list[str]:
    """The keys allowed beside an unknown key at `loc`, found by walking the models."""
    model: Any = Profile
    for part in loc[:-1]:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            annotation = field.annotation if field else None
        else:
            annotation = None
        args = getattr(annotation, "__args__", ()) or ()
        nested = [a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            model = nested[0]
        elif annotation is not None and args:  # dict[str, Model] / list[Model]: next part is a key or index
            model = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        elif model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
            model = None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [name for name, f in model.model_fields.items() if not f.exclude]
    return []


def _present(loc: tuple, raw: dict) -> tuple:
    """The part of an error location that exists in the file (pydantic appends union tags such as
    'str' or 'list[str]' that are not keys)."""
    node, kept = raw, []
    for part in loc:
        if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            kept.append(part)
        else:
            break
    return tuple(kept)


def _describe(errors: list[dict], path: Path, raw: dict, origins: dict) -> ProfileError:
    first = errors[0]
    loc = _present(first["loc"], raw) if first["type"] != "extra_forbidden" else tuple(first["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    file = _origin(loc, origins, path)
    if first["type"] == "extra_forbidden":
        allowed = _expected_keys(loc)
        expected = f"expected one of: {', '.join(allowed)}" if allowed else "not a known key"
        return ProfileError(f"{file}: unknown key {key!r}; {expected}", hint="check the spelling; `netra-stack profile schema` lists every key")
    # Every alternative of a union fails at the same key: say them all ("a valid string or a valid list").
    same = [e for e in errors if _present(e["loc"], raw) == loc]
    reasons = [e["msg"].removeprefix("Value error, ").removeprefix("Input should be ") for e in same]
    message = " or ".join(dict.fromkeys(reasons))
    if len(same) > 1 or first["msg"].startswith("Input should be "):
        message = f"expected {message}"
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    return ProfileError(f"{file}: {key}{shown}: {message}", hint="`netra-stack profile schema` describes every key")


def load_profile(name: str, dirs: list[Path] | None = None) -> Profile:
    """Load, merge (`extends`) and validate a profile by name or path."""
    path = find_profile(name, dirs)
    raw, origins = _raw_profile(path, ())
    raw.pop("extends", None)
    try:
        profile = Profile.model_validate({**raw, "name": path.stem, "source": path})
    except ValidationError as exc:
        raise _describe(exc.errors(), path, raw, origins) from None
    for key in ("environment", "compose_files"):
        if not getattr(profile, key):
            raise ProfileError(
                f"{path}: {key}: missing; expected "
                + ("test, dev or prod" if key == "environment" else "a list of compose files"),
                hint="set it here or in the profile this one extends",
            )
    return profile


def profile_json_schema() -> dict[str, Any]:
    schema = Profile.model_json_schema(mode="validation")
    schema["title"] = "netra-stack profile"
    for key in ("name", "source"):  # set by the loader, never written in a file
        schema.get("properties", {}).pop(key, None)
    return schema
