"""Built-in health policy: Docker's healthcheck plus the profile's health command, run in the container."""

from __future__ import annotations

from ..health import CheckResult, judge
from ..hookspecs import hookimpl


def run_check(container, argv) -> CheckResult:
    """Run a health command inside the container: its result, output tail and latency."""
    from .. import engine

    code, output, seconds = engine.execute(container.id, argv)
    return CheckResult(ok=code == 0, output=output[-500:], latency_ms=seconds * 1000, exit_code=code)


@hookimpl(trylast=True)
def netra_check_health(service, container, plan):
    running = container is not None and container.running
    command = plan.health_command(service)
    check = run_check(container, command) if command and running else None
    container_check = None
    if running and container.health == "starting" and container.healthcheck_argv():
        # Docker probes first one interval after start: run its test now rather than wait for it
        container_check = run_check(container, container.healthcheck_argv())
    return judge(service, container, check, one_shot=plan.is_one_shot(service), container_check=container_check)
