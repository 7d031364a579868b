"""The built-in policies and the compose backend, each an ordinary plugin registered `trylast`
(see registry.py)."""

from netra_stack.plugins.builtin import backends, cache, conflicts, health, naming, ports

BUILTIN_PLUGINS = {
    "netra.backends": backends,
    "netra.naming": naming,
    "netra.ports": ports,
    "netra.cache": cache,
    "netra.conflicts": conflicts,
    "netra.health": health,
}
