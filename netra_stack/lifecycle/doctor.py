"""`netra-stack doctor`: every part of the set-up netra-stack depends on, looked at once, each
with what was seen and, where it is not fine, the fix. The orchestrator's part is its backend's
`diagnose()`; the rest is this machine's: leftovers of earlier runs, free host ports in the
profile's range, the state directory, the profile and the plugins."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from netra_stack.lifecycle.clean import abandoned_environments, orphaned_instances
from netra_stack.model.errors import NetraError
from netra_stack.model.findings import FAIL, OK, WARN, Finding
from netra_stack.model.profiles import Profile, default_profile_name, load_profile
from netra_stack.model.state import state_dir
from netra_stack.plugins.builtin.ports import is_free
from netra_stack.plugins.registry import Plugins


def doctor(profile_name: str | None, environ: Mapping[str, str], *, backend_name: str | None = None,
           builtins: Mapping[str, Any] = {}) -> list[Finding]:
    """Every finding, the orchestrator's first. Never raises for what it looks at."""
    profile, found = _profile(profile_name, environ)
    plugins, loaded = _plugins(profile, builtins)
    chosen = backend_name or (profile.backend if profile else None) or "compose"
    with ThreadPoolExecutor(1) as pool:  # the range's ports are counted while the orchestrator answers
        ports = pool.submit(_ports, profile) if profile else None
        backend, orchestrator = _orchestrator(plugins, chosen, environ)
        leftovers = [_leftovers(backend)] if backend and orchestrator[0].status != FAIL else []
        return [*orchestrator, *leftovers, *([ports.result()] if ports else []), _state(environ), found, loaded]


def exit_code(findings: list[Finding]) -> int:
    """0 when nothing failed (warnings included), 1 otherwise."""
    return 1 if any(f.status == FAIL for f in findings) else 0


def _orchestrator(plugins: Plugins | None, chosen: str, environ: Mapping[str, str]):
    """The backend and its findings (one that names why there is none, where it cannot be made)."""
    if plugins is None:
        return None, [Finding(chosen, WARN, "not looked at: the plugins did not load", "fix the plugins first")]
    try:
        backend = plugins.backend(chosen, environ)
    except NetraError as exc:
        return None, [Finding(chosen, FAIL, exc.message, exc.hint or "")]
    return backend, backend.diagnose() or [Finding(chosen, OK, "its backend reports nothing to check")]


def _profile(name: str | None, environ: Mapping[str, str]) -> tuple[Profile | None, Finding]:
    try:
        profile = load_profile(name or default_profile_name(environ))
    except NetraError as exc:
        return None, Finding("profile", FAIL, exc.message, exc.hint or "")
    return profile, Finding("profile", OK, f"{profile.name} ({profile.source}): backend {profile.backend}, "
                            f"{len(profile.compose_files)} compose file(s)")


def _plugins(profile: Profile | None, builtins: Mapping[str, Any]) -> tuple[Plugins | None, Finding]:
    try:
        plugins = Plugins(profile, builtins)
    except NetraError as exc:
        return _without_profile(builtins), Finding("plugins", FAIL, exc.message, exc.hint or "")
    names = sorted(n for n, origin in plugins.origins.items() if not origin.startswith("built-in"))
    return plugins, Finding("plugins", OK, f"{len(plugins.origins)} loaded"
                            + (f", besides the built-in ones: {', '.join(names)}" if names else " (the built-in ones)"))


def _without_profile(builtins: Mapping[str, Any]) -> Plugins | None:
    """The plugins without a profile's own, to reach the orchestrator when the profile's fail."""
    try:
        return Plugins(None, builtins)
    except NetraError:
        return None


def _ports(profile: Profile) -> Finding:
    policy = profile.ports
    if policy.strategy != "range":
        return Finding("ports", OK, f"strategy {policy.strategy}: the engine picks free host ports")
    low, high = policy.range
    free = sum(1 for port in range(low, high + 1) if is_free(port, policy.host_ip))
    detail = f"{free} of {high - low + 1} host ports free in {low}-{high} on {policy.host_ip} ({profile.source})"
    if free == 0:
        return Finding("ports", FAIL, detail, "widen ports.range or stop what holds those ports")
    return Finding("ports", OK, detail)


def _state(environ: Mapping[str, str]) -> Finding:
    folder = state_dir(environ)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding("state directory", FAIL, f"{folder} is not writable: {exc.strerror or exc}",
                       "point NETRA_STACK_STATE_DIR at a writable directory")
    return Finding("state directory", OK, f"{folder} is writable")


def _leftovers(backend) -> Finding:
    try:
        abandoned, stopped = abandoned_environments(backend), orphaned_instances(backend)
    except NetraError as exc:
        return Finding("leftovers", WARN, f"not looked at: {exc.message}")
    if not abandoned and not stopped:
        return Finding("leftovers", OK, "no environment whose holder is gone, no stopped container of ours")
    parts = ([f"{len(abandoned)} environment(s) whose holder is gone ({', '.join(sorted(abandoned))})"] if abandoned
             else []) + ([f"{len(stopped)} stopped container(s) of ours"] if stopped else [])
    return Finding("leftovers", WARN, "; ".join(parts), "`netra-stack clean` removes them (`--dry-run` to see first)")
