"""The pytest plugin and `netra-stack test`."""
