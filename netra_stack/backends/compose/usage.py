"""Resource use from the engine's stats API: one stream per container, each read in a thread of
its own, and the engine's container events (start, oom, die) to join new containers and to
count OOM kills. Docker sends a stream's samples once a second; `latest()` hands out the newest
of each container, so a reader asks as often as it likes without asking the engine again."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import docker
import docker.errors
from docker.types.daemon import CancellableStream

from netra_stack.model import labels as L
from netra_stack.model.usage import Usage


@dataclass(frozen=True)
class Container:
    """What inspect says about a container that its samples need: its names and limits."""

    id: str
    service: str
    name: str
    memory_limit_bytes: int
    cpu_limit: float
    restarts: int
    status: str
    oom_killed: bool  # its last exit was the OOM killer's

    @classmethod
    def from_inspect(cls, data: Mapping[str, Any]) -> Container:
        host = data.get("HostConfig") or {}
        state = data.get("State") or {}
        quota, period = host.get("CpuQuota") or 0, host.get("CpuPeriod") or 100_000
        cpus = (host.get("NanoCpus") or 0) / 1e9 or (quota / period if quota > 0 else 0.0)
        return cls(id=data["Id"], service=L.service_of((data.get("Config") or {}).get("Labels") or {}),
                   name=str(data.get("Name", "")).lstrip("/"), memory_limit_bytes=int(host.get("Memory") or 0),
                   cpu_limit=round(cpus, 3), restarts=int(data.get("RestartCount") or 0),
                   status=str(state.get("Status", "unknown")), oom_killed=bool(state.get("OOMKilled")))


def working_set(memory: Mapping[str, Any]) -> int:
    """Memory in use less the inactive page cache, as `docker stats` counts it (cgroup v1 names
    it total_inactive_file, v2 inactive_file)."""
    usage = int(memory.get("usage") or 0)
    stats = memory.get("stats") or {}
    cache = stats.get("total_inactive_file", stats.get("inactive_file", 0)) or 0
    return usage - cache if cache < usage else usage


def complete(raw: Mapping[str, Any]) -> bool:
    """Whether a sample can say how busy the CPU was: the first of a stream has no earlier reading."""
    before = raw.get("precpu_stats") or {}
    return bool(before.get("system_cpu_usage")) and bool((before.get("cpu_usage") or {}).get("total_usage"))


def usage_of(raw: Mapping[str, Any], container: Container, *, oom_kills: int = 0, seen_peak: int = 0,
             now: float | None = None) -> Usage:
    """One sample of the stats API as a Usage: CPU as a share of one core (Docker's formula), the
    working set, the cgroup's peak where it keeps one (v1's max_usage, less today's cache) or
    else the most this stream has seen, network and block I/O summed, throttling."""
    memory = raw.get("memory_stats") or {}
    cpu, before = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    used = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (before.get("cpu_usage") or {}).get("total_usage", 0)
    system = cpu.get("system_cpu_usage", 0) - before.get("system_cpu_usage", 0)
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [1])
    in_use = working_set(memory)
    cache = in_use - int(memory.get("usage") or 0)  # <= 0: what working_set took off
    peak = max(in_use, seen_peak, int(memory.get("max_usage") or 0) + cache)
    networks = (raw.get("networks") or {}).values()
    blocks = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    throttling = cpu.get("throttling_data") or {}
    return Usage(
        service=container.service, instance=container.name, time=time.time() if now is None else now,
        cpu_percent=max(0.0, 100.0 * used / system * cpus) if system > 0 and complete(raw) else 0.0,
        memory_bytes=in_use, memory_peak_bytes=peak, memory_limit_bytes=container.memory_limit_bytes,
        cpu_limit=container.cpu_limit,
        net_rx_bytes=sum(int(n.get("rx_bytes") or 0) for n in networks),
        net_tx_bytes=sum(int(n.get("tx_bytes") or 0) for n in networks),
        block_read_bytes=sum(int(b.get("value") or 0) for b in blocks if str(b.get("op", "")).lower() == "read"),
        block_write_bytes=sum(int(b.get("value") or 0) for b in blocks if str(b.get("op", "")).lower() == "write"),
        pids=int((raw.get("pids_stats") or {}).get("current") or 0), restarts=container.restarts,
        oom_kills=max(oom_kills, int(container.oom_killed)),
        throttled_periods=int(throttling.get("throttled_periods") or 0),
        throttled_seconds=(throttling.get("throttled_time") or 0) / 1e9, status="running")


def stopped(container: Container, *, oom_kills: int = 0, last: Usage | None = None) -> Usage:
    """A container that does not run: nothing in use, its peak and counters kept."""
    base = last or Usage(service=container.service, instance=container.name, time=time.time(),
                         memory_limit_bytes=container.memory_limit_bytes, cpu_limit=container.cpu_limit)
    return replace(base, time=time.time(), cpu_percent=0.0, memory_bytes=0, pids=0, status=container.status,
                   restarts=container.restarts, oom_kills=max(oom_kills, base.oom_kills, int(container.oom_killed)))


class ContainerStats:
    """The resource use of one environment's containers on one engine, streamed (a UsageStream)."""

    def __init__(self, api: docker.APIClient, environment: str) -> None:
        self._api = api
        self._filters = {"label": L.managed_filter(environment)}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._containers: dict[str, Container] = {}
        self._latest: dict[str, Usage] = {}
        self._streams: dict[str, CancellableStream] = {}
        self._oom: dict[str, int] = {}
        self._changed = threading.Condition(self._lock)
        # Events first, so that a container started between the list and the subscription is not missed.
        self._events = api.events(decode=True, filters={"type": "container", **self._filters,
                                                        "event": ["start", "oom", "die", "destroy"]})
        threading.Thread(target=self._follow, name=f"netra-stats-events-{environment}", daemon=True).start()
        for summary in api.containers(all=True, filters=self._filters):
            self._join(summary["Id"])

    # --- reading ---------------------------------------------------------------------------------

    def latest(self) -> list[Usage]:
        """The newest sample of each container (one that stopped: zero use, its counters kept)."""
        with self._lock:
            return [self._latest[cid] for cid in self._containers if cid in self._latest]

    def ready(self, timeout: float) -> list[Usage]:
        """Once every container has a sample that can say how busy it is (about a second after
        the start), or at the timeout: the latest samples."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._closed.is_set() and not all(cid in self._latest for cid in self._containers):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        return self.latest()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            streams = list(self._streams.values())
        for stream in (self._events, *streams):
            _close(stream)

    def __enter__(self) -> ContainerStats:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- following the engine ---------------------------------------------------------------------

    def _join(self, container_id: str) -> None:
        """Inspect a container and, if it runs, open its stats stream in a thread."""
        try:
            container = Container.from_inspect(self._api.inspect_container(container_id))
        except docker.errors.NotFound:
            return
        with self._changed:
            self._containers[container_id] = container
            oom = self._oom.get(container_id, 0)
            if container.status != "running":
                self._latest[container_id] = stopped(container, oom_kills=oom, last=self._latest.get(container_id))
                self._changed.notify_all()
                return
            if container_id in self._streams or self._closed.is_set():
                return
            self._latest.pop(container_id, None)  # a restart: wait for a sample of the new process
            self._streams[container_id] = stream = self._open(container_id)
        threading.Thread(target=self._read, args=(container_id, stream), name=f"netra-stats-{container.name}",
                         daemon=True).start()

    def _open(self, container_id: str) -> CancellableStream:
        # The SDK's stats() returns a bare generator that cannot be closed from another thread;
        # this is the same request wrapped as its events() wraps its own, so close() ends it at once.
        response = self._api._get(self._api._url("/containers/{0}/stats", container_id), params={"stream": True},
                                  stream=True)
        self._api._raise_for_status(response)
        return CancellableStream(self._api._stream_helper(response, decode=True), response)

    def _read(self, container_id: str, stream: CancellableStream) -> None:
        peak = 0
        try:
            for raw in stream:
                if self._closed.is_set():
                    break
                if not complete(raw) or not raw.get("pids_stats"):
                    continue  # the first sample, or one of a container that just stopped
                with self._changed:
                    container = self._containers[container_id]
                    sample = usage_of(raw, container, oom_kills=self._oom.get(container_id, 0), seen_peak=peak)
                    peak = sample.memory_peak_bytes
                    self._latest[container_id] = sample
                    self._changed.notify_all()
        except Exception:  # closed under us, the container went away, or the engine did
            pass
        finally:
            with self._lock:
                if self._streams.get(container_id) is stream:
                    del self._streams[container_id]

    def _follow(self) -> None:
        try:
            for event in self._events:
                action, container_id = str(event.get("Action", "")), str(event.get("id", ""))
                if action == "oom":
                    with self._lock:
                        self._oom[container_id] = self._oom.get(container_id, 0) + 1
                elif action == "destroy":
                    with self._lock:
                        self._containers.pop(container_id, None)
                        self._latest.pop(container_id, None)
                elif action in ("start", "die"):
                    if action == "die":
                        self._end_stream(container_id)
                    self._join(container_id)
        except Exception:  # the stream was closed under us, or the engine went away: stop quietly
            pass

    def _end_stream(self, container_id: str) -> None:
        with self._lock:
            stream = self._streams.pop(container_id, None)
        if stream is not None:
            _close(stream)


def _close(stream: CancellableStream) -> None:
    try:
        stream.close()
    except Exception:  # already ended
        pass


class Merged:
    """Several engines' streams as one (a swarm's nodes); with none, a stream of nothing."""

    def __init__(self, streams: list) -> None:
        self._streams = streams

    def latest(self) -> list[Usage]:
        return [sample for stream in self._streams for sample in stream.latest()]

    def ready(self, timeout: float) -> list[Usage]:
        deadline = time.monotonic() + timeout
        for stream in self._streams:
            stream.ready(max(0.0, deadline - time.monotonic()))
        return self.latest()

    def close(self) -> None:
        for stream in self._streams:
            stream.close()

    def __enter__(self) -> Merged:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
