"""`clean`: what netra-stack made and no longer needs, and only that (everything it removes
carries netra-stack's labels)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from netra_stack.leases.holder import holder_alive
from netra_stack.lifecycle.down import release
from netra_stack.model import labels as L
from netra_stack.model.errors import NetraError

if TYPE_CHECKING:
    from netra_stack.backends.base import Backend
    from netra_stack.model.instances import Instance
    from netra_stack.plugins.registry import Plugins

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    match = _AGE.match(text or "")
    if not match:
        raise NetraError(f"--older-than {text!r}: expected an age such as 90s, 30m, 2h or 1d")
    return float(match.group(1)) * _UNIT[match.group(2)]


def environment_ages(backend: Backend) -> dict[str, float]:
    """Environment -> age in seconds of its oldest instance."""
    now = datetime.now(timezone.utc)
    ages: dict[str, float] = {}
    for i in backend.instances():
        if i.created:
            ages[i.environment] = max(ages.get(i.environment, 0.0), (now - i.created).total_seconds())
    return ages


def abandoned_environments(backend: Backend) -> set[str]:
    """Environments held by a process that is gone (its watchdog did not get to them)."""
    return {i.environment for i in backend.instances(detail=False)
            if i.labels.get(L.LEASE) and not holder_alive(i.labels[L.LEASE])}


def orphaned_instances(backend: Backend) -> list[Instance]:
    """Our instances that stopped, in environments where nothing runs any more or that are not one-shot."""
    found = backend.instances()
    live = {i.environment for i in found if i.running}
    return [i for i in found if i.status in ("exited", "dead", "created")
            and not (i.labels.get(L.ONE_SHOT) == "true" and i.environment in live)]


def remove_orphans(backend: Backend) -> list[str]:
    """Remove the orphaned instances; their names."""
    removed = orphaned_instances(backend)
    for instance in removed:
        backend.remove(instance)
    return [i.name for i in removed]


def clean(backend: Backend, *, older_than: str | float | None = None, remove_all: bool = False,
          dry_run: bool = False, plugins: Plugins | None = None) -> list[dict]:
    """Remove stopped instances of ours, then whole environments that are old (or all of them),
    then our networks and volumes that nothing uses. Returns what was (or would be) removed."""
    backend.check()
    removed: list[dict] = []
    max_age = parse_age(older_than) if isinstance(older_than, str) else older_than
    doomed = {name for name, age in environment_ages(backend).items()
              if remove_all or (max_age is not None and age > max_age)}
    doomed |= abandoned_environments(backend)
    orphans = [i for i in orphaned_instances(backend) if i.environment not in doomed]
    for name in sorted(doomed):
        removed.append({"kind": "environment", "name": name})
        if not dry_run:
            release(backend, name, plugins, images=True)  # what was loaded into nodes for it, too
    for i in orphans:
        removed.append({"kind": "container", "name": i.name})
        if not dry_run:
            backend.remove(i)
    gone = {i.id for i in orphans}
    remaining = {i.environment for i in backend.instances() if i.environment not in doomed and i.id not in gone}
    # Networks and volumes of ours that no remaining instance of ours uses. Removal still fails
    # (and is skipped) when something else is attached to the network.
    for kind, items, remove in (("network", backend.networks(), backend.remove_network),
                                ("volume", backend.volumes(), backend.remove_volume)):
        for item in items:
            if (item.get("Labels") or {}).get(L.ENVIRONMENT) not in remaining and (dry_run or remove(item)):
                removed.append({"kind": kind, "name": item["Name"]})
    return removed
