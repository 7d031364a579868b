"""What the example's Python services (backend, auth) share: a small JSON HTTP server.

Standard library only, plus psycopg2 and redis from the base image for the health checks.
- GET /        a short description of the service
- GET /health  200 {"status": "ok", ...} when every check passes, else 503 "degraded" with
               each failing check's error; checks connect afresh on every call, so a service
               starts before its database and turns healthy as soon as the database does.
- one log line per request on stdout; SIGTERM/SIGINT stop the server at once.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Route = Callable[[], "tuple[int, dict]"]


def check_database() -> None:
    """SELECT 1 on DATABASE_URL."""
    import psycopg2

    conn = psycopg2.connect(_required("DATABASE_URL"), connect_timeout=2)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    finally:
        conn.close()


def check_cache() -> None:
    """PING on REDIS_URL."""
    import redis

    client = redis.Redis.from_url(_required("REDIS_URL"), socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


DEFAULT_CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "cache": check_cache}


def _required(var: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise RuntimeError(f"{var} is not set")
    return value


def _run_check(check: Callable[[], None]) -> dict:
    start = time.perf_counter()
    try:
        check()
        result = {"ok": True}
    except Exception as exc:  # any failure is the check's answer, not the server's
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc).strip()}"}
    result["latency_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


def serve(service: str, version: str, port: int, routes: dict[str, Route] | None = None,
          checks: dict[str, Callable[[], None]] | None = None) -> None:
    """Serve `service` on 0.0.0.0:$PORT (default `port`) until SIGTERM or SIGINT."""
    checks = DEFAULT_CHECKS if checks is None else checks

    def index() -> tuple[int, dict]:
        paths = sorted({"/", "/health", *(routes or {})})
        return 200, {"service": service, "version": version, "env": os.environ.get("APP_ENV", ""), "paths": paths}

    def health() -> tuple[int, dict]:
        with ThreadPoolExecutor(max_workers=max(1, len(checks))) as pool:
            results = dict(zip(checks, pool.map(_run_check, checks.values())))
        ok = all(r["ok"] for r in results.values())
        body = {"status": "ok" if ok else "degraded", "service": service, "version": version, "checks": results}
        return (200 if ok else 503), body

    table: dict[str, Route] = {"/": index, "/health": health, **(routes or {})}

    class Handler(BaseHTTPRequestHandler):
        server_version = f"netra-{service}/{version}"

        def do_GET(self) -> None:
            route = table.get(urlsplit(self.path).path)
            status, body = route() if route else (404, {"error": "not found", "path": self.path})
            data = (json.dumps(body) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (the stdlib's name)
            print(f"{service} {self.address_string()} {format % args}", flush=True)

    def stop(signum: int, _frame) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    listen = int(os.environ.get("PORT", port))
    server = ThreadingHTTPServer(("0.0.0.0", listen), Handler)
    server.daemon_threads = True
    print(f"{service} {version} listening on :{listen}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        print(f"{service} stopped", flush=True)
