"""Service-level checks run from the host, for images without a shell (testcontainers' wait
strategies): an HTTP GET, a TCP connect, a text in the container's log. Each is bounded by
TIMEOUT and answers with a CheckResult whose output says what the host saw."""

from __future__ import annotations

import http.client
import socket
import time

from netra_stack.model.health import CheckResult
from netra_stack.model.profiles import HttpCheck, LogCheck, TcpCheck

TIMEOUT = 2.0  # seconds a connect or an answer may take: a probe, not a client
LOG_START_MARGIN = 1.0  # seconds before the container's start from which its log counts (below)


def endpoint(container, port: int) -> tuple[str, int]:
    """Where the host reaches a container port: the container's address on its network (reachable
    from the host on Linux), else the host port published for it, else the host's loopback
    (network_mode: host). The address first, because docker-proxy accepts every connection to a
    published port and only then finds nothing listening behind it (it closes, in under 1 ms
    here): a connect through it succeeds before the service listens."""
    for address in container.addresses.values():
        return address, port
    published = sorted((b for b in container.ports if b.container_port == port and b.protocol == "tcp"),
                       key=lambda b: ":" in b.host_ip)  # IPv4 first
    if published:
        return published[0].address, published[0].host_port
    return "127.0.0.1", port


def _failure(error: Exception) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return f"no answer within {TIMEOUT:g}s"
    if isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError)):
        return "connection closed without an answer"
    return str(error) or type(error).__name__


def _result(ok: bool, output: str, started: float, kind: str) -> CheckResult:
    return CheckResult(ok=ok, output=output, latency_ms=(time.perf_counter() - started) * 1000, kind=kind)


def http_check(container, check: HttpCheck) -> CheckResult:
    """GET the path; healthy when the status is the one expected."""
    host, port = endpoint(container, check.port)
    path = check.http if check.http.startswith("/") else f"/{check.http}"
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return _result(False, f"{_failure(exc)} at {host}:{port}", started, "http")
    finally:
        connection.close()
    ok = status == check.status
    return _result(ok, f"HTTP {status}" + ("" if ok else f", expected {check.status}"), started, "http")


def tcp_check(container, check: TcpCheck) -> CheckResult:
    """Healthy when a TCP connection is accepted."""
    host, port = endpoint(container, check.tcp)
    started = time.perf_counter()
    try:
        socket.create_connection((host, port), timeout=TIMEOUT).close()
    except OSError as exc:
        return _result(False, f"{_failure(exc)} at {host}:{port}", started, "tcp")
    return _result(True, f"connected to {host}:{port}", started, "tcp")


def log_check(container, check: LogCheck, backend) -> CheckResult:
    """Healthy once the log of the container's current run holds the text `times` times. A
    restarted container keeps its old log, which must not count; the engine notes the start just
    after the process began, so the log counts from a moment before it."""
    started = time.perf_counter()
    since = container.started.timestamp() - LOG_START_MARGIN if container.started else None
    seen = backend.logs(container, tail="all", since=since).count(check.log)
    return _result(seen >= check.times, f"{check.log!r} seen {seen} of {check.times} times", started, "log")


HOST_CHECKS = {HttpCheck: http_check, TcpCheck: tcp_check}


def run_host_check(backend, container, check) -> CheckResult | None:
    """The host-side check's result; None when `check` is none (no setting, or a command)."""
    if isinstance(check, LogCheck):
        return log_check(container, check, backend)  # the log is read through the backend
    runner = HOST_CHECKS.get(type(check))
    return runner(container, check) if runner else None
