"""`netra-stack scale`: more or fewer instances of services, healthy again."""

from __future__ import annotations

import click

from netra_stack.cli.options import command, health_timeout_option, managing, name_option, profile_option, terminal


def replicas(value: str) -> dict[str, int]:
    """`web=3,worker=2` as {"web": 3, "worker": 2}."""
    from netra_stack.model.errors import UsageError

    found = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        service, _, count = item.partition("=")
        if not service or not count.isdigit():
            raise UsageError(f"--services {item!r}: expected SERVICE=COUNT, COUNT a whole number from 0",
                             hint="e.g. --services web=3,worker=2")
        found[service.strip()] = int(count)
    return found


@command("scale")
@profile_option
@name_option
@click.option("--services", "-s", "counts", required=True, help="SERVICE=COUNT, comma-separated, e.g. web=3,worker=2.")
@health_timeout_option
def scale(profile, env_name, counts, timeout) -> None:
    """Run that many instances of services (a backend that runs several: swarm), then wait until healthy."""
    wanted = replicas(counts)
    with managing(profile) as chosen:
        chosen.scale(wanted, env_name, timeout=timeout)
    terminal().say(f"scaled {', '.join(f'{s} to {n}' for s, n in wanted.items())}: healthy")
