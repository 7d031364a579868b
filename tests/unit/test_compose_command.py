"""The compose command line: python-on-whales builds it, and the Compose plugin's binary runs it
where the docker CLI would find that binary. Nothing is run here; the integration tests run
every command through it on the real engines."""

from __future__ import annotations

import json
from pathlib import Path

from netra_stack.backends.compose.project import Compose, _plugin_in


def _config_with_plugin(folder: Path) -> Path:
    plugin = folder / "cli-plugins" / "docker-compose"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    return plugin


def test_the_plugin_in_docker_config_runs_compose_with_python_on_whales_arguments(tmp_path):
    plugin = _config_with_plugin(tmp_path / "docker")
    files = [tmp_path / "compose.yaml", tmp_path / "override.yml"]
    compose = Compose("proj", files, profiles=["debug"], environ={"DOCKER_CONFIG": str(tmp_path / "docker")})
    command = compose._command("config", "--format", "json")
    assert command == [str(plugin), "--file", str(files[0]), "--file", str(files[1]), "--profile", "debug",
                       "--project-name", "proj", "config", "--format", "json"]


def test_plugin_folders_of_the_clis_own_config_leave_the_choice_to_docker_compose(tmp_path):
    config = tmp_path / "docker"
    _config_with_plugin(config)
    (config / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": [str(tmp_path / "elsewhere")]}))
    compose = Compose("proj", [tmp_path / "compose.yaml"], environ={"DOCKER_CONFIG": str(config)})
    assert _plugin_in(str(config)) is None
    assert compose._command("config")[1:3] == ["compose", "--file"]  # `docker compose`, as python-on-whales builds it


def test_a_plugin_that_is_not_executable_is_not_run(tmp_path):
    plugin = _config_with_plugin(tmp_path / "docker")
    plugin.chmod(0o644)
    assert _plugin_in(str(tmp_path / "docker")) != str(plugin)
