"""Unit-test helpers: profile directories written under tmp_path, and a compose model shaped like
`docker compose config --format json` output. Pure logic only: nothing here touches Docker."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import docker
import pytest

from netra_stack.model.profiles import load_profile
from netra_stack.plugins.builtin import backends as builtin_backends
from tests.fake_backend import FakeWorld, install
from tests.helpers import REAL_PROFILES, REPO  # noqa: F401  (unit modules import them from here)

# The two keys every loadable profile needs (after `extends`).
MINIMAL = 'environment = "test"\ncompose_files = ["docker-compose.yml"]\n'

# The in-memory backend (tests/fake_backend.py): the plugin that registers it as "fake", and a world.
PLUGIN = Path(__file__).resolve().parents[1] / "fake_backend_plugin.py"
DB = {"image": "postgres:15", "ports": [{"mode": "ingress", "target": 5432, "published": "5432", "protocol": "tcp"}]}
CACHE = {"image": "redis:7", "ports": [{"mode": "ingress", "target": 6379, "protocol": "tcp"}]}
SIMPLE = {"services": {"db": DB, "cache": CACHE}}


@pytest.fixture
def no_engine(monkeypatch):
    """Anything that reaches for Docker, the compose backend or a child process fails the test."""

    def refused(*args, **kwargs):
        raise AssertionError("an engine-free test reached for Docker or a process")

    monkeypatch.setattr(docker, "from_env", refused)
    monkeypatch.setattr(docker.DockerClient, "__init__", refused)
    monkeypatch.setattr(docker.APIClient, "__init__", refused)
    monkeypatch.setattr(builtin_backends, "compose", refused)
    monkeypatch.setattr(subprocess, "Popen", refused)


@pytest.fixture
def world():
    """The fake backend's world, with SIMPLE's services."""
    yield install(FakeWorld(SIMPLE))
    install(None)


@pytest.fixture
def profile_dir(tmp_path: Path):
    """write({"name": "toml text", ...}) -> the profiles/ directory holding those files."""
    folder = tmp_path / "profiles"
    folder.mkdir()

    def write(files: dict[str, str]) -> Path:
        for name, text in files.items():
            (folder / f"{name}.toml").write_text(textwrap.dedent(text))
        return folder

    return write


@pytest.fixture
def load(profile_dir):
    """load(text, name="p", others={...}) -> the loaded Profile `name` (others are extra files)."""

    def load_text(text: str, name: str = "p", others: dict[str, str] | None = None):
        folder = profile_dir({name: text, **(others or {})})
        return load_profile(name, dirs=[folder])

    return load_text


@pytest.fixture
def model() -> dict:
    """A base compose model as `docker compose config --format json` prints it."""
    return {
        "name": "base",
        "services": {
            "postgres": {
                "image": "postgres:15",
                "command": ["postgres"],
                "ports": [{"mode": "ingress", "target": 5432, "published": "5432", "protocol": "tcp"}],
            },
            "redis": {
                "image": "redis:7",
                "ports": [{"mode": "ingress", "target": 6379, "published": "6379", "protocol": "tcp"}],
            },
            "worker": {"image": "worker", "command": "python -m worker --verbose"},
        },
        "networks": {"default": {"name": "base_default"}, "shared": {"name": "shared", "external": True}},
        "volumes": {"pgdata": {"name": "base_pgdata"}, "outside": {"name": "outside", "external": True}},
    }
