"""`netra-stack up`: an environment, up and healthy."""

from __future__ import annotations

import click

from netra_stack.cli.options import (command, compose_profile_option, json_option, managing, profile_option,
                                      start_engine_option, terminal)


@command("up")
@profile_option
@click.option("--timeout", type=float, help="Seconds to wait for health (default: the profile's wait_timeout).")
@click.option("--no-wait", is_flag=True, help="Return once the containers are started.")
@click.option("--keep-on-failure", is_flag=True, help="Leave a failed environment in place for debugging.")
@click.option("--no-cache/--cache", "no_cache", default=None,
              help="Build without / with Docker's layer cache (default: the profile's build_cache).")
@click.option("--no-build", is_flag=True, help="Use the images as they are: build nothing.")
@click.option("--force", is_flag=True, help="Remove a foreign container or network that holds a name this environment needs.")
@click.option("--record", is_flag=True, help="Record what it uses until it is gone, for `netra-stack advise`.")
@compose_profile_option
@start_engine_option
@json_option
def up(profile, timeout, no_wait, keep_on_failure, no_cache, no_build, force, record, compose_profiles) -> None:
    """Bring an environment up and wait until it is healthy; print its ports. It outlives the
    command, until `down` or `clean`."""
    with managing(profile, no_cache_app_code=no_cache, force=force, compose_profiles=compose_profiles) as chosen:
        name, ports = chosen.acquire_environment(wait=not no_wait, timeout=timeout, keep_on_failure=keep_on_failure,
                                                 build=not no_build, record=record)
    shown = terminal()
    if shown.as_json:
        shown.data({"environment": name, "profile": chosen.profile.name, "ports": ports,
                    "builds": [b.as_dict() for b in chosen.builds]})
        return
    shown.say(f"{name} is up ({chosen.profile.name}): " + ", ".join(f"{s}={p}" for s, p in sorted(ports.items())))
