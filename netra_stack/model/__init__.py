"""The data every layer shares: profiles, labels, errors, decisions, health, redaction."""
