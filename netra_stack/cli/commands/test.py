"""`netra-stack test`: pytest against an environment of its own."""

from __future__ import annotations

import sys

import click

from netra_stack.cli.options import command, managing, profile_option, start_engine_option


class _TestCommand(click.Command):
    """`--categories unit integration`: every word after --categories, up to the next option or
    `--`, is a category (click alone would take only the first)."""

    def parse_args(self, ctx, args):
        rewritten, rest = [], list(args)
        while rest:
            arg = rest.pop(0)
            rewritten.append(arg)
            if arg == "--":
                rewritten += rest
                break
            if arg == "--categories" and rest:
                rewritten.append(rest.pop(0))
                while rest and not rest[0].startswith("-"):
                    rewritten += ["--categories", rest.pop(0)]
        return super().parse_args(ctx, rewritten)


@command("test", cls=_TestCommand, context_settings={"ignore_unknown_options": True})
@profile_option
@click.option("--categories", multiple=True, metavar="NAME...",
              help="Test categories: the tests under tests/NAME or marked NAME.")
@click.option("--parallel", type=click.IntRange(min=1), default=1, help="pytest-xdist workers (sharing the environment).")
@click.option("--timeout", type=float, help="Seconds to wait for health (default: the profile's wait_timeout).")
@click.option("--keep", is_flag=True, help="Leave the environment up afterwards.")
@start_engine_option
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test(profile, categories, parallel, timeout, keep, pytest_args) -> None:
    """Bring an environment up, run pytest against it (ports in NETRA_<SERVICE>_PORT, the
    environment in NETRA_STACK_ENV), release it, and exit with pytest's status. Arguments after
    `--` go to pytest."""
    from netra_stack.testing import testrun

    testrun.check_runner(parallel)
    argv = testrun.pytest_argv(categories, parallel, pytest_args)
    with managing(profile) as chosen:
        code = testrun.run(chosen, argv, keep=keep, timeout=timeout)
    sys.exit(code)
