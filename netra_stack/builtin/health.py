"""Built-in health policy: Docker's healthcheck plus the profile's health command, run in the container."""

from __future__ import annotations

from ..health import CheckResult, judge
from ..hookspecs import hookimpl


@hookimpl(trylast=True)
def netra_check_health(service, container, plan):
    from .. import engine

    command = plan.health_command(service)
    check = None
    if command and container is not None and container.running:
        code, output, seconds = engine.execute(container.id, command)
        check = CheckResult(ok=code == 0, output=output[-500:], latency_ms=seconds * 1000, exit_code=code)
    return judge(service, container, check, one_shot=plan.is_one_shot(service))
