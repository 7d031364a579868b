"""Resource use over time: run records, the recorder, and advise's limits."""
