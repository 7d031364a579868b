"""The watchdog's patience with an engine that does not answer (a remote one, say), without an
engine: the holder gone, the removal is tried again until the engine answers, within a bound.
Reaping a SIGKILLed holder's environment on the real engine is tests/integration/test_leases.py."""

from __future__ import annotations

from netra_stack.leases import watchdog
from netra_stack.model import labels as L
from netra_stack.model.errors import DockerUnavailableError


class Flaky:
    """A backend whose engine does not answer the first `silent` calls."""

    def __init__(self, silent: int, lease: str) -> None:
        self.silent, self.lease, self.calls, self.downs = silent, lease, 0, []

    def instances(self, environment, *, detail=True):
        self.calls += 1
        if self.calls <= self.silent:
            raise DockerUnavailableError("cannot reach the Docker engine at tcp://engine.example:2376")
        return [] if self.downs else [type("I", (), {"labels": {L.LEASE: self.lease}})()]

    def down(self, environment):
        self.downs.append(environment)
        return []


def test_a_holder_gone_while_the_engine_is_away_is_reaped_once_it_answers(monkeypatch):
    monkeypatch.setattr(watchdog, "RETRY", 0.01)
    monkeypatch.setattr(watchdog.time, "sleep", lambda seconds: None)
    lease = "999999999:1@" + __import__("socket").gethostname()  # no such pid here: the holder is gone
    backend = Flaky(silent=3, lease=lease)
    watchdog.watch("env-1", lease, backend)
    assert backend.downs == ["env-1"]


def test_an_engine_that_never_answers_is_given_up_after_the_bound(monkeypatch):
    clock = iter(range(0, 10_000, 100))  # each look at the clock, 100 s later
    monkeypatch.setattr(watchdog.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(watchdog.time, "sleep", lambda seconds: None)
    lease = "999999999:1@" + __import__("socket").gethostname()
    backend = Flaky(silent=10_000, lease=lease)
    watchdog.watch("env-1", lease, backend)  # returns: it gave up
    assert backend.downs == [] and 2 <= backend.calls <= 2 * (watchdog.REACH / 100 + 2)
