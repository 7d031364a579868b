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
    "HealthState": "health",
    "HealthReport": "health",
    "ServiceHealth": "health",
    "CheckResult": "health",
    "BuildDecision": "policy",
    "BuildOutcome": "policy",
    "ConflictResolution": "policy",
    "EngineFailure": "policy",
    "PortBinding": "policy",
    "Profile": "profiles",
    "load_profile": "profiles",
    "NetraError": "errors",
    "ExitCode": "errors",
    "hookimpl": "hookspecs",
}

if TYPE_CHECKING:
    from .errors import ExitCode, NetraError
    from .health import CheckResult, HealthReport, HealthState, ServiceHealth
    from .hookspecs import hookimpl
    from .manager import Environment, StackManager, get_default_manager
    from .policy import BuildDecision, BuildOutcome, ConflictResolution, EngineFailure, PortBinding
    from .profiles import Profile, load_profile


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'netra_stack' has no attribute {name!r}")


__all__ = [*_EXPORTS, "__version__"]
