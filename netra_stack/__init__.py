"""netra-stack: declarative, plugin-driven Docker Compose environments for tests and development.

The public API is imported lazily, so that `netra-stack --help` does not pay for pydantic or the
Docker libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "StackManager": "manager",
    "get_default_manager": "manager",
    "Environment": "manager",
    "HealthState": "model.health",
    "HealthReport": "model.health",
    "ServiceHealth": "model.health",
    "CheckResult": "model.health",
    "BuildDecision": "model.decisions",
    "BuildOutcome": "model.decisions",
    "ConflictResolution": "model.decisions",
    "EngineFailure": "model.decisions",
    "PortBinding": "model.decisions",
    "Profile": "model.profiles",
    "load_profile": "model.profiles",
    "NetraError": "model.errors",
    "ExitCode": "model.errors",
    "hookimpl": "plugins.hookspecs",
}

if TYPE_CHECKING:
    from netra_stack.model.errors import ExitCode, NetraError
    from netra_stack.model.health import CheckResult, HealthReport, HealthState, ServiceHealth
    from netra_stack.plugins.hookspecs import hookimpl
    from netra_stack.manager import Environment, StackManager, get_default_manager
    from netra_stack.model.decisions import BuildDecision, BuildOutcome, ConflictResolution, EngineFailure, PortBinding
    from netra_stack.model.profiles import Profile, load_profile


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'netra_stack' has no attribute {name!r}")


__all__ = [*_EXPORTS, "__version__"]
