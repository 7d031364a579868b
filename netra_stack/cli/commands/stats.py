"""`netra-stack stats`: what each service of an environment uses, once or live."""

from __future__ import annotations

import sys
import time

import click

from netra_stack.cli.options import command, json_option, manager, name_option, profile_option, terminal

HISTORY = 40  # samples each sparkline of `--watch` shows


@command("stats")
@profile_option
@name_option
@click.option("--watch", "-w", is_flag=True, help="A live table, updated every second, until Ctrl-C.")
@json_option
def stats(profile, env_name, watch) -> None:
    """CPU, memory, network and block I/O, pids, restarts and OOM kills of each service, and the
    environment's total."""
    from netra_stack.lifecycle import inventory
    from netra_stack.metrics.recorder import Sampler

    found = bool(env_name and not profile)  # then looked up among the environments, or a NotFoundError naming them
    chosen = manager(_profile_of(env_name) if found else profile)
    if env_name and not found:
        inventory.check_exists(chosen.ctx, env_name)
    name = env_name or chosen.current_environment()
    shown = terminal()
    with Sampler(chosen.backend, chosen.plugins, name) as sampler:
        samples = sampler.once()
        if not watch:
            _show(shown, name, samples)
            return
        try:
            _watch(shown, name, sampler, samples)
        except KeyboardInterrupt:
            pass


def _profile_of(env_name: str) -> str | None:
    """The profile an environment named without --profile was made from, where it is known here
    (its plugins may measure more), else the default one; a NotFoundError naming the known
    environments where none has that name."""
    from netra_stack.cli.options import backend
    from netra_stack.lifecycle.inventory import list_environments, no_such_environment
    from netra_stack.model.profiles import available_profiles

    known = list_environments(backend())
    found = next((e for e in known if e.name == env_name), None)
    if found is None:
        raise no_such_environment(env_name, known)
    return found.profile if found.profile in available_profiles() else None


def _show(shown, name: str, samples) -> None:
    from netra_stack.cli.views import stats_view
    from netra_stack.model.usage import by_service, total

    rows = by_service(samples)
    whole = total(rows, service="total")
    if shown.as_json:
        shown.data({"environment": name, "services": [r.as_dict() for r in rows], "total": whole.as_dict(),
                    "instances": [s.as_dict() for s in samples]})
    else:
        shown.draw(stats_view(name, rows, whole))


def _watch(shown, name: str, sampler, samples) -> None:
    """In place with a sparkline of memory per service (a terminal), else a line per service and round."""
    from netra_stack.cli.views import stats_line, stats_view
    from netra_stack.model.usage import by_service, total

    history: dict[str, list[int]] = {}

    def view(current):
        rows = by_service(current)
        for row in rows:
            history[row.service] = (history.get(row.service, []) + [row.memory_bytes])[-HISTORY:]
        return rows, stats_view(name, rows, total(rows, service="total"), history)

    rows, first = view(samples)
    if shown.fancy(sys.stdout) and not shown.as_json:
        with shown.live(first) as update:
            while True:
                time.sleep(1.0)
                update(view(sampler.round())[1])
    while True:
        stamp = time.strftime("%H:%M:%S")
        if shown.as_json:
            shown.data({"environment": name, "time": time.time(), "services": [r.as_dict() for r in rows]})
        else:
            for row in rows:
                shown.say(stats_line(stamp, row))
        sys.stdout.flush()
        time.sleep(1.0)
        rows, _ = view(sampler.round())
