"""The `netra-stack` command line."""
