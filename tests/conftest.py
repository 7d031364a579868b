"""Shared test set-up. The paths live in tests/helpers.py; REPO and MINI_PROFILES are imported
here too because the integration modules import them from this conftest."""

from __future__ import annotations

from .helpers import MINI_PROFILES, REPO  # noqa: F401

# A separate project that the plugin's tests run in child processes, never collected here.
collect_ignore = ["sample_project"]
