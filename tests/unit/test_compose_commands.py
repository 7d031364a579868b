"""How compose is invoked: reading the files runs the Compose plugin's binary with the options
python-on-whales gives `docker compose`; where that binary is not found, `docker compose` runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netra_stack.backends.compose import project
from netra_stack.backends.compose.project import Compose, compose_plugin


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    """A DOCKER_CONFIG whose cli-plugins hold an executable docker-compose."""
    plugins = tmp_path / "cli-plugins"
    plugins.mkdir()
    (plugins / "docker-compose").write_text("#!/bin/sh\n")
    (plugins / "docker-compose").chmod(0o755)
    monkeypatch.setattr(project, "_SYSTEM_PLUGIN_FOLDERS", ())
    project._plugin_in.cache_clear()
    yield tmp_path
    project._plugin_in.cache_clear()


@pytest.mark.parametrize("files, env_files, profiles", [
    (["a/compose.yml", "a/compose.test.yml"], ["a/.env", "state/compose.env"], ["debug", "tools"]),
    (["a/compose.yml"], [], []),
    ([], [], []),  # by project name alone: compose runs in an empty directory
])
def test_a_read_has_the_options_python_on_whales_gives_docker_compose(docker_config, files, env_files, profiles):
    compose = Compose("proj-1", [Path(f) for f in files], env_files=[Path(f) for f in env_files], profiles=profiles,
                      environ={"DOCKER_CONFIG": str(docker_config)})
    whales = compose._command("config", "--format", "json")
    assert whales[1] == "compose"
    assert compose._reading("config", "--format", "json") == [
        str(docker_config / "cli-plugins" / "docker-compose"), *whales[2:]]


def test_without_the_plugins_binary_a_read_runs_docker_compose(docker_config):
    (docker_config / "cli-plugins" / "docker-compose").unlink()
    compose = Compose("proj-1", [Path("compose.yml")], environ={"DOCKER_CONFIG": str(docker_config)})
    assert compose_plugin({"DOCKER_CONFIG": str(docker_config)}) is None
    assert compose._reading("config") == compose._command("config")


def test_plugin_folders_of_the_clis_own_config_leave_the_choice_to_the_cli(docker_config):
    (docker_config / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": ["/opt/plugins"]}))
    assert compose_plugin({"DOCKER_CONFIG": str(docker_config)}) is None
    project._plugin_in.cache_clear()
    (docker_config / "config.json").write_text(json.dumps({"auths": {}}))
    assert compose_plugin({"DOCKER_CONFIG": str(docker_config)}) == str(docker_config / "cli-plugins" / "docker-compose")
