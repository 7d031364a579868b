"""Where things are, for every test module: the repository and the fixture directories that more
than one module uses. (tests/sample_project is a project of its own, run in child processes: it
does not import from here.)"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"
MINI_PROFILES = FIXTURES / "mini" / "profiles"
# The repository's own profiles (the example stack), as a user's project would have them.
REAL_PROFILES = REPO / "profiles"
