"""The health model: judge's state table, the report's aggregation, and the wait loop with a fake probe."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from datetime import datetime, timezone

import pytest

from netra_stack.lifecycle import wait as health
from netra_stack.lifecycle.wait import HealthMemory, wait_until_healthy
from netra_stack.model.health import CheckResult, HealthReport, HealthState, ServiceHealth, judge
from netra_stack.model.instances import Instance

H, U, S, X = HealthState.HEALTHY, HealthState.UNHEALTHY, HealthState.STARTING, HealthState.STOPPED
OK = CheckResult(ok=True, output="accepting connections", latency_ms=3.0, exit_code=0)
FAIL = CheckResult(ok=False, output="no response", latency_ms=5.0, exit_code=2)


LONG_AGO = datetime(2026, 1, 1, tzinfo=timezone.utc)


def container(status="running", health=None, exit_code=0, output="", started=LONG_AGO, restarts=0):
    return Instance(id="c0ffee", name="env-db-1", labels={}, status=status, exit_code=exit_code,
                         health=health, health_output=output, started=started, restart_count=restarts)


@pytest.mark.parametrize(
    ("info", "check", "one_shot", "state", "failed", "detail"),
    [
        (container(), None, False, H, False, "running"),
        (container(health="healthy"), None, False, H, False, "running"),
        (container(health="healthy"), OK, False, H, False, "health command passes"),
        (container(), OK, False, H, False, "health command passes"),
        (container(health="starting"), None, False, S, False, "Docker healthcheck starting"),
        (container(health="starting"), OK, False, S, False, "Docker healthcheck starting"),
        (container(health="unhealthy"), None, False, U, True, "Docker healthcheck failing"),
        (container(health="unhealthy"), OK, False, U, True, "Docker healthcheck failing"),
        (container(health="healthy"), FAIL, False, U, False, "health command failing (exit 2)"),
        (container(health="starting"), FAIL, False, S, False, "health command failing (exit 2)"),
        (container(), FAIL, False, S, False, "health command failing (exit 2)"),
        (container("exited", exit_code=1), None, False, X, True, "exited (exit 1)"),
        (container("exited", exit_code=137), None, True, X, True, "exited (exit 137)"),
        (container("exited", exit_code=0), None, False, X, True, "exited (exit 0)"),  # not one-shot: it stopped
        (container("exited", exit_code=0), None, True, H, False, "completed (exit 0)"),
        (container("dead", exit_code=255), None, False, X, True, "dead (exit 255)"),
        (container("created"), None, False, S, False, "created"),
        (container("restarting", exit_code=1), None, False, S, False, "restarting"),
        (container("restarting", exit_code=1, restarts=2), None, False, X, True,
         "crash-looping (2 restarts, last exit 1)"),
        (container(started=None), None, False, S, False, "just started"),  # start unknown: not steady yet
        (container(started=None), OK, False, H, False, "health command passes"),
        (container(health="starting"), None, False, H, False, "running (its healthcheck passes when run now)"),
        (None, None, False, X, True, "no container"),
        (None, None, True, X, True, "no container"),
    ],
)
def test_judge(info, check, one_shot, state, failed, detail):
    container_check = OK if detail.endswith("passes when run now)") else None
    result = judge("db", info, check, one_shot=one_shot, container_check=container_check)
    assert (result.service, result.state, result.failed, result.detail) == ("db", state, failed, detail)
    if info is not None:
        assert (result.container, result.container_state, result.docker_health, result.check) == (
            "env-db-1", info.status, info.health, check)


def test_judge_keeps_dockers_probe_output():
    result = judge("db", container(health="unhealthy", output="pg down"), None, one_shot=False)
    assert result.docker_probe == "pg down"
    assert result.as_dict()["state"] == "UNHEALTHY" and result.as_dict()["docker_probe"] == "pg down"


def test_judge_running_one_shot_is_not_yet_done():
    assert judge("migrate", container(), None, one_shot=True).state is HealthState.STARTING


def report(*states: HealthState, failed_unhealthy: bool = False) -> HealthReport:
    """Services in these states, each with a running container unless STOPPED."""
    docker = "unhealthy" if failed_unhealthy else None
    return HealthReport("env", "test", [ServiceHealth(f"s{i}", s, docker_health=docker,
                                                      container_state="exited" if s is X else "running")
                                        for i, s in enumerate(states)])


@pytest.mark.parametrize(
    ("states", "expected", "running"),
    [
        ((), X, "0/0"), ((H,), H, "1/1"), ((H, H, H), H, "3/3"), ((H, S), S, "2/2"), ((H, U, S), U, "3/3"),
        # some running: partly down is UNHEALTHY (it was STOPPED before); STOPPED only when none runs
        ((H, U, S, X), U, "3/4"), ((H, H, X), U, "2/3"), ((S, X), U, "1/2"),
        ((X,), X, "0/1"), ((X, X), X, "0/2"), ((S, S), S, "2/2"),
    ],
)
def test_report_state(states, expected, running):
    found = report(*states)
    assert found.state is expected
    assert found.healthy is (expected is H)
    assert found.running == running
    assert [s.state for s in found.not_healthy()] == [s for s in states if s is not H]
    assert found.as_dict()["state"] == expected.value and found.as_dict()["running"] == running


def test_a_completed_one_shot_is_done_not_down():
    done = ServiceHealth("migrate", H, "completed (exit 0)", container_state="exited")
    assert HealthReport("env", "test", [done, ServiceHealth("app", H, container_state="running")]).running == "1/1"
    stopped = HealthReport("env", "test", [done, ServiceHealth("app", X, container_state="exited")])
    assert (stopped.state, stopped.running) == (X, "0/1")  # nothing that should run does


def test_report_explain():
    found = HealthReport("env", "test", [ServiceHealth("db", H), ServiceHealth("api", S, "Docker healthcheck starting"),
                                         ServiceHealth("web", X, "exited (exit 1)")])
    assert found.explain() == "api: STARTING (Docker healthcheck starting); web: STOPPED (exited (exit 1))"


def test_a_dependents_line_names_the_dependency_that_holds_it_up():
    found = HealthReport("env", "test",
                         [ServiceHealth("db", X, "exited (exit 137)"), ServiceHealth("cache", H),
                          ServiceHealth("api", U, "health command failing (exit 1)"), ServiceHealth("web", H)],
                         depends_on={"api": ["db", "cache"], "web": ["db"]})
    assert found.cause("api") == "held up by db (STOPPED)"
    assert found.cause("web") == "" and found.cause("db") == ""  # HEALTHY, or nothing it depends on
    assert found.held_up_by("api") == ["db"] and found.as_dict()["services"][2]["held_up_by"] == ["db"]
    assert found.explain() == ("db: STOPPED (exited (exit 137)); "
                               "api: UNHEALTHY (health command failing (exit 1); held up by db (STOPPED))")


@pytest.mark.parametrize(
    ("check", "detail"),
    [
        (CheckResult(False, "HTTP 503, expected 200", 2.0, kind="http"), "http check failing (HTTP 503, expected 200)"),
        (CheckResult(False, "connection refused at 172.18.0.2:5432", 0.3, kind="tcp"),
         "tcp check failing (connection refused at 172.18.0.2:5432)"),
        (CheckResult(False, "'ready' seen 0 of 1 times", 1.0, kind="log"), "log check failing ('ready' seen 0 of 1 times)"),
        (CheckResult(True, "HTTP 200", 2.0, kind="http"), "http check passes"),
    ],
)
def test_judge_names_the_host_check(check, detail):
    result = judge("web", container(), check, one_shot=False)
    assert result.detail == detail and result.state is (H if check.ok else S)
    assert result.as_dict()["check"]["kind"] == check.kind


# --- has been healthy ----------------------------------------------------------------------------


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRA_STACK_STATE_DIR", str(tmp_path))
    (tmp_path / "env").mkdir()  # as `up` leaves it: the environment's override and env files live there
    return tmp_path


def test_a_service_that_has_been_healthy_and_fails_now_is_unhealthy(state_dir):
    run = container(started=LONG_AGO)
    failing = judge("db", run, FAIL, one_shot=False)
    assert failing.state is S  # before its first success: still coming up
    assert HealthMemory("env").judged(failing, run) is failing
    first = HealthMemory("env")
    first.judged(judge("db", run, OK, one_shot=False), run)
    first.save()
    later = HealthMemory("env")  # another process: `netra-stack health`
    found = later.judged(failing, run)
    assert (found.state, found.detail) == (U, "health command failing (exit 2) after being HEALTHY")
    assert not found.failed  # a wait still waits for it to recover
    restarted = container(started=datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert later.judged(failing, restarted).state is S  # a new run starts over
    assert HealthMemory("other-env").judged(failing, run).state is S


def test_health_memory_writes_only_what_changed(state_dir):
    run = container()
    memory = HealthMemory("env")
    memory.save()
    assert not (state_dir / "env" / HealthMemory.FILE).exists()  # nothing healthy yet: nothing written
    memory.judged(judge("db", run, OK, one_shot=False), run)
    memory.save()
    record = state_dir / "env" / HealthMemory.FILE
    written = record.stat().st_mtime_ns
    again = HealthMemory("env")
    again.judged(judge("db", run, OK, one_shot=False), run)
    again.save()
    assert record.stat().st_mtime_ns == written and [p.name for p in (state_dir / "env").iterdir()] == [record.name]


# --- the wait loop -----------------------------------------------------------------------------------


class ScriptedProbe:
    """Returns the scripted reports in turn (the last one forever) and records what it was asked to skip."""

    def __init__(self, *reports: HealthReport) -> None:
        self.reports, self.skips = list(reports), []

    def __call__(self, skip: set[str]) -> HealthReport:
        self.skips.append(set(skip))
        return self.reports[min(len(self.skips), len(self.reports)) - 1]


@pytest.fixture
def fake_clock(monkeypatch):
    """the wait loop's time replaced by a clock that advances only when the loop sleeps."""
    clock = SimpleNamespace(now=0.0, sleeps=[])

    def sleep(seconds):
        clock.sleeps.append(round(seconds, 6))
        clock.now += seconds

    monkeypatch.setattr(health, "time", SimpleNamespace(monotonic=lambda: clock.now, sleep=sleep))
    return clock


def test_wait_returns_healthy(fake_clock):
    two = [ServiceHealth("db", H), ServiceHealth("api", S)]
    probe = ScriptedProbe(report(S, S), HealthReport("env", "test", two), report(H, H))
    seen = []
    found, outcome = wait_until_healthy(probe, timeout=60, on_report=seen.append)
    assert outcome == "healthy" and found.healthy
    assert seen == probe.reports
    assert probe.skips == [set(), set(), {"db"}]  # HEALTHY last time: may be judged from the container alone
    assert fake_clock.sleeps == [0.05, 0.0625]


def test_wait_fails_fast(fake_clock):
    crashed = HealthReport("env", "test", [ServiceHealth("db", H), ServiceHealth("api", X, "exited (exit 1)")])
    probe = ScriptedProbe(report(S, S), crashed, report(H, H))
    found, outcome = wait_until_healthy(probe, timeout=60)
    assert (outcome, found) == ("failed", crashed)
    assert len(probe.skips) == 2


def test_wait_fails_on_dockers_unhealthy_verdict(fake_clock):
    found, outcome = wait_until_healthy(ScriptedProbe(report(U, failed_unhealthy=True)), timeout=60)
    assert outcome == "failed" and fake_clock.sleeps == []


def test_wait_keeps_waiting_while_health_command_fails(fake_clock):
    # UNHEALTHY from the service-level command only (Docker says healthy) is not a failure: wait on.
    probe = ScriptedProbe(report(U), report(U), report(H))
    assert wait_until_healthy(probe, timeout=60)[1] == "healthy"


def test_wait_interval_grows_caps_and_stops_at_deadline(fake_clock):
    probe = ScriptedProbe(report(S))
    found, outcome = wait_until_healthy(probe, timeout=40.0)
    assert outcome == "timeout" and found.state is S
    assert fake_clock.sleeps[:4] == pytest.approx([0.05, 0.0625, 0.078125, 0.09765625], abs=1e-5)
    fast = [s for s in fake_clock.sleeps if s == 0.1]
    assert len(fast) > 150  # frequent while a stack is likely to become ready (the first 20 s)
    assert max(fake_clock.sleeps) == 2.0 and set(fake_clock.sleeps[-5:-1]) == {2.0}  # then backs off
    assert 0 < fake_clock.sleeps[-1] <= 2.0 and fake_clock.now == pytest.approx(40.0)  # cut to the time left
    assert len(probe.skips) == len(fake_clock.sleeps) + 1  # one last probe at the deadline


def test_wait_zero_timeout_probes_once(fake_clock):
    probe = ScriptedProbe(report(S))
    assert wait_until_healthy(probe, timeout=0)[1] == "timeout"
    assert len(probe.skips) == 1 and fake_clock.sleeps == []


def test_wait_times_out_with_the_real_clock():
    probe = ScriptedProbe(report(H, S))
    found, outcome = wait_until_healthy(probe, timeout=0.3)
    assert outcome == "timeout"
    assert found.state is S
    assert len(probe.skips) >= 2


def test_views_show_how_much_runs_and_the_dependency_that_holds_a_service_up(capsys):
    from rich.console import Console

    from netra_stack.cli.terminal import Terminal
    from netra_stack.cli.views import health_view

    found = HealthReport("env", "test", [ServiceHealth("db", X, "exited (exit 137)", container_state="exited"),
                                         ServiceHealth("api", U, "health command failing (exit 1)", container_state="running"),
                                         ServiceHealth("web", H, "running", container_state="running")],
                         depends_on={"api": ["db"], "web": ["db"]})
    Terminal().draw(health_view(found))  # plain: stdout is no terminal here
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "env (test): UNHEALTHY, 2/3 running"
    assert lines[1].split()[:2] == ["service", "state"]
    assert lines[3].split()[:2] == ["api", "UNHEALTHY"] and lines[3].endswith("held up by db (STOPPED)")
    assert lines[4].endswith("  running")  # HEALTHY: nothing holds it up
    console = Console(record=True, width=250)
    console.print(health_view(found).rich())
    text = console.export_text()
    assert "env (test): UNHEALTHY, 2/3 running" in text and "health command failing (exit 1); held up by db (STOPPED)" in text


def test_health_memory_records_nothing_once_the_environment_is_gone(state_dir):
    run = container()
    memory = HealthMemory("gone")  # `down` removed its state folder; a late probe must not bring it back
    memory.judged(judge("db", run, OK, one_shot=False), run)
    memory.save()
    assert not (state_dir / "gone").exists()


def test_a_service_with_replicas_is_healthy_only_when_each_is_and_names_the_worst():
    from netra_stack.model.health import combine

    one = ServiceHealth("web", H, "running", container="web.1", node="node0")
    assert combine([one]) is one  # a single container is the service
    two = ServiceHealth("web", S, "Docker healthcheck starting", container="web.2", node="node1")
    three = ServiceHealth("web", X, "exited (exit 1)", container="web.3", node="node2")
    found = combine([one, two, three])
    assert (found.state, found.container, found.node) == (X, "web.3", "node2")  # the worst decides, and is named
    assert found.detail == "1/3 replicas HEALTHY; web.3: exited (exit 1)" and found.failed
    assert [r.node for r in found.each] == ["node0", "node1", "node2"]
    assert combine([one, two]).state is S
    healthy = combine([one, replace(one, container="web.2", node="node1")])
    assert healthy.state is H and healthy.detail == "2 replicas, running"
    assert [r["node"] for r in healthy.as_dict()["replicas"]] == ["node0", "node1"]


def test_the_health_view_shows_each_replica_with_its_node(capsys):
    from netra_stack.cli.terminal import Terminal
    from netra_stack.cli.views import health_view
    from netra_stack.model.health import combine

    web = combine([ServiceHealth("web", H, "running", container=f"e_web.{n}.t{n}", container_state="running",
                                 node=f"node{n}") for n in (1, 2)])
    Terminal().draw(health_view(HealthReport("e", "p", [ServiceHealth("db", H, "running", node="node0"), web])))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["service", "node", "state"]
    assert [line.split()[:3] for line in lines[2:]] == [["db", "node0", "HEALTHY"], ["web", "-", "HEALTHY"],
                                                        ["e_web.1.t1", "node1", "HEALTHY"], ["e_web.2.t2", "node2", "HEALTHY"]]
    Terminal().draw(health_view(HealthReport("e", "p", [ServiceHealth("db", H, "running")])))
    assert "node" not in capsys.readouterr().out.splitlines()[1].split()  # one engine: no node column
