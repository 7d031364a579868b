"""What the commands show, computed once as a View (rows of cells) for Terminal.draw."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netra_stack.cli.terminal import Styled, View
from netra_stack.lifecycle.inventory import Environment, primary_ports
from netra_stack.model.decisions import PortBinding
from netra_stack.model.health import HealthReport, HealthState, ServiceHealth
from netra_stack.model.usage import Usage, size, sparkline

_STATE_STYLE = {HealthState.HEALTHY: "green", HealthState.STARTING: "yellow",
                HealthState.UNHEALTHY: "red", HealthState.STOPPED: "red"}


def health_view(report: HealthReport) -> View:
    """A row per service; under a service with replicas, a row per replica. The node column
    where the backend spans several machines."""
    nodes = any(r.node for s in report.services for r in s.each)

    def row(s: ServiceHealth, name: str, why: str) -> tuple:
        cells = (name, Styled(s.state.value, _STATE_STYLE[s.state]), s.container_state, s.docker_health or "-",
                 _last_line(s.docker_probe)[:40] or "-", _check(s), "-" if s.check is None else f"{s.check.latency_ms:.0f} ms",
                 why)
        node = "" if s.replicas else s.node  # a service's replicas name theirs
        return (cells[0], node or "-", *cells[1:]) if nodes else cells

    rows = []
    for s in report.services:
        rows.append(row(s, s.service, _why(report, s)))
        rows += [row(r, f"  {r.container}", r.detail) for r in s.replicas]
    columns = ("service", "state", "container", "healthcheck", "last probe", "service check", "latency", "why")
    return View((columns[0], "node", *columns[1:]) if nodes else columns, rows,
                title=f"{report.environment} ({report.profile}): {report.state.value}, {report.running} running")


def health_details(report: HealthReport) -> list[str]:
    """For each service not healthy: why, the last probe outputs and its last log lines."""
    lines = []
    for s in report.not_healthy():
        lines.append(f"--- {s.service}: {s.state.value}: {s.detail}")
        if s.docker_probe:
            lines.append(f"    last Docker probe: {_last_line(s.docker_probe)}")
        if s.check and not s.check.ok:
            lines.append(f"    {s.check.title} output: {_last_line(s.check.output) or '(none)'}")
        if s.logs:
            lines.append("    last log lines:")
            lines += [f"      {line}" for line in s.logs.rstrip().splitlines()]
    return lines


def _last_line(text: str | None) -> str:
    return text.splitlines()[-1] if text and text.strip() else ""


def _check(s: ServiceHealth) -> str:
    if s.check is None:
        return "-"
    return "ok" if s.check.ok else f"fail: {_last_line(s.check.output)[:40] or s.check.exit_code}"


def _why(report: HealthReport, s: ServiceHealth) -> str:
    """A service's detail, and the dependency that likely holds it up."""
    cause = report.cause(s.service)
    return f"{s.detail}; {cause}" if cause else s.detail


def environments_view(envs: list[Environment]) -> View:
    return View(
        ("name", "profile", "owner", "state", "services", "ports", "age"),
        [(e.name, e.profile, e.owner, e.state, f"{e.up}/{len(e.services)}",
          ", ".join(f"{s}:{p}" for s, p in sorted(primary_ports(e.ports).items())), age(e.age_seconds))
         for e in envs],
        title="netra-stack environments", empty="no netra-stack environments on this engine")


def placement_view(envs: list[Environment]) -> View | None:
    """Each container (a swarm's tasks) with the node that runs it; None where nothing runs on
    a named node (a single engine)."""
    placed = [(e.name, i) for e in envs for i in sorted(e.instances, key=lambda i: (i["service"], i["name"]))]
    if not any(i["node"] for _, i in placed):
        return None
    return View(("environment", "service", "container", "node", "status"),
                [(env, i["service"], i["name"], i["node"] or "-", i["status"]) for env, i in placed], title="containers by node")


def age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def ports_view(bindings: Iterable[PortBinding]) -> View:
    return View(("service", "container port", "host"),
                [(b.service, f"{b.container_port}/{b.protocol}",
                  f"[{b.host_ip}]:{b.host_port}" if ":" in b.host_ip else f"{b.host_ip}:{b.host_port}") for b in bindings],
                empty="no published ports")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def stats_view(environment: str, rows: list[Usage], whole: Usage, history: dict[str, list[int]] | None = None) -> View:
    """A row per service and the environment's total; with `history`, a sparkline of each
    service's memory against its limit (against its peak where it has none)."""
    def cells(u: Usage) -> tuple:
        memory = Styled(_percent(u.memory_percent), "red" if (u.memory_percent or 0) >= 90 else "green")
        trouble = ", ".join(filter(None, [f"{u.oom_kills} OOM-killed" if u.oom_kills else "",
                                          f"throttled {u.throttled_seconds:.1f}s" if u.throttled_periods else ""]))
        return (u.service if u.status == "running" else f"{u.service} ({u.status})",
                f"{u.cpu_percent:.1f}%", _percent(u.cpu_of_limit), size(u.memory_bytes), size(u.memory_peak_bytes),
                size(u.memory_limit_bytes) if u.memory_limit_bytes else "-", memory,
                f"{size(u.net_rx_bytes)} / {size(u.net_tx_bytes)}", f"{size(u.block_read_bytes)} / {size(u.block_write_bytes)}",
                str(u.pids), str(u.restarts), Styled(trouble, "red") if trouble else "-")
    columns = ("service", "cpu", "cpu/limit", "memory", "peak", "limit", "mem/limit", "net rx/tx", "block r/w", "pids",
               "restarts", "oom / throttling")
    body = [cells(u) for u in rows] + ([cells(whole)] if len(rows) > 1 else [])
    if history is not None:  # a live table: what changes from second to second, and the sparkline
        kept = [i for i, name in enumerate(columns) if name in _LIVE_COLUMNS]
        seen = max((len(h) for h in history.values()), default=0)
        columns = (*(columns[i] for i in kept), f"memory, last {seen} s")
        body = [(*(row[i] for i in kept), sparkline(history.get(u.service, []), u.memory_limit_bytes or u.memory_peak_bytes))
                for row, u in zip(body, [*rows, whole])]
    return View(columns, body, title=f"{environment}: {len(rows)} services", empty="nothing runs")


_LIVE_COLUMNS = ("service", "cpu", "cpu/limit", "memory", "limit", "mem/limit", "restarts", "oom / throttling")


def stats_line(stamp: str, u: Usage) -> str:
    """One service in one round, for a log: `stats --watch` where stdout is not a terminal."""
    limit = f"/{size(u.memory_limit_bytes)} ({_percent(u.memory_percent)})" if u.memory_limit_bytes else ""
    return (f"{stamp} {u.service} cpu {u.cpu_percent:.1f}% mem {size(u.memory_bytes)}{limit} peak {size(u.memory_peak_bytes)}"
            f" pids {u.pids} restarts {u.restarts} oom {u.oom_kills}")


def profiles_view(rows: list[dict[str, Any]]) -> View:
    return View(("name", "environment", "extends", "description"),
                [(r["name"], r["environment"], r["extends"] or "-", r["description"]) for r in rows],
                empty="no profiles found (looked for a profiles/ directory from here upwards)")


def plugins_view(hooks: list[dict[str, Any]]) -> View:
    """Every hook with its implementations in call order, the hook named on its first row."""
    rows = []
    for hook in hooks:
        first = (Styled(hook["hook"], "bold"), hook["kind"])
        for number, impl in enumerate(hook["implementations"], 1):
            rows.append((*(first if number == 1 else ("", "")), f"{number}. {impl['plugin']}", impl["order"],
                         impl["origin"]))
        if not hook["implementations"]:
            rows.append((*first, "(none)", "", ""))
    return View(("hook", "kind", "plugin", "order", "origin"), rows)


def cleaned_view(removed: list[dict[str, str]], dry_run: bool) -> View:
    return View(("would remove" if dry_run else "removed", "name"), [(item["kind"], item["name"]) for item in removed],
                empty="nothing to clean")


def advice_view(recommendations: list, title: str = "") -> View:
    """`advise`: a row per service, current and recommended limits beside what it used."""
    from netra_stack.metrics.advise import format_cpus, format_size

    def size(value: int | None) -> str:
        return format_size(value) if value else "-"

    def cores(value: float | None) -> str:
        return "-" if value is None else format_cpus(value)

    def proposed(text: str, current: str, vetoed: bool) -> str | Styled:
        if vetoed:
            return Styled("kept", "yellow")
        return Styled(text, "bold") if text not in ("-", current) else text

    rows = []
    for r in recommendations:
        flags = [*r.flags, *([f"vetoed: {r.vetoed}"] if r.vetoed else [])]
        alarming = any(f.startswith(("OOM-killed", "throttled")) for f in r.flags)
        rows.append((r.service, size(r.current_memory_bytes), size(r.peak_memory_bytes),
                     proposed(size(r.memory_bytes), size(r.current_memory_bytes), bool(r.vetoed)),
                     cores(r.current_cpus), format_cpus(r.sustained_cpus),
                     proposed(cores(r.cpus), cores(r.current_cpus), bool(r.vetoed)),
                     Styled("; ".join(flags), "red" if alarming else "yellow") if flags else "-"))
    return View(("service", "current memory", "peak", "recommended memory", "current cpus", "sustained",
                 "recommended cpus", "flags"), rows,
                title=title, empty="no services in the recorded runs")


_FINDING_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def doctor_view(findings: list) -> View:
    """`doctor`: a row per check, what was seen and, where it is not fine, the fix."""
    rows = [(f.check, Styled(f.status, _FINDING_STYLE.get(f.status, "")), f.detail, f.fix or "") for f in findings]
    return View(("check", "status", "seen", "fix"), rows, title="netra-stack doctor")
