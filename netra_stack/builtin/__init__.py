"""The built-in policies, each an ordinary plugin registered `trylast` (see plugins.py)."""

from . import cache, conflicts, health, ports

BUILTIN_PLUGINS = {
    "netra.ports": ports,
    "netra.health": health,
    "netra.conflicts": conflicts,
    "netra.cache": cache,
}
