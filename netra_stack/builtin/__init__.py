"""The built-in policies, each an ordinary plugin registered `trylast` (see plugins.py)."""

from . import cache, conflicts, health, naming, ports

BUILTIN_PLUGINS = {
    "netra.naming": naming,
    "netra.ports": ports,
    "netra.cache": cache,
    "netra.conflicts": conflicts,
    "netra.health": health,
}
