"""The Docker Compose backend: an environment is a compose project on one Docker engine.

Compose runs the plan (the user's files plus netra-stack's override, kept in the state
directory); the engine, through the docker SDK, answers what runs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from functools import cached_property
from typing import TYPE_CHECKING

from netra_stack.backends.base import LineCallback, UsageStream
from netra_stack.backends.compose.failures import parse_failure
from netra_stack.backends.compose.override import compose_override
from netra_stack.backends.compose.project import Compose
from netra_stack.model import labels as L
from netra_stack.model.decisions import EngineFailure, is_loopback
from netra_stack.model.errors import ProfileError, UsageError
from netra_stack.model.findings import Finding
from netra_stack.model.instances import ImageInfo, Instance
from netra_stack.model.profiles import Profile
from netra_stack.model.state import state_dir
from netra_stack.planning.graph import HEALTHY
from netra_stack.planning.plan import Plan, compose_env, compose_profiles, env_files

if TYPE_CHECKING:
    from netra_stack.backends.compose.engine import Engine, EventWatch


class ComposeBackend:
    name = "compose"
    gate_conditions = frozenset({HEALTHY})  # compose orders the rest itself
    runs_checks = False

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = dict(environ)
        self.state = state_dir(self.environ)
        self._prepared: dict[str, tuple[Plan, Compose]] = {}  # environment -> its plan, as written

    def _project(self, plan: Plan, folder: Path | None = None) -> Compose:
        """The plan's files plus its override, written to the state directory (or `folder`) once per plan."""
        if folder is None and (found := self._prepared.get(plan.name)) and found[0] is plan:
            return found[1]
        override = compose_override(plan, every_address=self.engine.remote_host is not None)
        compose = Compose.prepare(folder or self.state / plan.name, plan.name, plan.compose_files, plan.env,
                                  override, env_files=plan.env_files, profiles=plan.compose_profiles,
                                  environ=self.environ)
        if folder is None:
            self._prepared[plan.name] = (plan, compose)
        return compose

    @cached_property
    def engine(self) -> Engine:
        """The Docker SDK, imported when first needed: `up` reads the compose files meanwhile."""
        from netra_stack.backends.compose.engine import Engine

        return Engine(self.environ)

    def _by_name(self, environment: str) -> Compose:
        return Compose(environment, environ=self.environ)

    # --- planning --------------------------------------------------------------------------------

    def read_model(self, profile: Profile, environ: Mapping[str, str]) -> dict[str, Any]:
        missing = [f for f in profile.compose_files if not (profile.root / f).is_file()]
        if missing:
            raise ProfileError(f"{profile.source}: compose_files: {missing[0]} does not exist in {profile.root}",
                               hint="paths are relative to project_dir")
        with tempfile.TemporaryDirectory(prefix="netra-stack-") as folder:
            wanted = compose_profiles(profile, environ)
            reader = Compose.prepare(Path(folder), "netra-config", [profile.root / f for f in profile.compose_files],
                                     compose_env(profile, environ), env_files=env_files(profile), profiles=wanted,
                                     environ=self.environ)
            model = reader.config()
            if wanted:  # compose ignores a profile it does not know: a typo would go unseen
                known = reader.profiles()
                unknown = [p for p in wanted if p not in known]
                if unknown:
                    raise ProfileError(f"{profile.source}: compose_profiles: unknown compose profile "
                                       f"{unknown[0]!r}; the compose files define: {', '.join(known) or 'none'}",
                                       hint="check compose_profiles, --compose-profile and COMPOSE_PROFILES")
            return model

    def check(self) -> None:
        self.engine.client()  # reachable, or a clear error

    def start(self, command: list[str] | None, timeout: float, on_line: LineCallback) -> None:
        from netra_stack.backends.compose.starting import start_engine

        start_engine(self.engine.reachable, self.engine.address, command, timeout, on_line, self.environ)

    def diagnose(self) -> list[Finding]:
        from netra_stack.backends.compose.doctor import diagnose

        return diagnose(self.engine, self.environ)

    def config(self, plan: Plan) -> str:
        with tempfile.TemporaryDirectory(prefix="netra-stack-") as folder:
            return self._project(plan, Path(folder)).config_yaml()

    def notes(self, plan: Plan) -> list[str]:
        found = [f"{service}: replicas {intent.replicas} ignored (compose runs one instance of a service)"
                 for service, intent in plan.intents.items() if intent.replicas not in (None, 1)]
        host = self.engine.remote_host
        if host and any(is_loopback(p.host_ip) for intent in plan.intents.values() for p in intent.ports):
            found.append(f"ports: published on every address of {host}, the engine's machine "
                         "(its loopback cannot be reached from here)")
        return found

    # --- lifecycle -------------------------------------------------------------------------------

    def prepare(self, plan: Plan) -> None:
        self._project(plan)

    def build(self, plan: Plan, services: Sequence[str], *, no_cache: Iterable[str] = (),
              labels: Mapping[str, Mapping[str, str]] | None = None, start_meanwhile: Sequence[str] = (),
              on_line: LineCallback | None = None) -> dict[str, float]:
        # Podman answers the classic build API with its own builder; compose's BuildKit path
        # would start a builder container from moby/buildkit, pulled from a registry.
        classic = "DOCKER_BUILDKIT" not in self.environ and self.engine.is_podman
        return self._project(plan).build(services, no_cache=no_cache, labels=labels, classic=classic,
                                         start_meanwhile=start_meanwhile, on_line=on_line)

    def up(self, plan: Plan, services: Sequence[str] = (), *, first: bool = True,
           on_line: LineCallback | None = None) -> None:
        self._project(plan).up(services, first=first, on_line=on_line)

    def down(self, environment: str, on_line: LineCallback | None = None, *, images: bool = False) -> list[str]:
        try:
            self._by_name(environment).down(on_line=on_line)
        finally:
            self.forget(environment)
        return []  # one engine: images are built where they run, and kept as the build cache

    def forget(self, environment: str) -> None:
        self._prepared.pop(environment, None)
        shutil.rmtree(self.state / environment, ignore_errors=True)

    def restart(self, environment: str, services: Sequence[str]) -> None:
        self._by_name(environment).restart(services)

    def recreate(self, plan: Plan, services: Sequence[str]) -> None:
        self._project(plan).recreate(services)  # `up` needs the files: the project's name is not enough

    def scale(self, environment: str, replicas: Mapping[str, int]) -> None:
        raise UsageError("the compose backend runs one instance of a service: it does not scale",
                         hint="scale on a backend that runs several, e.g. --backend swarm")

    def failure(self, text: str) -> EngineFailure:
        return parse_failure(text)

    # --- what runs -------------------------------------------------------------------------------

    def instances(self, environment: str | None = None, *, detail: bool = True) -> list[Instance]:
        found = self.engine.containers(environment) if detail else self.engine.summaries(environment)
        host = self.engine.remote_host
        if host is None:
            return found
        # A remote engine's port on every address is reached at its machine's address.
        return [replace(i, ports=[replace(b, host_ip=host) if b.host_ip in ("0.0.0.0", "::", "") else b
                                  for b in i.ports]) for i in found]

    def foreign_instances(self, environment: str) -> list[Instance]:
        return [c for c in self.engine.containers(project=environment) if not L.is_ours(c.labels)]

    def instance(self, reference: str) -> Instance | None:
        return self.engine.container_by_id(reference)

    def exec(self, instance: Instance, argv: Sequence[str]) -> tuple[int, str, float]:
        return self.engine.execute(instance.id, argv)

    def logs(self, instance: Instance, *, tail: int | str = 20, since: float | None = None) -> str:
        return self.engine.logs(instance.id, tail=tail, since=since)

    def service_logs(self, environment: str, services: Sequence[str], *, tail: int | None = None,
                     follow: bool = False) -> Iterable[str]:
        return self._by_name(environment).logs(services, tail=tail, follow=follow)

    def events(self, environment: str | None) -> EventWatch:
        return self.engine.events(environment)

    def forward(self, environment: str, bindings):
        raise UsageError(f"{environment}: its ports are the host's already ({self.name} publishes them there)",
                         hint="`netra-stack ports` lists them; --forward is for a kubernetes environment")

    def stats(self, environment: str) -> UsageStream:
        return self.engine.stats(environment)

    def capacity(self) -> tuple[int, int]:
        info = self.engine.client().info()
        return int(info.get("NCPU") or 0), int(info.get("MemTotal") or 0)

    def exists(self, kind: str, name: str) -> bool:
        return self.engine.exists(kind, name)

    def remove(self, instance: Instance, *, foreign: bool = False) -> None:
        self.engine.remove_container(instance, foreign=foreign)

    def networks(self, environment: str | None = None) -> list[dict[str, Any]]:
        return self.engine.networks(environment)

    def network(self, name: str) -> dict[str, Any] | None:
        return self.engine.network_by_name(name)

    def remove_network(self, network: dict[str, Any], *, foreign: bool = False) -> bool:
        return self.engine.remove_network(network, foreign=foreign)

    def volumes(self, environment: str | None = None) -> list[dict[str, Any]]:
        return self.engine.volumes(environment)

    def remove_volume(self, volume: dict[str, Any]) -> bool:
        return self.engine.remove_volume(volume)

    # --- images ----------------------------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        return self.engine.image(reference)

    def remove_superseded_image(self, image_id: str) -> bool:
        return self.engine.remove_superseded_image(image_id)
