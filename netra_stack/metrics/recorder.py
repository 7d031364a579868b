"""Sampling an environment: `Sampler` takes rounds of samples (the backend's stream and the
plugins' measurements), `Recorder` keeps them for the environment's whole life as a run record.

A Recorder runs in a thread of the process that holds the environment (the pytest plugin) or, for
`netra-stack up --record`, in a small detached process of its own that ends once the environment
is gone:

    python -m netra_stack.metrics.recorder ENVIRONMENT PROFILE_FILE BACKEND
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from netra_stack.metrics import records
from netra_stack.model.usage import Usage

if TYPE_CHECKING:
    from netra_stack.backends.base import Backend
    from netra_stack.plugins.registry import Plugins

INTERVAL = 1.0  # seconds between samples: Docker's own pace
SAVE_EVERY = 10.0  # seconds between writes of the record while the run lasts
GONE_CHECK = 5.0  # seconds between looks at whether the environment still exists
APPEAR_TIMEOUT = 600.0  # how long a recorder started with `up` waits for the first instance


class Sampler:
    """One environment's rounds of samples: its backend's stream, and what plugins measure."""

    def __init__(self, backend: Backend, plugins: Plugins, environment: str) -> None:
        self.backend, self.plugins, self.environment = backend, plugins, environment
        self._asks_plugins = bool(plugins.implementations("netra_collect_samples"))
        self._stream = backend.stats(environment)

    def once(self, timeout: float = 5.0) -> list[Usage]:
        """A round once each instance has a complete sample (about a second after opening)."""
        return self._with_extras(self._stream.ready(timeout))

    def round(self) -> list[Usage]:
        """The newest sample of each instance."""
        return self._with_extras(self._stream.latest())

    def _with_extras(self, samples: list[Usage]) -> list[Usage]:
        if not self._asks_plugins or not samples:
            return samples
        extras = self.plugins.collect_samples(self.environment, self.backend.instances(self.environment, detail=False))
        return [s.with_extra(extras.get(s.service, {})) for s in samples]

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> Sampler:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def machine_of(backend: Backend) -> dict[str, int]:
    """What one machine of the backend offers, for `advise`'s estimate of what fits."""
    cpus, memory = backend.capacity()
    return {"cpus": cpus, "memory_bytes": memory}


class Recorder:
    """An environment's samples over its life, as a run record saved every SAVE_EVERY seconds
    and at the end. `start()` samples in a thread until `stop()`; `until_gone()` samples in the
    calling thread until the environment has gone."""

    def __init__(self, backend: Backend, plugins: Plugins, environment: str, profile: str, *,
                 interval: float = INTERVAL, environ: Mapping[str, str] | None = None) -> None:
        self.backend, self.plugins, self.environment = backend, plugins, environment
        self.interval = interval
        self.environ = os.environ if environ is None else environ
        now = time.time()
        self.record = records.RunRecord(profile=profile, environment=environment, backend=backend.name,
                                        started=now, ended=now, interval=interval)
        self.latest: list[Usage] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Recorder:
        self._thread = threading.Thread(target=self._sample, name=f"netra-recorder-{self.environment}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> records.RunRecord:
        """Stop sampling and save the record once more; the record."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        return self.record

    def until_gone(self, appear_timeout: float = APPEAR_TIMEOUT) -> records.RunRecord:
        """Sample until the environment has gone (after it appeared, within `appear_timeout`)."""
        deadline = time.monotonic() + appear_timeout
        while not self.backend.instances(self.environment, detail=False):
            if time.monotonic() > deadline:
                return self.record
            time.sleep(self.interval)
        self._sample(until_gone=True)
        return self.record

    def oom_killed(self) -> dict[str, int]:
        """Service -> OOM kills seen so far, for the services that had any (the record keeps the
        highest count of each round)."""
        return {service: series.oom_kills for service, series in self.record.services.items() if series.oom_kills}

    def _sample(self, until_gone: bool = False) -> None:
        records.prune(self.environ)
        self.record.machine = machine_of(self.backend)
        saved = looked = time.monotonic()
        with Sampler(self.backend, self.plugins, self.environment) as sampler:
            while not self._stop.wait(self.interval):
                self.latest = sampler.round()
                self.record.add(self.latest)
                now = time.monotonic()
                if until_gone and now - looked >= GONE_CHECK:
                    looked = now
                    if not self.backend.instances(self.environment, detail=False):
                        break
                if now - saved >= SAVE_EVERY and self.record.services:
                    self.record.save()
                    saved = now
            if not self.record.services and not until_gone:  # stopped before the first complete samples
                self.latest = sampler.once(timeout=3.0)
                self.record.add(self.latest)
        if self.record.services:
            self.record.save()


def spawn(environment: str, profile_file: str, backend: str, environ: Mapping[str, str]) -> subprocess.Popen:
    """Start the recorder of an environment in a process of its own, detached from this one,
    with the manager's environment (the same engine, the same state directory)."""
    return subprocess.Popen([sys.executable, "-m", "netra_stack.metrics.recorder", environment, profile_file, backend],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, close_fds=True, env=dict(environ))


def _main(environment: str, profile_file: str, backend: str) -> None:
    from netra_stack.model.profiles import load_profile
    from netra_stack.plugins.registry import Plugins

    chosen = load_profile(profile_file)
    plugins = Plugins(chosen)
    Recorder(plugins.backend(backend, os.environ), plugins, environment, chosen.name).until_gone()


if __name__ == "__main__":
    _main(*sys.argv[1:4])
