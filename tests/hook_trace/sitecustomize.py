"""Records the hook calls that reach a test plugin, for tests/unit/test_plugin_docs.py.

When the whole suite runs, tests/conftest.py sets NETRA_TEST_HOOK_LOG to a file and puts this
directory on PYTHONPATH, so that the CLI and pytest runs the tests start in child processes load
this file at start-up (Python imports `sitecustomize` by itself) and record into the same file as
the test session. Each call of an implementation that is not a built-in (not a module under
netra_stack.plugins.builtin or netra_stack.cli.commands) appends one JSON line: the hook, the plugin, and the outcome ("answered":
it returned something other than None, "none", or "raised"). Without the variable this file does
nothing; netra_stack.plugins.registry is patched only when something imports it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import sys

LOG_VAR = "NETRA_TEST_HOOK_LOG"
BUILTIN = ("netra_stack.plugins.builtin", "netra_stack.cli.commands")
TARGET = "netra_stack.plugins.registry"


def _record(log: str, **entry) -> None:
    with open(log, "a") as out:  # one short append per call: safe from several threads and processes
        out.write(json.dumps({**entry, "pid": os.getpid()}) + "\n")


def patch(module, log: str) -> None:
    """Wrap Plugins._call, the one place where netra-stack calls a hook implementation."""
    plugins = module.Plugins
    if getattr(plugins._call, "_netra_hook_trace", False):
        return
    original = plugins._call

    def _call(self, impl, hook, kwargs):
        if getattr(impl.plugin, "__name__", "").startswith(BUILTIN):
            return original(self, impl, hook, kwargs)
        try:
            result = original(self, impl, hook, kwargs)
        except BaseException:
            _record(log, hook=hook, plugin=impl.plugin_name, outcome="raised")
            raise
        _record(log, hook=hook, plugin=impl.plugin_name, outcome="none" if result is None else "answered")
        return result

    _call._netra_hook_trace = True
    plugins._call = _call


class _PatchOnImport:
    """A meta-path finder that patches netra_stack.plugins.registry right after it is first imported."""

    def __init__(self, log: str) -> None:
        self.log = log

    def find_spec(self, name, path=None, target=None):
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module, log = spec.loader.exec_module, self.log

        def exec_and_patch(module):
            exec_module(module)
            patch(module, log)

        spec.loader.exec_module = exec_and_patch
        return spec


def install(log: str) -> None:
    if TARGET in sys.modules:
        patch(sys.modules[TARGET], log)
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport(log))


def _chain() -> None:
    """Run the sitecustomize this file shadows, if the interpreter has one further on the path."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


if __name__ == "sitecustomize":
    if os.environ.get(LOG_VAR):
        install(os.environ[LOG_VAR])
    _chain()
