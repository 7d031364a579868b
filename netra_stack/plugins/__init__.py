"""The hooks, the plugin manager that calls them, and the built-in policies (plugins themselves)."""
