"""The dashboard's web application (Starlette): the page and its assets, the board's snapshots as
server-sent events, a service's log as it grows, and the actions (restart a service, down an
environment, up a profile), each run as the netra-stack command line would run it.

Every request carries the token printed with the URL (`?token=`, or the X-Netra-Token header);
an action is a POST that must carry it in the header and come from the page's own origin, so
that no other site a browser has open can make one."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from netra_stack.dashboard.board import Board
from netra_stack.model.redact import Redactor

TOKEN_HEADER = "X-Netra-Token"
ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}
HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle event stream
LOG_POLL = 0.5  # seconds between looks at a followed log
USAGE_EVERY = 1.0  # seconds between usage rows sent (the engine samples once a second)
ACTION_TIMEOUT = 900.0  # seconds an action's command may take (an `up` builds)


def _asset(name: str) -> str:
    return resources.files("netra_stack.dashboard").joinpath("static", name).read_text()


class Dashboard:
    """The application over a Board (started with the server): each of the board's snapshots
    wakes every open event stream. `backend_factory` gives the backend logs are read through,
    `profiles` the names `up` may start, `environ` the environment of the actions' commands."""

    def __init__(self, board: Board, token: str, backend_factory: Callable[[], Any],
                 profiles: Callable[[], list[str]], environ: Mapping[str, str], redactor: Redactor | None = None) -> None:
        self.token = token
        self.environ = dict(environ)
        self.profiles = profiles
        self.backend_factory = backend_factory
        self.redactor = redactor or Redactor()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Event] = set()
        self.board = board
        board.on_change = self._changed
        self.app = Starlette(routes=[
            Route("/", self.page), Route("/static/{name}", self.asset),
            Route("/api/state", self.state), Route("/api/events", self.events), Route("/api/logs", self.logs),
            Route("/api/usage", self.usage),
            Route("/api/actions", self.act, methods=["POST"]),
        ], lifespan=self._lifespan)
        self.app.add_middleware(_Guard, token=token)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app):
        self._loop = asyncio.get_running_loop()
        self.board.start()
        try:
            yield
        finally:
            self.board.stop()

    def _changed(self, snapshot: dict) -> None:
        """From the board's thread: wake every stream waiting for the next snapshot."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: [waiter.set() for waiter in list(self._waiters)])

    # --- the page ----------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        html = _asset("index.html").replace("{{token}}", self.token)
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return Response("not found", status_code=404)
        return Response(_asset(name), media_type=ASSETS[name], headers={"Cache-Control": "no-store"})

    async def state(self, request: Request) -> Response:
        return JSONResponse({**self.board.snapshot, "profiles": self.profiles()})

    async def events(self, request: Request) -> Response:
        """Every snapshot as it comes, the current one first (server-sent events)."""

        async def stream():
            waiter = asyncio.Event()
            self._waiters.add(waiter)
            try:
                sent = -1
                while True:
                    snapshot = self.board.snapshot
                    if snapshot["version"] != sent:
                        sent = snapshot["version"]
                        yield f"data: {json.dumps({**snapshot, 'profiles': self.profiles(), 'sent': time.time()})}\n\n"
                    try:
                        await asyncio.wait_for(waiter.wait(), HEARTBEAT)
                    except asyncio.TimeoutError:
                        yield ": still here\n\n"
                    waiter.clear()
                    if await request.is_disconnected():
                        break
            finally:
                self._waiters.discard(waiter)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    async def logs(self, request: Request) -> Response:
        """A service's log as it grows: its last 100 lines, then each new one (secrets masked)."""
        environment, service = request.query_params.get("environment", ""), request.query_params.get("service", "")

        def read(since: float | None) -> str:
            backend = self.backend_factory()
            found = [i for i in backend.instances(environment, detail=False) if i.service == service]
            if not found:
                return ""
            return backend.logs(found[0], tail=100 if since is None else "all", since=since)

        async def stream():
            since = None
            while not await request.is_disconnected():
                now = time.time()
                try:
                    text = await asyncio.to_thread(read, since)
                except Exception as exc:
                    text = f"(no logs: {exc})\n"
                since = now
                for line in self.redactor.redact(text).splitlines():
                    yield f"data: {json.dumps(line)}\n\n"
                await asyncio.sleep(LOG_POLL)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    async def usage(self, request: Request) -> Response:
        """An environment's memory and CPU against its limits, once a second, while the page asks
        (a stats stream costs: one per environment shown, only while its panel is open)."""
        environment = request.query_params.get("environment", "")

        async def stream():
            from netra_stack.model.usage import by_service

            samples = await asyncio.to_thread(lambda: self.backend_factory().stats(environment))
            try:
                while not await request.is_disconnected():
                    rows = [{"service": u.service, "memory": u.memory_bytes, "limit": u.memory_limit_bytes,
                             "cpu": round(u.cpu_percent, 1), "cpu_limit": u.cpu_limit}
                            for u in by_service(samples.latest())]
                    yield f"data: {json.dumps(rows)}\n\n"
                    await asyncio.sleep(USAGE_EVERY)
            finally:
                samples.close()

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    # --- actions -----------------------------------------------------------------------------

    async def act(self, request: Request) -> Response:
        try:
            wanted = await request.json()
            argv = self.command(wanted)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad action: {exc}"}, status_code=400)
        record = {"id": next(self._ids), "what": " ".join(argv[3:]), "state": "running", "output": "",
                  "started": time.time()}
        self.board.action(record)
        threading.Thread(target=self._run, args=(argv, record), daemon=True).start()
        return JSONResponse(record, status_code=202)

    def command(self, wanted: Mapping[str, Any]) -> list[str]:
        """The netra-stack command line of an action (argv: no shell; names as plain arguments)."""
        action = wanted["action"]
        profile = ["--profile", str(wanted["profile"])] if wanted.get("profile") else []
        if action == "restart":
            return [sys.executable, "-m", "netra_stack", "restart", "--name", str(wanted["environment"]),
                    "--services", str(wanted["service"]), *profile]
        if action == "down":
            return [sys.executable, "-m", "netra_stack", "down", "--name", str(wanted["environment"]), *profile]
        if action == "up":
            if str(wanted.get("profile")) not in self.profiles():
                raise ValueError(f"unknown profile {wanted.get('profile')!r}")
            return [sys.executable, "-m", "netra_stack", "up", *profile]
        raise ValueError(f"unknown action {action!r}; expected restart, down or up")

    def _run(self, argv: list[str], record: dict[str, Any]) -> None:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, env=self.environ, timeout=ACTION_TIMEOUT,
                                  stdin=subprocess.DEVNULL)
            lines = (done.stdout + done.stderr).strip().splitlines()
            state, output = ("done" if done.returncode == 0 else f"failed (exit {done.returncode})"), lines[-1:] or [""]
        except subprocess.TimeoutExpired:
            state, output = f"failed: no end after {ACTION_TIMEOUT:.0f}s", [""]
        self.board.action({**record, "state": state, "output": self.redactor.redact(output[0]), "ended": time.time()})


class _Guard:
    """The token on every request; for a POST, in the header and from the page's own origin."""

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        header = request.headers.get(TOKEN_HEADER, "")
        given = header or request.query_params.get("token", "")
        refusal = None
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            refusal = "a valid token is needed (the URL netra-stack dashboard printed)"
        elif request.method != "GET":
            origin = request.headers.get("origin")
            site = request.headers.get("sec-fetch-site")
            own = f"{scope.get('scheme', 'http')}://{request.headers.get('host', '')}"
            if not header or (origin is not None and origin != own) or site not in (None, "same-origin"):
                refusal = "cross-origin request refused"
        if refusal:
            return await Response(refusal, status_code=403, media_type="text/plain")(scope, receive, send)
        return await self.app(scope, receive, send)
