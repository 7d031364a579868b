"""Starting an engine that cannot be reached (netra_stack.backends.compose.starting), without an
engine: each platform's command, and the start bounded and said, real commands standing in for
the start command. Starting a real second engine is tests/integration/test_engine_start.py."""

from __future__ import annotations

import sys

import pytest

from netra_stack.backends.compose.starting import start_command, start_engine
from netra_stack.model.errors import DockerUnavailableError


def test_each_platform_has_its_way_to_start_the_engine():
    def which(name, found=("systemctl", "service")):
        return f"/usr/bin/{name}" if name in found else None

    assert start_command("linux", {}, which, systemd=lambda: True)[0] == ["systemctl", "start", "docker"]
    assert start_command("linux", {}, which, systemd=lambda: False)[0] == ["service", "docker", "start"]
    assert start_command("darwin", {}, which)[0] == ["open", "-a", "Docker"]
    assert start_command("win32", {"ProgramFiles": "D:/Programs"}, which)[0] == [
        str(__import__("pathlib").Path("D:/Programs") / "Docker" / "Docker" / "Docker Desktop.exe")]
    with pytest.raises(DockerUnavailableError, match="neither systemd nor `service`"):
        start_command("linux", {}, lambda name: None, systemd=lambda: False)


def test_the_engine_is_waited_for_until_it_answers_each_step_said():
    answers, lines = iter([False, False, True]), []
    start_engine(lambda: next(answers), "unix:///x.sock", [sys.executable, "-c", "pass"], 10, lines.append, {})
    assert lines[0].startswith("the engine at unix:///x.sock cannot be reached: starting it with `")
    assert lines[1] == "waiting for the engine at unix:///x.sock to answer (up to 10s)"
    assert lines[2].startswith("the engine at unix:///x.sock answers")


@pytest.mark.parametrize(("command", "message"), [
    ([sys.executable, "-c", "print('no permission to start docker'); raise SystemExit(3)"],
     "exited 3: no permission to start docker"),
    ([sys.executable, "-c", "print('starting...', flush=True); import time; time.sleep(30)"],
     "did not finish within 1s: starting..."),
    (["/nonexistent/start-docker"], "/nonexistent/start-docker not found"),
    ([sys.executable, "-c", "pass"], "ran, but the engine at unix:///x.sock did not answer within 1s"),
])
def test_a_start_that_fails_hangs_or_leaves_no_engine_is_bounded_and_says_what_was_tried(command, message):
    with pytest.raises(DockerUnavailableError) as raised:
        start_engine(lambda: False, "unix:///x.sock", command, 1, lambda line: None, {})
    assert message in raised.value.message and " ".join(command) in raised.value.message
    assert "engine.start_command" in raised.value.hint
