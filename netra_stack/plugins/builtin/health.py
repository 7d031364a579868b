"""Built-in health policy: Docker's healthcheck plus the profile's health check: a command run in
the container, or an http, tcp or log check from the host (host_checks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from netra_stack.model.health import CheckResult, judge
from netra_stack.model.instances import healthcheck_argv
from netra_stack.plugins.hookspecs import hookimpl
from netra_stack.plugins.builtin.host_checks import run_host_check


def run_check(backend, container, argv) -> CheckResult:
    """Run a health command inside the container: its result, output tail and latency."""
    code, output, seconds = backend.exec(container, argv)
    return CheckResult(ok=code == 0, output=output[-500:], latency_ms=seconds * 1000, exit_code=code)


def probe_container(backend, container, ran: tuple[list[str], CheckResult] | None = None,
                    test: Sequence[str] | None = None) -> CheckResult | None:
    """The orchestrator's own healthcheck test (Docker's; the kubelet's readiness probe), run now,
    while the orchestrator still says `starting` (Docker's first probe comes one interval after
    start); None when it has spoken or there is no such test.
    `ran`: a command just run in the container and its result, reused when it is that very test.
    `test`: the test as the compose files say it, run rather than the one the engine stored."""
    if container is None or not container.running or container.health != "starting":
        return None
    argv = healthcheck_argv(test or container.healthcheck)
    if ran and argv == ran[0]:
        return ran[1]
    return run_check(backend, container, argv) if argv else None


@hookimpl(trylast=True)
def netra_check_health(service, container, plan, backend):
    if backend.runs_checks:  # the orchestrator runs the check: its verdict is the instance's health
        verdict = stand_in = None
        if container is not None and container.running and container.health:
            verdict = CheckResult(ok=container.health == "healthy", output=container.health_output or "not ready yet",
                                  latency_ms=0.0, kind="readiness")
            # Until it has judged (the kubelet probes once a period, first at a random moment in
            # it), the same test run now stands in, as for Docker's healthcheck below; the
            # orchestrator's own message of a failure is kept.
            stand_in = probe_container(backend, container)
            if stand_in is not None and (stand_in.ok or not container.health_output):
                verdict = replace(stand_in, kind="readiness")
        return judge(service, container, verdict, one_shot=plan.is_one_shot(service), container_check=stand_in)
    command = plan.health_command(service)
    check = None
    if container is not None and container.running:
        check = (run_check(backend, container, command) if command
                 else run_host_check(backend, container, plan.health_check(service)))
    # While the service's own check fails, Docker's test cannot change the verdict: skip it
    # (half the execs of a wait, on a stack still coming up). Where both are the same command, the
    # one run answers for both.
    container_check = None
    if check is None or check.ok:
        container_check = probe_container(backend, container, ran=(command, check) if command and check else None,
                                          test=plan.healthchecks.get(service))
    return judge(service, container, check, one_shot=plan.is_one_shot(service), container_check=container_check)
