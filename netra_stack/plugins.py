"""Builds the PluginManager of a run: built-ins, installed packages, then the profile's plugins.

Order of registration (later registrations are called first, built-ins are `trylast`):
1. the built-in policies (netra_stack.builtin), 2. installed packages exposing the entry-point
group `netra_stack`, 3. the modules or files named in the profile's `plugins`. Names listed in
`disable_plugins` are blocked before anything registers.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pluggy

from . import hookspecs
from .builtin import BUILTIN_PLUGINS
from .errors import PluginError
from .profiles import Profile


def _load(reference: str, profile: Profile):
    """A plugin named as a file (relative to the profile's project) or as an importable module."""
    where = f"plugin {reference!r} of profile {profile.name} ({profile.source})"
    try:
        if reference.endswith(".py") or "/" in reference:
            path = (profile.root / reference).resolve()
            if not path.is_file():
                raise PluginError(f"{where}: no such file {path}", hint="paths are relative to the profile's project directory")
            spec = importlib.util.spec_from_file_location(f"netra_stack_plugin_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        return importlib.import_module(reference)
    except PluginError:
        raise
    except ModuleNotFoundError as exc:
        raise PluginError(f"{where}: cannot import: {exc}", hint="install it, or name a file such as plugins/x.py") from None
    except Exception as exc:  # a plugin that fails to import is reported, not a traceback
        raise PluginError(f"{where}: failed to load: {type(exc).__name__}: {exc}") from None


def make_plugin_manager(profile: Profile) -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name in profile.disable_plugins:
        manager.set_blocked(name)
    for name, module in BUILTIN_PLUGINS.items():
        manager.register(module, name)
    manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    for reference in profile.plugins:
        if not manager.is_blocked(reference):
            manager.register(_load(reference, profile), reference)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"profile {profile.name}: plugin {exc.plugin!r} implements an unknown hook: {exc}",
                          hint="hook names are those of netra_stack/hookspecs.py") from None
    return manager
