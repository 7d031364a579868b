"""The example project's own health policy for the backend: its /health endpoint answers even
when the database behind it is down, so read the JSON and judge by its checks, not by the port.

Loaded by the profiles' `plugins = ["plugins/backend_health.py"]`; it decides for the backend
and says nothing (None) about other services, which the built-in policy then judges.
"""

from __future__ import annotations

import json
from dataclasses import replace

from netra_stack import CheckResult, hookimpl
from netra_stack.model.health import judge
from netra_stack.plugins.builtin.health import probe_container

HEALTH_URL = "http://127.0.0.1:8000/health"


@hookimpl
def netra_check_health(service, container, plan, backend):
    if service != "backend" or container is None or not container.running:
        return None
    code, output, seconds = backend.exec(container, ["curl", "-sS", "--max-time", "3", HEALTH_URL])
    failing = _failing_checks(output) if code == 0 else [f"/health unreachable: {output[-200:]}"]
    check = CheckResult(ok=not failing, output="; ".join(failing) or output[-200:], latency_ms=seconds * 1000,
                        exit_code=code)
    health = judge(service, container, check, one_shot=False, container_check=probe_container(backend, container))
    return replace(health, detail=f"/health: {check.output}") if failing else health


def _failing_checks(body: str) -> list[str]:
    """Names and errors of the checks that /health reports as failing ([] when all pass)."""
    try:
        document = json.loads(body)
    except ValueError:
        return [f"/health did not answer JSON: {body[:120]!r}"]
    checks = document.get("checks") or {}
    return [f"{name}: {result.get('error') or 'failing'}" for name, result in checks.items()
            if not (isinstance(result, dict) and result.get("ok"))]
