"""`netra-stack health`: each service's health, once or live."""

from __future__ import annotations

import sys
import time

import click

from netra_stack.cli.options import command, json_option, manager, name_option, profile_option, terminal


@command("health")
@profile_option
@name_option
@click.option("--logs", "with_logs", is_flag=True, help="Add the last log lines of services that are not healthy.")
@click.option("--watch", "-w", is_flag=True, help="A live view, refreshed every second, until Ctrl-C.")
@json_option
def health(profile, env_name, with_logs, watch) -> None:
    """Health of every service (container, Docker healthcheck, service check); exit 0 only if all HEALTHY."""
    from netra_stack.cli.views import health_details, health_view
    from netra_stack.model.errors import ExitCode

    chosen = manager(profile)
    shown = terminal()
    if watch:
        report = _watch(lambda: chosen.get_health_report(env_name))
    else:
        report = chosen.get_health_report(env_name, with_logs=with_logs)
        if shown.as_json:
            shown.data(report.as_dict())
        else:
            shown.draw(health_view(report))
            for line in health_details(report) if with_logs else ():
                shown.say(line)
    sys.exit(ExitCode.OK if report.healthy else ExitCode.FAILED)


def _watch(get_report, every: float = 1.0):
    """The report redrawn in place (a terminal) or drawn again on each change, until Ctrl-C; the last one."""
    from netra_stack.cli.views import health_view

    shown = terminal()
    report = get_report()
    try:
        if shown.fancy(sys.stdout):
            with shown.live(health_view(report)) as update:
                while True:
                    time.sleep(every)
                    report = get_report()
                    update(health_view(report))
        last = None
        while True:
            summary = [(s.service, s.state, s.detail) for s in report.services]
            if summary != last:
                shown.draw(health_view(report))
                sys.stdout.flush()
                last = summary
            time.sleep(every)
            report = get_report()
    except KeyboardInterrupt:
        return report
