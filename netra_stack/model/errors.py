"""User-facing errors: one exception type, caught once at the CLI edge.

Every error carries a one-line message that names the file, key or value at fault, a hint,
and an exit code that is distinct per kind of failure (documented in README.md).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # the work itself failed: e.g. `health` found a service not HEALTHY
    USAGE = 2  # bad command-line usage (click's own code)
    PROFILE_INVALID = 3  # a profile file, key or value is wrong
    NOT_FOUND = 4  # unknown profile, service or environment
    DOCKER_UNAVAILABLE = 5  # the Docker engine cannot be reached
    COMPOSE_MISSING = 6  # the Docker Compose v2 plugin is missing
    ENGINE_ERROR = 7  # the engine refused: conflict, port clash, failed build
    NOT_HEALTHY = 8  # services did not become healthy in time, or failed
    PLUGIN_ERROR = 9  # a plugin is missing, broken, or misbehaved
    INTERRUPTED = 130  # Ctrl-C / SIGTERM


class NetraError(Exception):
    """An error a user can act on."""

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.diagnostics: list[str] = []  # added by netra_on_failure plugins

    def __str__(self) -> str:
        return self.message

    @property
    def line(self) -> str:
        """The one line a user sees: the message and its hint."""
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class UsageError(NetraError):
    """What was asked cannot be done as asked (e.g. a rebuild of production images)."""

    exit_code = ExitCode.USAGE


class ProfileError(NetraError):
    exit_code = ExitCode.PROFILE_INVALID


class NotFoundError(NetraError):
    exit_code = ExitCode.NOT_FOUND


class DockerUnavailableError(NetraError):
    exit_code = ExitCode.DOCKER_UNAVAILABLE


class ComposeMissingError(NetraError):
    exit_code = ExitCode.COMPOSE_MISSING


class EngineError(NetraError):
    """The engine or compose refused an operation. `stderr` keeps compose's own text."""

    exit_code = ExitCode.ENGINE_ERROR

    def __init__(self, message: str, hint: str | None = None, stderr: str = "") -> None:
        super().__init__(message, hint)
        self.stderr = stderr


class NotHealthyError(NetraError):
    """Services did not become healthy; `report` is the HealthReport that says why, `picture`
    the stack drawn with it (netra_stack.graphs.picture.Picture: what held what up)."""

    exit_code = ExitCode.NOT_HEALTHY

    def __init__(self, message: str, hint: str | None = None, report=None, picture=None) -> None:
        super().__init__(message, hint)
        self.report = report
        self.picture = picture


class PluginError(NetraError):
    exit_code = ExitCode.PLUGIN_ERROR


class Abandoned(NetraError):
    """Interrupted again while an environment was being removed: netra-stack stopped waiting.
    (A first Ctrl-C is Python's KeyboardInterrupt, turned into the same exit code by the CLI.)"""

    exit_code = ExitCode.INTERRUPTED
