"""Where things are, for every test module: the repository and the fixture directories that more
than one module uses. (tests/sample_project is a project of its own, run in child processes: it
does not import from here.)"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"
MINI_PROFILES = FIXTURES / "mini" / "profiles"
# The repository's own profiles (the example stack), as a user's project would have them.
REAL_PROFILES = REPO / "profiles"
# The example's base images, built by scripts/bootstrap: every real-engine test needs them.
BUSYBOX = "netra-example/busybox:1.35"
BASE_IMAGE = "netra-example/base:bookworm"
LEAN_TOOLS = "netra-example/lean-tools:bookworm"  # the lean images' build stage copies from it
EXAMPLE_IMAGES = (BUSYBOX, BASE_IMAGE, LEAN_TOOLS)
# The session's engine is Podman (NETRA_TEST_ENGINE=podman, tests/conftest.py): a few verdicts
# differ there, each said where it is asserted.
ON_PODMAN = os.environ.get("NETRA_TEST_ENGINE") == "podman"
