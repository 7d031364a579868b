"""All terminal output: rich when stderr is a terminal, plain lines otherwise (or with NO_COLOR),
JSON on request. Progress goes to stderr, results to stdout, so `--json` output stays parseable."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .health import HealthReport, HealthState
from .manager import Environment, Reporter

_STATE_STYLE = {HealthState.HEALTHY: "green", HealthState.STARTING: "yellow",
                HealthState.UNHEALTHY: "red", HealthState.STOPPED: "red"}


def fancy() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


out = Console(highlight=False, soft_wrap=True, no_color=bool(os.environ.get("NO_COLOR")))
err = Console(stderr=True, highlight=False, soft_wrap=True, no_color=bool(os.environ.get("NO_COLOR")))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def error_line(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}" if fancy() else f"error: {message}")


class CliReporter(Reporter):
    """Progress of long operations: one line per event and per service state change; with a
    terminal, a live per-service table while waiting."""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose
        self.stream_logs = verbose
        self._seen: dict[str, str] = {}
        self._live = None

    def event(self, message: str) -> None:
        err.print(f"[cyan]•[/] {escape(message)}" if fancy() else f"netra-stack: {message}")

    def compose_line(self, line: str) -> None:
        if self.verbose:
            err.print(f"  [dim]{escape(line)}[/]" if fancy() else f"  compose: {line}")

    def log_line(self, service: str, line: str) -> None:
        err.print(f"  [magenta]{escape(service)}[/] | {escape(line)}" if fancy() else f"  {service} | {line}")

    def health(self, report: HealthReport) -> None:
        if fancy():
            from rich.live import Live

            if self._live is None:
                self._live = Live(health_table(report), console=err, transient=True, refresh_per_second=8)
                self._live.start()
            self._live.update(health_table(report))
            if report.state is not HealthState.STARTING:
                self.close()
        for s in report.services:
            line = f"{s.state.value} ({s.detail})"
            if self._seen.get(s.service) != line:
                self._seen[s.service] = line
                if not fancy():
                    err.print(f"netra-stack: {s.service}: {line}")

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def health_table(report: HealthReport) -> Table:
    table = Table(title=f"{report.environment} ({report.profile}): {report.state.value}", title_justify="left")
    for column in ("service", "state", "container", "docker health", "last probe", "service check", "latency"):
        table.add_column(column)
    for s in report.services:
        check = s.check
        table.add_row(
            s.service,
            f"[{_STATE_STYLE[s.state]}]{s.state.value}[/]",
            escape(s.container_state),
            escape(s.docker_health or "-"),
            escape((s.docker_probe or "").splitlines()[-1][:40] if s.docker_probe else "-"),
            escape("-" if check is None else ("ok" if check.ok else f"fail: {check.output.splitlines()[-1][:40] if check.output else check.exit_code}")),
            "-" if check is None else f"{check.latency_ms:.0f} ms",
        )
    return table


def print_health(report: HealthReport, *, details: bool = False) -> None:
    if fancy():
        out.print(health_table(report))
    else:
        out.print(f"{report.environment} ({report.profile}): {report.state.value}")
        for s in report.services:
            check = "-" if s.check is None else ("ok" if s.check.ok else "fail")
            latency = "" if s.check is None else f" {s.check.latency_ms:.0f}ms"
            out.print(f"  {s.service:<12} {s.state.value:<10} container={s.container_state} "
                      f"docker={s.docker_health or '-'} check={check}{latency}  {s.detail}")
    if details:
        for s in report.not_healthy():
            out.print(f"--- {s.service}: {s.state.value}: {s.detail}")
            if s.docker_probe:
                out.print(f"    last Docker probe: {s.docker_probe.splitlines()[-1]}")
            if s.check and not s.check.ok:
                out.print(f"    health command output: {s.check.output.splitlines()[-1] if s.check.output else '(none)'}")
            if s.logs:
                out.print("    last log lines:")
                for line in s.logs.rstrip().splitlines():
                    out.print(f"      {escape(line)}" if fancy() else f"      {line}")


def watch_health(get_report, every: float = 1.0) -> HealthReport:
    """Show the report live (rich) or as lines on each change (plain) until Ctrl-C; the last one."""
    import time

    report = get_report()
    last = None
    try:
        if fancy():
            from rich.live import Live

            with Live(health_table(report), console=out, refresh_per_second=4) as live:
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
    table = Table(title="netra-stack environments", title_justify="left")
    for column in ("name", "profile", "owner", "state", "services", "ports", "age"):
        table.add_column(column)
    for e in envs:
        ports = ", ".join(f"{s}:{p}" for s, p in sorted(_primary(e).items()))
        table.add_row(e.name, e.profile, e.owner, e.state,
                      f"{sum(v == 'running' for v in e.services.values())}/{len(e.services)}", ports, _age(e.age_seconds))
    if fancy():
        out.print(table)
    else:
        for e in envs:
            out.print(f"{e.name}  profile={e.profile}  owner={e.owner}  state={e.state}  services={','.join(sorted(e.services))}  "
                      f"ports={','.join(f'{s}:{p}' for s, p in sorted(_primary(e).items()))}  age={_age(e.age_seconds)}")
        if not envs:
            out.print("no netra-stack environments on this engine")


def _primary(env: Environment) -> dict[str, int]:
    from .manager import primary_ports

    return primary_ports(env.ports)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
