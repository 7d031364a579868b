"""`netra-stack dashboard`: a local web page with every environment on the engine, live."""

from __future__ import annotations

import os
import socket

import click

from netra_stack.cli.options import BACKEND, backend_option, command, terminal


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything starts: a port in use is one line naming its holder."""
    from netra_stack.model.errors import EngineError
    from netra_stack.plugins.builtin.ports import port_holder

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        holder = port_holder(port) if port else None
        raise EngineError(f"dashboard: {host}:{port} cannot be bound: {exc.strerror or exc}"
                          + f"; held by {holder or 'another process'}",
                          hint="choose another with --port N (0: any free port)") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def _redactor(environ):
    """The secrets of every profile found here and of this process's environment, masked on the page."""
    from netra_stack.model.errors import NetraError
    from netra_stack.model.profiles import available_profiles, load_profile
    from netra_stack.model.redact import Redactor

    secrets = list(Redactor.of_tables(environ).secrets)
    for name in available_profiles():
        try:
            secrets += Redactor.for_profile(load_profile(name), environ).secrets
        except NetraError:  # a broken profile: its own command says why
            continue
    return Redactor(secrets)


@command("dashboard")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="The port to listen on (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on (loopback only, "
              "unless --allow-remote).")
@click.option("--allow-remote", is_flag=True, help="Allow an address other machines reach (the token still guards it).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@backend_option
def dashboard(port, host, allow_remote, open_browser) -> None:
    """A live web page of every netra-stack environment on the engine: services, health, ports,
    the graph and the logs, with restart, down and up. It listens on 127.0.0.1 and asks for the
    token in the URL it prints on every request."""
    import secrets
    import sys

    from netra_stack.model.decisions import is_loopback

    shown = terminal()
    if not is_loopback(host):
        if not allow_remote:
            raise click.UsageError(f"--host {host} would let other machines reach the dashboard; "
                                   "add --allow-remote if that is meant")
        shown.say(f"netra-stack: warning: the dashboard listens on {host}: other machines can reach it "
                  "(every request still needs the token)", err=True)
    sock = _listen(host, port)

    import uvicorn

    from netra_stack.dashboard.app import Dashboard
    from netra_stack.dashboard.board import Board
    from netra_stack.model.profiles import available_profiles
    from netra_stack.plugins.registry import Plugins

    token = secrets.token_urlsafe(24)
    environ = dict(os.environ)
    redactor = _redactor(environ)
    plugins = Plugins()
    chosen = click.get_current_context().meta.get(BACKEND) or "compose"

    def backend_factory():  # made again after the engine went away
        return plugins.backend(chosen, os.environ)

    page = Dashboard(Board(backend_factory, redactor), token, backend_factory,
                     lambda: sorted(available_profiles()), environ, redactor)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}/?token={token}"
    shown.say(f"netra-stack dashboard: {url}")
    sys.stdout.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(page.app, log_level="warning", access_log=False, lifespan="on"))
    server.run(sockets=[sock])
