"""The verbs of an environment's life: up, build, wait, down, restart/rebuild, inventory, clean."""
