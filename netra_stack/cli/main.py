"""The `netra-stack` command: thin commands over StackManager.

Only click is imported at start-up; pydantic, rich and the Docker libraries are imported inside
the commands that need them, so `--help` and `--version` start fast.
"""

from __future__ import annotations

import functools
import gc
import os
import signal
import sys
import threading

import click

from netra_stack import __version__


def _manager(profile: str | None, **options):
    from netra_stack.cli.terminal import CliReporter
    from netra_stack.manager import StackManager

    return StackManager(profile, reporter=CliReporter(verbose=options.pop("verbose", False)),
                        backend=click.get_current_context().meta.get(BACKEND), **options)


BACKEND = "netra_stack.backend"  # where --backend leaves its value for the command


def _backend(plugins=None):
    """The backend --backend names (default compose), for commands that need no profile."""
    from netra_stack.plugins.registry import Plugins

    return (plugins or Plugins()).backend(click.get_current_context().meta.get(BACKEND) or "compose", os.environ)


def backend_option(f):
    def remember(ctx, param, value):
        if value:
            ctx.meta[BACKEND] = value

    return click.option("--backend", metavar="NAME", expose_value=False, callback=remember,
                        help="The backend to run on, over the profile's `backend` (default compose).")(f)


def _services(value: str | None) -> list[str] | None:
    return [s.strip() for s in value.split(",") if s.strip()] if value else None


def profile_option(f):
    return backend_option(click.option("--profile", "-p", metavar="NAME",
                                       help="Profile name or .toml path (default: DOCKER_ENV / USE_ALPINE, else test).")(f))


def name_option(f):
    return click.option("--name", "-n", "env_name", metavar="ENV",
                        help="The environment to act on (default: the profile's only one, or COMPOSE_PROJECT_NAME).")(f)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def _interrupt(signum, frame) -> None:
    """Ctrl-C and SIGTERM as KeyboardInterrupt, but never inside an import.

    CPython runs a signal handler before whatever bytecode comes next. Inside an import that may be
    one of importlib's weakref callbacks, where the KeyboardInterrupt is printed as "Exception
    ignored" and lost, or an extension's start-up code, after which the interpreter ends by killing
    itself with SIGINT even though the interrupt was handled. So a signal that lands in an import
    is sent again 10 ms later, until it lands outside one."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            threading.Timer(0.01, os.kill, (os.getpid(), signum)).start()
            return
        frame = frame.f_back
    raise KeyboardInterrupt


def handled(f):
    """Turn NetraError into a one-line message and its exit code; Ctrl-C into 130."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        from netra_stack.model.errors import ExitCode, NetraError, NotHealthyError

        try:
            return f(*args, **kwargs)
        except NetraError as exc:
            from netra_stack.cli.terminal import error_line, print_health

            if isinstance(exc, NotHealthyError) and exc.report is not None:
                print_health(exc.report, details=True)
            for diagnostic in exc.diagnostics:
                click.echo(diagnostic)
            error_line(exc.line)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("netra-stack: interrupted (anything half-started was removed)", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        finally:
            # The command is done: spare the interpreter's exit a sweep over every object the
            # Docker libraries and pydantic made (about 0.1 s).
            gc.freeze()

    return wrapper


class _Group(click.Group):
    """The command group. Commands contributed by installed plugins (netra_cli_commands) are
    looked up only for a name that is not built in: loading plugins would cost `--help` about
    150 ms, so it does not list them (`netra-stack plugins` does)."""

    def get_command(self, ctx, name):
        found = super().get_command(ctx, name)
        if found is None:
            from netra_stack.plugins.registry import cli_commands

            found = next((command for command in cli_commands() if command.name == name), None)
        return found


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netra-stack")
def main() -> None:
    """Declarative Docker Compose environments from TOML profiles: up, healthy, ports, down.

    Installed plugins may add commands: `netra-stack plugins` lists them under netra_cli_commands.
    """
    # SIGTERM is handled like Ctrl-C, so an interrupted `up` removes what it started.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)


@main.command("profiles")
@json_option
@handled
def profiles_cmd(as_json: bool) -> None:
    """List the profiles found (NETRA_STACK_PROFILE_PATH, else the nearest profiles/ directory)."""
    from netra_stack.model.profiles import available_profiles, load_profile

    rows = []
    for name, path in available_profiles().items():
        profile = load_profile(str(path))
        rows.append({"name": name, "environment": profile.environment, "extends": _extends(path),
                     "compose_files": profile.compose_files, "path": str(path), "description": profile.description})
    if as_json:
        from netra_stack.cli.terminal import print_json

        print_json(rows)
        return
    if not rows:
        click.echo("no profiles found (looked for a profiles/ directory from here upwards)")
    for row in rows:
        parent = f" (extends {row['extends']})" if row["extends"] else ""
        click.echo(f"{row['name']:<14} {row['environment']:<5} {row['description']}{parent}")


def _extends(path) -> str | None:
    import tomllib

    with open(path, "rb") as handle:
        return tomllib.load(handle).get("extends")


@main.command("plugins")
@click.option("--profile", "-p", metavar="NAME", help="Include this profile's plugins and disabled ones.")
@json_option
@handled
def plugins_cmd(profile, as_json) -> None:
    """Every hook with the implementations that will run, in call order, and where each came from."""
    from netra_stack.plugins.registry import Plugins
    from netra_stack.model.profiles import load_profile

    hooks = Plugins(load_profile(profile) if profile else None).describe()
    if as_json:
        from netra_stack.cli.terminal import print_json

        print_json(hooks)
        return
    for hook in hooks:
        click.echo(f"{hook['hook']} ({hook['kind']})")
        for number, impl in enumerate(hook["implementations"], 1):
            click.echo(f"  {number}. {impl['plugin']:<28} {impl['origin']}  [{impl['order']}]")
        if not hook["implementations"]:
            click.echo("  (none)")


@main.group("profile")
def profile_group() -> None:
    """Profile tools."""


@profile_group.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of a profile (for TOML editors)."""
    from netra_stack.cli.terminal import print_json
    from netra_stack.model.profiles import profile_json_schema

    print_json(profile_json_schema())


@main.command("init")
@click.option("--dir", "folder", default=".", metavar="DIR", help="The compose project's directory (default: here).")
@click.option("-f", "--file", "files", multiple=True, metavar="FILE",
              help="A compose file, relative to DIR; repeatable (default: those compose itself picks in DIR).")
@click.option("--print", "to_stdout", is_flag=True, help="Print the profile instead of writing DIR/profiles/test.toml.")
@handled
def init_cmd(folder: str, files: tuple[str, ...], to_stdout: bool) -> None:
    """Write profiles/test.toml for an existing compose project, from its resolved configuration."""
    from netra_stack.planning.init import init_profile

    text, path = init_profile(folder, files, write=not to_stdout)
    if to_stdout:
        click.echo(text, nl=False)
        return
    shown = os.path.relpath(path) if path.is_relative_to(os.getcwd()) else str(path)
    click.echo(f"wrote {shown}; fill in its memory limits, then: netra-stack up --profile {shown}")


def compose_profile_option(f):
    return click.option("--compose-profile", "compose_profiles", multiple=True, metavar="NAME",
                        help="Enable a compose profile (repeatable), on top of the profile's compose_profiles.")(f)


@main.command("config")
@profile_option
@name_option
@compose_profile_option
@click.option("--reveal-secrets", is_flag=True, help="Do not mask passwords and tokens.")
@handled
def config_cmd(profile: str | None, env_name, compose_profiles, reveal_secrets: bool) -> None:
    """Print the fully resolved compose configuration (as `docker compose config` would): of the
    running environment --name, with its real ports, or else a preview of a new one."""
    manager = _manager(profile, compose_profiles=compose_profiles)
    click.echo(manager.resolved_config(reveal=reveal_secrets, env_name=env_name), nl=False)


@main.command("up")
@profile_option
@click.option("--timeout", type=float, help="Seconds to wait for health (default: the profile's wait_timeout).")
@click.option("--no-wait", is_flag=True, help="Return once the containers are started.")
@click.option("--keep-on-failure", is_flag=True, help="Leave a failed environment in place for debugging.")
@click.option("--no-cache/--cache", "no_cache", default=None,
              help="Build without / with Docker's layer cache (default: the profile's build_cache).")
@click.option("--no-build", is_flag=True, help="Use the images as they are: build nothing.")
@click.option("--force", is_flag=True, help="Remove a foreign container or network that holds a name this environment needs.")
@compose_profile_option
@click.option("-v", "--verbose", is_flag=True,
              help="Show compose's output, and stream the logs of services not yet healthy while waiting.")
@json_option
@handled
def up_cmd(profile, timeout, no_wait, keep_on_failure, no_cache, no_build, force, compose_profiles, verbose,
           as_json) -> None:
    """Bring an environment up and wait until it is healthy; print its ports. It outlives the
    command, until `down` or `clean`."""
    manager = _manager(profile, verbose=verbose, no_cache_app_code=no_cache, force=force,
                       compose_profiles=compose_profiles)
    name, ports = manager.acquire_environment(wait=not no_wait, timeout=timeout, keep_on_failure=keep_on_failure,
                                              build=not no_build)
    manager.reporter.close()
    if as_json:
        from netra_stack.cli.terminal import print_json

        print_json({"environment": name, "profile": manager.profile.name, "ports": ports,
                    "builds": [b.as_dict() for b in manager.builds]})
        return
    click.echo(f"{name} is up ({manager.profile.name}): " + ", ".join(f"{s}={p}" for s, p in sorted(ports.items())))


@main.command("down")
@profile_option
@name_option
@handled
def down_cmd(profile, env_name) -> None:
    """Stop and remove an environment: containers, networks, volumes."""
    manager = _manager(profile)
    name = env_name or manager.current_environment()
    manager.release_environment(name)
    click.echo(f"{name} removed")


main.add_command(down_cmd, "release")


@main.command("status")
@click.option("--profile", "-p", metavar="NAME", help="Only environments of this profile.")
@backend_option
@json_option
@handled
def status_cmd(profile, as_json) -> None:
    """Every netra-stack environment on this engine: name, profile, services, state, ports, age."""
    from netra_stack.cli.terminal import print_environments, print_json
    from netra_stack.lifecycle.inventory import list_environments

    envs = list_environments(_backend(), profile)
    if as_json:
        print_json([e.as_dict() for e in envs])
    else:
        print_environments(envs)


@main.command("health")
@profile_option
@name_option
@click.option("--logs", "with_logs", is_flag=True, help="Add the last log lines of services that are not healthy.")
@click.option("--watch", "-w", is_flag=True, help="A live view, refreshed every second, until Ctrl-C.")
@json_option
@handled
def health_cmd(profile, env_name, with_logs, watch, as_json) -> None:
    """Health of every service (container, Docker healthcheck, service check); exit 0 only if all HEALTHY."""
    from netra_stack.cli.terminal import print_health, print_json, watch_health
    from netra_stack.model.errors import ExitCode

    manager = _manager(profile)
    if watch:
        report = watch_health(lambda: manager.get_health_report(env_name))
        sys.exit(ExitCode.OK if report.healthy else ExitCode.FAILED)
    report = manager.get_health_report(env_name, with_logs=with_logs)
    if as_json:
        print_json(report.as_dict())
    else:
        print_health(report, details=with_logs)
    sys.exit(ExitCode.OK if report.healthy else ExitCode.FAILED)


@main.command("ports")
@profile_option
@name_option
@click.option("--env", "as_env", is_flag=True, help="Print KEY=VALUE lines for a shell or a CI step.")
@json_option
@handled
def ports_cmd(profile, env_name, as_env, as_json) -> None:
    """The host ports an environment really has bound."""
    from netra_stack.cli.terminal import print_json

    bindings = _manager(profile).get_ports(env_name)
    if as_json:
        print_json([b.as_dict() for b in bindings])
        return
    if as_env:
        from netra_stack.lifecycle.inventory import port_variables, primary_ports

        for key, value in port_variables(primary_ports(bindings)).items():
            click.echo(f"{key}={value}")
        return
    for b in bindings:
        host = f"[{b.host_ip}]" if ":" in b.host_ip else b.host_ip
        click.echo(f"{b.service:<12} {b.container_port}/{b.protocol} -> {host}:{b.host_port}")


@main.command("restart")
@profile_option
@name_option
@click.option("--services", "-s", required=True, help="Comma-separated services, e.g. backend,auth.")
@click.option("--timeout", type=float, help="Seconds to wait for health afterwards.")
@handled
def restart_cmd(profile, env_name, services, timeout) -> None:
    """Restart services and wait until they are healthy again."""
    manager = _manager(profile)
    manager.restart_service(_services(services), env_name, timeout=timeout)
    manager.reporter.close()
    click.echo(f"restarted {services}: healthy")


@main.command("logs")
@profile_option
@name_option
@click.option("--services", "-s", help="Comma-separated services (default: all).")
@click.option("--tail", type=int, help="Lines from the end of each service's log.")
@click.option("--follow", "-f", is_flag=True, help="Keep following.")
@handled
def logs_cmd(profile, env_name, services, tail, follow) -> None:
    """Show services' logs (secrets masked)."""
    for line in _manager(profile).logs(_services(services), tail=tail, follow=follow, env_name=env_name):
        click.echo(line)


@main.command("clean")
@click.option("--older-than", metavar="AGE", help="Also remove environments older than AGE (e.g. 30m, 2h, 1d).")
@click.option("--all", "remove_all", is_flag=True, help="Remove every netra-stack environment.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@backend_option
@json_option
@handled
def clean_cmd(older_than, remove_all, dry_run, as_json) -> None:
    """Remove what netra-stack created and nothing else: stopped containers, old or all environments."""
    from netra_stack.lifecycle.clean import clean
    from netra_stack.plugins.registry import Plugins

    plugins = Plugins()
    removed = clean(_backend(plugins), older_than=older_than, remove_all=remove_all, dry_run=dry_run, plugins=plugins)
    if as_json:
        from netra_stack.cli.terminal import print_json

        print_json({"dry_run": dry_run, "removed": removed})
        return
    verb = "would remove" if dry_run else "removed"
    for item in removed:
        click.echo(f"{verb} {item['kind']} {item['name']}")
    if not removed:
        click.echo("nothing to clean")


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


@main.command("test", cls=_TestCommand, context_settings={"ignore_unknown_options": True})
@profile_option
@click.option("--categories", multiple=True, metavar="NAME...",
              help="Test categories: the tests under tests/NAME or marked NAME.")
@click.option("--parallel", type=click.IntRange(min=1), default=1, help="pytest-xdist workers (sharing the environment).")
@click.option("--timeout", type=float, help="Seconds to wait for health (default: the profile's wait_timeout).")
@click.option("--keep", is_flag=True, help="Leave the environment up afterwards.")
@click.option("-v", "--verbose", is_flag=True, help="Show compose's output.")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@handled
def test_cmd(profile, categories, parallel, timeout, keep, verbose, pytest_args) -> None:
    """Bring an environment up, run pytest against it (ports in NETRA_<SERVICE>_PORT, the
    environment in NETRA_STACK_ENV), release it, and exit with pytest's status. Arguments after
    `--` go to pytest."""
    from netra_stack.testing import testrun

    testrun.check_runner(parallel)
    argv = testrun.pytest_argv(categories, parallel, pytest_args)
    manager = _manager(profile, verbose=verbose)
    code = testrun.run(manager, argv, keep=keep, timeout=timeout)
    manager.reporter.close()
    sys.exit(code)


@main.command("rebuild")
@profile_option
@name_option
@click.option("--services", "-s", help="Comma-separated services (default: all that build).")
@click.option("--no-cache", is_flag=True, help="Build without Docker's layer cache.")
@click.option("-v", "--verbose", is_flag=True, help="Show the build output.")
@handled
def rebuild_cmd(profile, env_name, services, no_cache, verbose) -> None:
    """Build images again and recreate the running services that use them."""
    manager = _manager(profile, verbose=verbose)
    manager.rebuild(_services(services), no_cache=no_cache, env_name=env_name)
    manager.reporter.close()
    click.echo("rebuilt")
