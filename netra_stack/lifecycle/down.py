"""Removing an environment: through its backend, with the down hooks around it, and without
letting a Ctrl-C cut the removal short unsaid."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

from netra_stack.model.errors import Abandoned

if TYPE_CHECKING:
    from netra_stack.backends.base import Backend, LineCallback
    from netra_stack.lifecycle.context import Context, Reporter
    from netra_stack.plugins.registry import Plugins


def release(backend: Backend, name: str, plugins: Plugins | None = None, on_line: LineCallback | None = None,
            *, images: bool = False) -> list[str]:
    """Remove an environment (instances, networks, volumes, state files; `images`: the images
    copied to other engines for it); `plugins` hear netra_before_down / netra_after_down.
    Returns what became of those images, a line each."""
    try:
        if plugins:
            plugins.before_down(name)
    finally:  # a failing plugin must not keep the environment alive
        unloaded = backend.down(name, on_line=on_line, images=images)
    if plugins:
        plugins.after_down(name)
    return unloaded


def teardown(ctx: Context, name: str, *, images: bool = False) -> None:
    """`release`, reported, and safe from an impatient Ctrl-C."""
    ctx.reporter.event(f"removing environment {name}")
    with removal_signals(ctx.backend, name, ctx.reporter):
        for line in release(ctx.backend, name, ctx.plugins, on_line=ctx.reporter.compose_line, images=images):
            ctx.reporter.event(line)


@contextmanager
def removal_signals(backend: Backend, name: str, reporter: Reporter):
    """While an environment is removed, Ctrl-C (or SIGTERM) does not cut the removal short: the
    first says what is still being removed, the next stops waiting and says what may remain
    (main thread only; elsewhere signals never arrive)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    presses = 0

    def remaining() -> str:
        found = [f"{i.name} ({i.status})" for i in backend.instances(name, detail=False)]
        return ", ".join(found) or "its networks and volumes"

    def on_signal(signum, frame) -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            reporter.event(f"still removing {name}: {remaining()}; press Ctrl-C again to stop waiting")
            return
        raise Abandoned(f"stopped waiting while {name} was being removed; it may still hold {remaining()}",
                        hint=f"remove it with `netra-stack clean` or `netra-stack down --name {name}`")

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
