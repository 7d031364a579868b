"""The plugins of a run: loading them in a documented order, and calling them so that every error
names the plugin responsible.

Order of registration (later registrations are asked first; the built-ins are `trylast`):
1. the built-in policies (netra_stack.plugins.builtin);
2. installed packages that expose the entry-point group `netra_stack`;
3. the modules or files named in the profile's `plugins` (files relative to its project_dir).
Names in the profile's `disable_plugins` are blocked before anything registers; a name that
matches no plugin is an error, and so is an implementation of a hook that does not exist.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from netra_stack.plugins import hookspecs
from netra_stack.plugins.builtin import BUILTIN_PLUGINS
from netra_stack.model.errors import NetraError, PluginError, ProfileError
from netra_stack.model.health import HealthReport, ServiceHealth
from netra_stack.model.decisions import BuildDecision, ConflictResolution, EngineFailure, PortBinding, Recommendation
from netra_stack.model.profiles import Profile, truthy

if TYPE_CHECKING:
    from netra_stack.backends.base import Backend, BackendFactory
    from netra_stack.leases.reservations import PortReservations
    from netra_stack.model.instances import Instance
    from netra_stack.planning.plan import Plan, PortRequest

ENTRY_POINT_GROUP = hookspecs.PROJECT
TRACE_VAR = "NETRA_TRACE_PLUGINS"  # 1: every hook call is logged to stderr, with its plugin and result


def hook_names() -> list[str]:
    """Every hook, stage by stage (hookspecs.STAGES)."""
    return [hook for _, hooks in hookspecs.STAGES for hook in hooks]


def is_decision(hook: str) -> bool:
    return bool(getattr(getattr(hookspecs, hook), "netra_stack_spec", {}).get("firstresult"))


class Plugins:
    """A PluginManager with the origin of every plugin, and calls that blame the right one."""

    def __init__(self, profile: Profile | None = None, builtins: Mapping[str, Any] = {}) -> None:
        """`builtins`: more built-in plugins by name, from a layer above (the command line's commands)."""
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.origins: dict[str, str] = {}
        self.deciders: dict[str, str] = {}  # hook -> the plugin whose answer was taken last
        self.profile = profile
        for name in profile.disable_plugins if profile else ():
            self.manager.set_blocked(name)
        for name, module in {**BUILTIN_PLUGINS, **builtins}.items():
            self._register(module, name, f"built-in ({module.__name__})")
        self._load_entry_points()
        for reference in profile.plugins if profile else ():
            if not self.manager.is_blocked(reference):
                self._register(self._import(reference), reference, f"profile {profile.name}: {reference}")
        self._check()
        self.trace = truthy(os.environ.get(TRACE_VAR))

    # --- loading ---------------------------------------------------------------------------

    def _where(self, name: str) -> str:
        return f"plugin {name!r}" + (f" of profile {self.profile.name} ({self.profile.source})" if self.profile else "")

    def _register(self, plugin: Any, name: str, origin: str) -> None:
        if self.manager.is_blocked(name):
            self.origins[name] = f"{origin} [disabled]"
            return
        try:
            self.manager.register(plugin, name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"{self._where(name)}: {exc}", hint="see docs/plugins.md for each hook's arguments") from None
        except ValueError:  # pluggy refuses the same module twice
            other = self.manager.get_name(plugin) or name
            raise PluginError(f"{self._where(name)}: already loaded as {other!r} ({self.origins.get(other, '?')})",
                              hint="name each plugin once: in the profile or as an installed entry point") from None
        self.origins[name] = origin

    def _load_entry_points(self) -> None:
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = f"{entry.dist.name} {entry.dist.version}" if entry.dist else entry.value
            if self.manager.is_blocked(entry.name):
                self.origins[entry.name] = f"entry point of {dist} [disabled]"
                continue
            try:
                plugin = entry.load()
            except Exception as exc:  # an installed plugin that cannot load is named, not a traceback
                raise PluginError(f"plugin {entry.name!r} (entry point of {dist}) failed to load: "
                                  f"{type(exc).__name__}: {exc}", hint=f"fix or uninstall {dist}") from None
            self._register(plugin, entry.name, f"entry point of {dist}")

    def _import(self, reference: str):
        """A plugin named as a file (relative to the profile's project_dir) or as a module."""
        where = self._where(reference)
        try:
            if reference.endswith(".py") or "/" in reference:
                path = (self.profile.root / reference).resolve()
                if not path.is_file():
                    raise PluginError(f"{where}: no such file {path}",
                                      hint="plugin files are relative to the profile's project_dir")
                spec = importlib.util.spec_from_file_location(f"netra_stack_plugin_{path.stem}", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                return module
            return importlib.import_module(reference)
        except PluginError:
            raise
        except ModuleNotFoundError as exc:
            raise PluginError(f"{where}: cannot import it: {exc}",
                              hint="install the module, or name a file such as plugins/x.py") from None
        except Exception as exc:  # a plugin that fails to import is reported, not a traceback
            raise PluginError(f"{where}: failed to load: {type(exc).__name__}: {exc}") from None

    def _check(self) -> None:
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.manager.get_name(exc.plugin) or "?"
            raise PluginError(f"{self._where(name)}: {exc}", hint="hook names are those of docs/plugins.md") from None
        for hook in hook_names():
            for impl in getattr(self.manager.hook, hook).get_hookimpls():
                if impl.hookwrapper or impl.wrapper:
                    raise PluginError(f"{self._where(impl.plugin_name)}: {hook} is a wrapper; netra-stack calls "
                                      "implementations one by one", hint="drop wrapper=True / hookwrapper=True")
        unknown = [n for n in (self.profile.disable_plugins if self.profile else ()) if n not in self.origins]
        if unknown:
            raise PluginError(f"profile {self.profile.name} ({self.profile.source}): disable_plugins names "
                              f"{unknown[0]!r}, which is no plugin; known: {', '.join(sorted(self.origins))}",
                              hint="`netra-stack plugins` lists the plugin names")

    # --- calling ---------------------------------------------------------------------------

    def implementations(self, hook: str) -> list[pluggy.HookImpl]:
        """The implementations of a hook, in the order they are called."""
        return list(reversed(getattr(self.manager.hook, hook).get_hookimpls()))

    def _call(self, impl: pluggy.HookImpl, hook: str, kwargs: dict[str, Any]) -> Any:
        """One implementation, called: every hook call of a run passes through here."""
        try:
            result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            if self.trace:
                self._trace(f"{hook} by {impl.plugin_name}: {result!r:.300}")
            return result
        except NetraError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {impl.plugin_name!r}: {hook} raised {type(exc).__name__}: {exc}",
                              hint=f"the plugin comes from {self.origins.get(impl.plugin_name, '?')}") from exc

    def _trace(self, line: str) -> None:
        from netra_stack.model.redact import Redactor

        redactor = Redactor.for_profile(self.profile, os.environ) if self.profile else Redactor()
        print(f"netra-stack: trace: {redactor.redact(line)}", file=sys.stderr)

    def decide(self, hook: str, expected: type | tuple[type, ...], **kwargs: Any) -> Any:
        """A first-result hook: the first answer that is not None, checked against `expected`."""
        for impl in self.implementations(hook):
            result = self._call(impl, hook, kwargs)
            if result is None:
                continue
            if not isinstance(result, expected) or isinstance(result, bool):
                names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
                raise PluginError(f"plugin {impl.plugin_name!r}: {hook} returned {result!r}: expected {names} or None",
                                  hint=f"the plugin comes from {self.origins.get(impl.plugin_name, '?')}")
            self.deciders[hook] = impl.plugin_name
            return result
        return None

    def notify(self, hook: str, **kwargs: Any) -> list[Any]:
        """A collected hook: every implementation, the answers that are not None."""
        return [r for impl in self.implementations(hook) if (r := self._call(impl, hook, kwargs)) is not None]

    # --- the hooks, typed: the one place that names them ----------------------------------------

    def compose_files(self, profile: Profile, environ: Mapping[str, str]) -> list[str] | None:
        return self.decide("netra_compose_files", list, profile=profile, environ=environ)

    def environment_name(self, profile: Profile, environ: Mapping[str, str]) -> str:
        name = self.decide("netra_environment_name", str, profile=profile, environ=environ)
        if not name:
            raise PluginError("no plugin named the environment", hint="is netra.naming disabled?")
        return name

    def backends(self) -> dict[str, tuple[str, BackendFactory]]:
        """Every registered backend: name -> (the plugin that registered it, its factory)."""
        found: dict[str, tuple[str, BackendFactory]] = {}
        for impl in self.implementations("netra_backends"):
            answer = self._call(impl, "netra_backends", {})
            if answer is None:
                continue
            if not isinstance(answer, Mapping) or not all(isinstance(k, str) and callable(v) for k, v in answer.items()):
                raise PluginError(f"plugin {impl.plugin_name!r}: netra_backends returned {answer!r:.120}: expected a "
                                  "dict of name -> factory", hint=f"the plugin comes from {self.origins.get(impl.plugin_name, '?')}")
            for name, factory in answer.items():
                found.setdefault(name, (impl.plugin_name, factory))
        return found

    def backend(self, name: str, environ: Mapping[str, str], origin: str | None = None) -> Backend:
        """The backend of that name, made for `environ`; `origin` says where the name came from
        (default: the profile's `backend`)."""
        known = self.backends()
        if name not in known:
            where = origin or (f"{self.profile.source}: backend" if self.profile else "--backend")
            raise ProfileError(f"{where} = {name!r}: unknown backend; known: {', '.join(sorted(known)) or 'none'}",
                               hint="a plugin registers more with the netra_backends hook (`netra-stack plugins`)")
        plugin, factory = known[name]
        try:
            return factory(environ)
        except NetraError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {plugin!r}: backend {name!r} failed to start: {type(exc).__name__}: {exc}",
                              hint=f"the plugin comes from {self.origins.get(plugin, '?')}") from exc

    def allocate_port(self, request: PortRequest, profile: Profile, taken: set[int],
                      reservations: PortReservations) -> int:
        port = self.decide("netra_allocate_port", int, request=request, profile=profile, taken=taken,
                           reservations=reservations)
        if port is None:
            raise PluginError(f"no plugin chose a host port for {request.key}", hint="is netra.ports disabled?")
        return port

    def build_decision(self, service: str, build: dict[str, Any], plan: Plan, backend: Backend) -> BuildDecision | None:
        return self.decide("netra_build_decision", BuildDecision, service=service, build=build, plan=plan,
                           backend=backend)

    def resolve_conflict(self, plan: Plan, failure: EngineFailure | None, attempt: int,
                         backend: Backend) -> ConflictResolution | None:
        return self.decide("netra_resolve_conflict", ConflictResolution, plan=plan, failure=failure, attempt=attempt,
                           backend=backend)

    def check_health(self, service: str, container: Instance | None, plan: Plan, backend: Backend) -> ServiceHealth | None:
        return self.decide("netra_check_health", ServiceHealth, service=service, container=container, plan=plan,
                           backend=backend)

    def discover_ports(self, environment: str, containers: list[Instance]) -> list[PortBinding]:
        return list(self.decide("netra_discover_ports", list, environment=environment, containers=containers) or [])

    def collect_samples(self, environment: str, instances: list[Instance]) -> dict[str, dict[str, float]]:
        """Every plugin's measurements, merged: service -> {metric: value}."""
        merged: dict[str, dict[str, float]] = {}
        for answer in self.notify("netra_collect_samples", environment=environment, instances=instances):
            for service, values in (answer.items() if isinstance(answer, Mapping) else ()):
                merged.setdefault(str(service), {}).update({str(k): float(v) for k, v in dict(values).items()})
        return merged

    def adjust_recommendation(self, recommendation: Recommendation, runs: list[Any], profile: Profile) -> Recommendation:
        return self.decide("netra_adjust_recommendation", Recommendation, recommendation=recommendation, runs=runs,
                           profile=profile) or recommendation

    def before_up(self, plan: Plan) -> None:
        self.notify("netra_before_up", plan=plan)

    def after_up(self, plan: Plan, ports: dict[str, int]) -> None:
        self.notify("netra_after_up", plan=plan, ports=ports)

    def before_down(self, environment: str) -> None:
        self.notify("netra_before_down", environment=environment)

    def after_down(self, environment: str) -> None:
        self.notify("netra_after_down", environment=environment)

    def on_failure(self, environment: str, error: NetraError, report: HealthReport | None) -> list[str]:
        return [str(found) for found in self.notify("netra_on_failure", environment=environment, error=error,
                                                    report=report)]

    def cli_commands(self) -> list[Any]:
        return [command for contributed in self.notify("netra_cli_commands") for command in contributed]

    # --- describing ------------------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Every hook with the implementations that will run, in call order, and their origin."""
        return [{
            "hook": hook,
            "kind": "first-result" if is_decision(hook) else "collected",
            "implementations": [{
                "plugin": impl.plugin_name,
                "origin": self.origins.get(impl.plugin_name, "?"),
                "where": _location(impl.function),
                "order": "trylast" if impl.trylast else ("tryfirst" if impl.tryfirst else "normal"),
            } for impl in self.implementations(hook)],
        } for hook in hook_names()]


def _location(function) -> str:
    try:
        return f"{inspect.getsourcefile(function)}:{inspect.getsourcelines(function)[1]}"
    except (OSError, TypeError):
        return "?"

