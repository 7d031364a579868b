"""All terminal output: rich when stderr is a terminal, plain lines otherwise (or with NO_COLOR),
JSON on request. Progress goes to stderr, results to stdout, so `--json` output stays parseable.
rich is imported only for a terminal: plain output needs none of it (about 50 ms of start-up)."""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from netra_stack.model.health import HealthReport, HealthState
from netra_stack.lifecycle.context import Reporter
from netra_stack.lifecycle.inventory import Environment

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

_STATE_STYLE = {HealthState.HEALTHY: "green", HealthState.STARTING: "yellow",
                HealthState.UNHEALTHY: "red", HealthState.STOPPED: "red"}


def fancy() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


@lru_cache(maxsize=2)
def _rich(stderr: bool = False) -> Console:
    """rich's console for stdout or stderr, once fancy() said so."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _say(text: str, *, stderr: bool = False) -> None:
    """One plain line."""
    print(text, file=sys.stderr if stderr else sys.stdout)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def error_line(message: str) -> None:
    if fancy():
        _rich(stderr=True).print(f"[bold red]error:[/] {_escape(message)}")
    else:
        _say(f"error: {message}", stderr=True)


class CliReporter(Reporter):
    """Progress of long operations: one line per event and per service state change; with a
    terminal, a live per-service table while waiting."""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose
        self.stream_logs = verbose
        self._seen: dict[str, str] = {}
        self._live = None

    def event(self, message: str) -> None:
        if fancy():
            _rich(stderr=True).print(f"[cyan]•[/] {_escape(message)}")
        else:
            _say(f"netra-stack: {message}", stderr=True)

    def compose_line(self, line: str) -> None:
        if not self.verbose:
            return
        if fancy():
            _rich(stderr=True).print(f"  [dim]{_escape(line)}[/]")
        else:
            _say(f"  compose: {line}", stderr=True)

    def log_line(self, service: str, line: str) -> None:
        if fancy():
            _rich(stderr=True).print(f"  [magenta]{_escape(service)}[/] | {_escape(line)}")
        else:
            _say(f"  {service} | {line}", stderr=True)

    def health(self, report: HealthReport) -> None:
        if fancy():
            from rich.live import Live

            if self._live is None:
                self._live = Live(health_table(report), console=_rich(stderr=True), transient=True, refresh_per_second=8)
                self._live.start()
            self._live.update(health_table(report))
            if report.state is not HealthState.STARTING:
                self.close()
        for s in report.services:
            line = f"{s.state.value} ({s.detail})"
            if self._seen.get(s.service) != line:
                self._seen[s.service] = line
                if not fancy():
                    _say(f"netra-stack: {s.service}: {line}", stderr=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def health_table(report: HealthReport) -> Table:
    from rich.table import Table

    table = Table(title=_headline(report), title_justify="left")
    for column in ("service", "state", "container", "docker health", "last probe", "service check", "latency", "why"):
        table.add_column(column)
    for s in report.services:
        check = s.check
        table.add_row(
            s.service,
            f"[{_STATE_STYLE[s.state]}]{s.state.value}[/]",
            _escape(s.container_state),
            _escape(s.docker_health or "-"),
            _escape((s.docker_probe or "").splitlines()[-1][:40] if s.docker_probe else "-"),
            _escape("-" if check is None else ("ok" if check.ok else f"fail: {check.output.splitlines()[-1][:40] if check.output else check.exit_code}")),
            "-" if check is None else f"{check.latency_ms:.0f} ms",
            _escape(_why(report, s)),
        )
    return table


def _headline(report: HealthReport) -> str:
    return f"{report.environment} ({report.profile}): {report.state.value}, {report.running} running"


def _why(report: HealthReport, s) -> str:
    """A service's detail, and the dependency that likely holds it up."""
    cause = report.cause(s.service)
    return f"{s.detail}; {cause}" if cause else s.detail


def print_health(report: HealthReport, *, details: bool = False) -> None:
    if fancy():
        _rich().print(health_table(report))
    else:
        _say(_headline(report))
        for s in report.services:
            check = "-" if s.check is None else ("ok" if s.check.ok else "fail")
            latency = "" if s.check is None else f" {s.check.latency_ms:.0f}ms"
            _say(f"  {s.service:<12} {s.state.value:<10} container={s.container_state} "
                 f"docker={s.docker_health or '-'} check={check}{latency}  {_why(report, s)}")
    if details:
        for s in report.not_healthy():
            _say(f"--- {s.service}: {s.state.value}: {s.detail}")
            if s.docker_probe:
                _say(f"    last Docker probe: {s.docker_probe.splitlines()[-1]}")
            if s.check and not s.check.ok:
                _say(f"    {s.check.title} output: {s.check.output.splitlines()[-1] if s.check.output else '(none)'}")
            if s.logs:
                _say("    last log lines:")
                for line in s.logs.rstrip().splitlines():
                    _say(f"      {line}")


def watch_health(get_report, every: float = 1.0) -> HealthReport:
    """Show the report live (rich) or as lines on each change (plain) until Ctrl-C; the last one."""
    import time

    report = get_report()
    last = None
    try:
        if fancy():
            from rich.live import Live

            with Live(health_table(report), console=_rich(), refresh_per_second=4) as live:
                while True:
                    time.sleep(every)
                    report = get_report()
                    live.update(health_table(report))
        while True:
            summary = [(s.service, s.state, s.detail) for s in report.services]
            if summary != last:
                print_health(report)
                last = summary
            time.sleep(every)
            report = get_report()
    except KeyboardInterrupt:
        return report


def print_environments(envs: list[Environment]) -> None:
    if fancy():
        from rich.table import Table

        table = Table(title="netra-stack environments", title_justify="left")
        for column in ("name", "profile", "owner", "state", "services", "ports", "age"):
            table.add_column(column)
        for e in envs:
            ports = ", ".join(f"{s}:{p}" for s, p in sorted(_primary(e).items()))
            table.add_row(e.name, e.profile, e.owner, e.state,
                          f"{sum(v == 'running' for v in e.services.values())}/{len(e.services)}", ports,
                          _age(e.age_seconds))
        _rich().print(table)
    else:
        for e in envs:
            _say(f"{e.name}  profile={e.profile}  owner={e.owner}  state={e.state}  services={','.join(sorted(e.services))}  "
                 f"ports={','.join(f'{s}:{p}' for s, p in sorted(_primary(e).items()))}  age={_age(e.age_seconds)}")
        if not envs:
            _say("no netra-stack environments on this engine")


def _primary(env: Environment) -> dict[str, int]:
    from netra_stack.lifecycle.inventory import primary_ports

    return primary_ports(env.ports)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
