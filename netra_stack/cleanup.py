"""Cleanup that only ever touches what carries netra-stack's labels."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from . import engine
from . import labels as L
from .errors import NetraError

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    match = _AGE.match(text or "")
    if not match:
        raise NetraError(f"--older-than {text!r}: expected an age such as 90s, 30m, 2h or 1d")
    return float(match.group(1)) * _UNIT[match.group(2)]


def environment_ages() -> dict[str, float]:
    """Environment -> age in seconds of its oldest container."""
    now = datetime.now(timezone.utc)
    ages: dict[str, float] = {}
    for c in engine.containers():
        if c.created:
            ages[c.environment] = max(ages.get(c.environment, 0.0), (now - c.created).total_seconds())
    return ages


def abandoned_environments() -> set[str]:
    """Environments held by a process that is gone (its watchdog did not get to them)."""
    from .watchdog import holder_alive

    return {c.environment for c in engine.summaries() if c.labels.get(L.LEASE) and not holder_alive(c.labels[L.LEASE])}


def orphaned_containers() -> list[engine.ContainerInfo]:
    """Our containers that stopped, in environments where nothing runs any more or that are not one-shot."""
    found = engine.containers()
    live = {c.environment for c in found if c.running}
    return [c for c in found if c.status in ("exited", "dead", "created")
            and not (c.labels.get(L.ONE_SHOT) == "true" and c.environment in live)]


def release(name: str, on_line=None, plugins=None) -> None:
    """Remove an environment through compose (containers, networks, volumes), then its state files.
    `plugins` (a Plugins) hear netra_before_down / netra_after_down."""
    from .compose import Compose

    try:
        if plugins:
            plugins.before_down(name)
    finally:  # a failing plugin must not keep the environment alive
        Compose(name).down(on_line=on_line)
        Compose.forget(name)
    if plugins:
        plugins.after_down(name)


def clean(*, older_than: str | float | None = None, remove_all: bool = False, dry_run: bool = False,
          plugins=None) -> list[dict]:
    """Remove stopped containers of ours, then whole environments that are old (or all of them),
    then our networks and volumes that nothing uses. Returns what was (or would be) removed."""
    engine.client()
    removed: list[dict] = []
    max_age = parse_age(older_than) if isinstance(older_than, str) else older_than
    doomed = {name for name, age in environment_ages().items() if remove_all or (max_age is not None and age > max_age)}
    doomed |= abandoned_environments()
    orphans = [c for c in orphaned_containers() if c.environment not in doomed]
    for name in sorted(doomed):
        removed.append({"kind": "environment", "name": name})
        if not dry_run:
            release(name, plugins=plugins)
    for c in orphans:
        removed.append({"kind": "container", "name": c.name})
        if not dry_run:
            engine.remove_container(c)
    gone = {c.id for c in orphans}
    remaining = {c.environment for c in engine.containers() if c.environment not in doomed and c.id not in gone}
    # Networks and volumes of ours that no remaining container of ours uses. Removal still fails
    # (and is skipped) when something else is attached to the network.
    for kind, items, remove, key in (("network", engine.networks(), engine.remove_network, "Name"),
                                     ("volume", engine.volumes(), engine.remove_volume, "Name")):
        for item in items:
            if (item.get("Labels") or {}).get(L.ENVIRONMENT) not in remaining and (dry_run or remove(item)):
                removed.append({"kind": kind, "name": item[key]})
    return removed
