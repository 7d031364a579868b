"""Profile -> Plan, without touching an engine: names, ports, the dependency graph, fingerprints."""
