"""Shared test set-up: where the repository and the fixture profiles are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MINI_PROFILES = REPO / "tests" / "fixtures" / "mini" / "profiles"

# A separate project that the plugin's tests run in child processes, never collected here.
collect_ignore = ["sample_project"]
