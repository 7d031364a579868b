"""The pytest plugin (entry point `pytest11`): `pytest --real-services` brings the profile's
environment up for the session, waits until it is healthy, hands its ports and URLs to the
tests, attaches health and logs to each failure, and releases the environment at the end. It
records what the services use for the whole session (a run record for `netra-stack advise`,
unless --netra-no-record), shows each service's peak memory against its limit at the end, and
puts an OOM kill first in the report of a test during which it happened.

Without --real-services it only registers its options, marker and fixtures, and skips the tests
that need real services: it is loaded in every pytest run where netra-stack is installed, so it
imports nothing heavy until asked to.

pytest-xdist: by default the controller starts one environment before the workers start and
hands its name and ports to them (pytest-docker#124: not once per worker); with
--netra-isolate each worker starts and releases its own.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import pytest

from netra_stack.testing.testrun import ENV_VARIABLE, environment_variables  # ENV_VARIABLE: an environment to use as it is, never released
MARKER = "real_services"
FIXTURES = ("netra_env", "netra_ports", "netra_urls")


@dataclass(frozen=True)
class NetraEnvironment:
    """The session's environment: its name, profile, services and host ports."""

    name: str
    profile: str
    services: tuple[str, ...]
    ports: dict[str, int]
    host: str = "127.0.0.1"

    def port(self, service: str) -> int:
        """The host port of a service's first published port."""
        if service not in self.ports:
            raise LookupError(f"service {service!r} of environment {self.name} publishes no port "
                              f"(services with ports: {', '.join(sorted(self.ports)) or 'none'})")
        return self.ports[service]

    def url(self, service: str, path: str = "", scheme: str = "http") -> str:
        """`http://127.0.0.1:PORT` + path, for a service's published port."""
        return f"{scheme}://{self.host}:{self.port(service)}{path}"

    def env_vars(self) -> dict[str, str]:
        """NETRA_STACK_ENV and NETRA_<SERVICE>_PORT, as `netra-stack ports --env` prints them."""
        return environment_variables(self.name, self.profile, self.ports)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("netra-stack", "real services through netra-stack")
    group.addoption("--real-services", action="store_true",
                    help="Start the profile's environment for this session and run the tests that need it.")
    group.addoption("--netra-profile", metavar="NAME",
                    help="The profile (default as the CLI: DOCKER_ENV / USE_ALPINE, else test).")
    group.addoption("--netra-keep", action="store_true", help="Keep the environment after the session, for debugging.")
    group.addoption("--netra-reuse", action="store_true",
                    help="Use an environment of the profile that is already up (and leave it up); start one if none is.")
    group.addoption("--netra-isolate", action="store_true",
                    help="With pytest-xdist: one environment per worker instead of one shared by all.")
    group.addoption("--netra-timeout", type=float, metavar="SECONDS", help="Seconds to wait for health.")
    group.addoption("--netra-categories", metavar="A,B",
                    help="Run only the tests under tests/A/ or marked A, or the same for B, ... (`netra-stack test`).")
    group.addoption("--netra-no-record", action="store_true",
                    help="Do not record what the services use (recorded by default, for `netra-stack advise`).")
    group.addoption("--netra-log-lines", type=int, default=40, metavar="N",
                    help="Log lines per service attached to a failing test's report (default 40).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*services): needs netra-stack's real services (optionally naming those it uses); "
                   "skipped without --real-services")
    if config.getoption("real_services"):
        config.pluginmanager.register(RealServices(config), RealServices.NAME)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    categories = [c for c in (config.getoption("netra_categories") or "").split(",") if c]
    if categories:
        folders = [config.rootpath / "tests" / c for c in categories]
        kept = [item for item in items if any(f in item.path.parents for f in folders)
                or any(item.get_closest_marker(c) for c in categories)]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
    if config.getoption("real_services"):
        return
    for item in items:
        if needs_services(item):
            named = used_services(item)
            what = f" ({', '.join(named)})" if named else ""
            item.add_marker(pytest.mark.skip(reason=f"needs real services{what}: run pytest with --real-services"))


def needs_services(item: pytest.Item) -> bool:
    return item.get_closest_marker(MARKER) is not None or any(f in getattr(item, "fixturenames", ()) for f in FIXTURES)


def used_services(item: pytest.Item) -> list[str]:
    """The services a test names in its marker (none: it may use any)."""
    return [str(s) for m in item.iter_markers(MARKER) for s in m.args]


class RealServices:
    """The session's environment, in this process: started here, or handed over."""

    NAME = "netra-stack-real-services"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.environment: NetraEnvironment | None = None
        self.error = ""  # why there is no environment
        self.owned = False  # this process started it, so it releases it
        self._manager = None
        self.recorder = None  # what the services use, sampled in a thread (metrics/recorder.py)
        self._oom_before: dict[str, int] = {}  # OOM kills per service when the running test began

    # --- where the environment comes from --------------------------------------------------------

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    @property
    def distributes(self) -> bool:
        """This is an xdist controller: workers run the tests."""
        return not self.is_worker and self.config.getoption("numprocesses", None) not in (None, 0, "0")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.is_worker and "netra_environment" in self.config.workerinput:
            handed = self.config.workerinput["netra_environment"]
            self.error = handed.get("error", "")
            if not self.error:
                self.environment = NetraEnvironment(**{**handed, "services": tuple(handed["services"])})
            return
        if self.distributes and self.config.getoption("netra_isolate"):
            return  # each worker starts its own
        self._acquire()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:  # xdist, in the controller: what each worker gets
        if self.environment is not None:
            node.workerinput["netra_environment"] = asdict(self.environment)
        elif self.error:
            node.workerinput["netra_environment"] = {"error": self.error}

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.recorder is not None:
            self.recorder.stop()  # its last samples before the environment goes
        if self.environment is None or not self.owned:
            return
        if self.config.getoption("netra_keep"):
            self._say(f"kept environment {self.environment.name}: `netra-stack down --name {self.environment.name}` "
                      "removes it")
            return
        self.manager().release_environment(self.environment.name)

    def manager(self):
        if self._manager is None:
            from netra_stack.manager import StackManager

            self._manager = StackManager(self.config.getoption("netra_profile"))
        return self._manager

    def _acquire(self) -> None:
        from netra_stack.model.errors import NetraError

        try:
            manager = self.manager()
            name = os.environ.get(ENV_VARIABLE) or (self._running() if self.config.getoption("netra_reuse") else None)
            if name:
                self._say(f"using environment {name}")
                manager.wait_for_services(self.config.getoption("netra_timeout"), env_name=name)
                manager.env_name = name
            else:
                self._say(f"starting an environment of profile {manager.profile.name}")
                keep = self.config.getoption("netra_keep")
                # held by this process (its watchdog reaps it should pytest be killed), unless kept
                name, _ = manager.acquire_environment(timeout=self.config.getoption("netra_timeout"), hold=not keep)
                self.owned = True
                self._say(f"environment {name} is up")
            self.environment = self._describe(name)
            if not self.config.getoption("netra_no_record"):
                from netra_stack.metrics.recorder import Recorder

                self.recorder = Recorder(manager.backend, manager.plugins, name, manager.profile.name).start()
        except NetraError as error:
            self.error = f"netra-stack: {error.line}"

    def _running(self) -> str | None:
        """The newest environment of the profile whose services all run."""
        profile = self.manager().profile.name
        found = [e for e in self.manager().environments(profile) if e.services
                 and all(state == "running" for state in e.services.values())]
        return max(found, key=lambda e: e.created or 0).name if found else None

    def _describe(self, name: str) -> NetraEnvironment:
        from netra_stack.lifecycle.inventory import primary_ports

        manager = self.manager()
        services = tuple(sorted({i.service for i in manager.backend.instances(name, detail=False)}))
        bindings = manager.get_ports(name)
        ipv4 = [b for b in bindings if ":" not in b.host_ip]  # where they are reached
        return NetraEnvironment(name, manager.profile.name, services, primary_ports(bindings),
                                ipv4[0].address if ipv4 else "127.0.0.1")

    def _say(self, message: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and not self.is_worker:
            reporter.write_line(f"netra-stack: {message}")

    # --- what the tests get ----------------------------------------------------------------------

    def require(self, item: pytest.Item | None = None) -> NetraEnvironment:
        if self.environment is None:
            pytest.fail(self.error or "netra-stack: no environment was started", pytrace=False)
        if item is not None:
            missing = [s for s in used_services(item) if s not in self.environment.services]
            if missing:
                pytest.fail(f"netra-stack: {item.nodeid} needs {', '.join(missing)}, which environment "
                            f"{self.environment.name} (profile {self.environment.profile}) does not have "
                            f"(it has {', '.join(self.environment.services)})", pytrace=False)
        return self.environment

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.recorder is not None:
            self._oom_before = self.recorder.oom_killed()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        report = yield
        if report.when == "call" and report.failed and self.environment is not None and needs_services(item):
            killed = self._killed_meanwhile()
            if killed:  # first: it explains the failure better than the failure does
                report.sections.insert(0, ("netra-stack: OOM kill", killed))
            try:
                for title, text in self._diagnostics(used_services(item)):
                    report.sections.append((title, text))
            except Exception as exc:  # a report must never hide the test's own failure
                report.sections.append(("netra-stack", f"could not read the environment: {exc}"))
        return report

    def _killed_meanwhile(self) -> str:
        """Which services the kernel's OOM killer hit while this test ran, with their limit and peak."""
        if self.recorder is None:
            return ""
        from netra_stack.model.usage import size

        now = self.recorder.oom_killed()
        lines = []
        for service, kills in sorted(now.items()):
            if kills > self._oom_before.get(service, 0):
                series = self.recorder.record.services.get(service)
                limit = size(series.memory_limit_bytes) if series and series.memory_limit_bytes else "no limit"
                peak = size(series.peak_memory_bytes) if series else "?"
                lines.append(f"service {service} was OOM-killed during this test (memory limit {limit}, peak "
                             f"{peak} seen): the failure may be the kill's; `netra-stack advise` recommends a limit")
        return "\n".join(lines)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        """Each service's peak memory against its limit, from the session's record."""
        if self.recorder is None or not self.recorder.record.services:
            return
        from netra_stack.model.usage import size

        record = self.recorder.record
        terminalreporter.section("netra-stack: peak memory against the limit")
        for service, series in sorted(record.services.items()):
            limit = series.memory_limit_bytes
            share = f"{size(limit)} ({100 * series.peak_memory_bytes / limit:.0f}%)" if limit else "no limit"
            oom = f", OOM-killed {series.oom_kills}x" if series.oom_kills else ""
            terminalreporter.write_line(f"{service:<16} {size(series.peak_memory_bytes):>10} of {share}{oom}")
        if record.path:
            terminalreporter.write_line(f"run record: {record.path} (`netra-stack advise --profile {record.profile}`)")

    def _diagnostics(self, services: list[str]) -> list[tuple[str, str]]:
        """The health report of the environment and the last log lines of the services used."""
        from netra_stack.model.redact import Redactor

        manager, name = self.manager(), self.environment.name
        health = manager.get_health_report(name)
        lines = [f"environment {name} (profile {health.profile}): {health.state.value}"]
        for s in health.services:
            latency = f", check {s.check.latency_ms:.0f} ms" if s.check else ""
            lines.append(f"  {s.service:<12} {s.state.value:<9} {s.detail}{latency}")
        sections = [(f"netra-stack health of {name}", "\n".join(lines))]
        picture = manager.picture(name, health)
        if picture.held():
            from netra_stack.graphs.formats import plain

            sections.append(("netra-stack: what held what up", plain(picture)))
        redactor = Redactor.for_profile(manager.profile, manager.environ)
        tail = self.config.getoption("netra_log_lines")
        for instance in sorted(manager.backend.instances(name, detail=False), key=lambda i: i.service):
            if services and instance.service not in services:
                continue
            text = redactor.redact(manager.backend.logs(instance, tail=tail)).rstrip() or "(no output)"
            sections.append((f"netra-stack logs of {instance.service} (last {tail} lines)", text))
        return sections


def _session(request: pytest.FixtureRequest) -> RealServices | None:
    return request.config.pluginmanager.get_plugin(RealServices.NAME)


@pytest.fixture(scope="session")
def netra_env(request: pytest.FixtureRequest) -> NetraEnvironment:
    """The session's environment: `.name`, `.ports`, `.port("postgres")`, `.url("backend", "/health")`."""
    session = _session(request)
    if session is None:
        pytest.skip("needs real services: run pytest with --real-services")
    return session.require()


@pytest.fixture(scope="session")
def netra_ports(netra_env: NetraEnvironment) -> dict[str, int]:
    """Service -> host port of the session's environment."""
    return dict(netra_env.ports)


@pytest.fixture(scope="session")
def netra_urls(netra_env: NetraEnvironment) -> dict[str, str]:
    """Service -> `http://127.0.0.1:PORT` of the session's environment."""
    return {service: netra_env.url(service) for service in netra_env.ports}


@pytest.fixture(autouse=True)
def _netra_marked(request: pytest.FixtureRequest) -> None:
    """A test marked real_services gets the environment (and its named services checked)."""
    if request.node.get_closest_marker(MARKER) is not None:
        session = _session(request)
        if session is not None:
            session.require(request.node)
