"""The progress of long operations (up, restart, rebuild, test), on stderr."""

from __future__ import annotations

import sys

from netra_stack.cli.terminal import Terminal
from netra_stack.cli.views import health_view
from netra_stack.lifecycle.context import Reporter
from netra_stack.model.health import HealthReport, HealthState


class CliReporter(Reporter):
    """Progress of long operations: one line per event and per service state change; on a
    terminal, a live per-service table while waiting."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.stream_logs = terminal.verbosity > 0
        self._seen: dict[str, str] = {}
        self._live = None  # the live table while waiting (a terminal), and what redraws it
        self._update = None

    def event(self, message: str) -> None:
        self.terminal.progress(message)

    def compose_line(self, line: str) -> None:
        if self.terminal.verbosity > 0:
            self.terminal.progress(line, style="dim", mark=" ", prefix="  compose: ")

    def log_line(self, service: str, line: str) -> None:
        self.terminal.progress(f"{service} | {line}", style="magenta", mark=" ", prefix="  ")

    def health(self, report: HealthReport) -> None:
        if self.terminal.verbosity < 0:
            return
        if self.terminal.fancy(sys.stderr):
            if self._live is None:
                self._live = self.terminal.live(health_view(report), err=True, transient=True)
                self._update = self._live.__enter__()
            self._update(health_view(report))
            if report.state is not HealthState.STARTING:
                self.close()
            return
        for s in report.services:
            line = f"{s.state.value} ({s.detail})"
            if self._seen.get(s.service) != line:
                self._seen[s.service] = line
                self.terminal.say(f"netra-stack: {s.service}: {line}", err=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None
