"""Who holds an environment (a process, its watchdog) and the host ports reserved for a plan."""
