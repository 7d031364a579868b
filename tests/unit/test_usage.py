"""Resource use as pure logic: the engine's stats samples as Usage (cgroup v1 and v2), sums per
service and environment, sparklines, and run records (thinning, loading, bad files, pruning)."""

from __future__ import annotations

import json
import os
import time

import pytest

from netra_stack.backends.compose.usage import Container, complete, stopped, usage_of, working_set
from netra_stack.metrics import records
from netra_stack.model.usage import Usage, by_service, size, sparkline, total

MIB = 2**20
CONTAINER = Container(id="c1", service="db", name="env-db-1", memory_limit_bytes=512 * MIB, cpu_limit=0.5,
                      restarts=1, status="running", oom_killed=False)


def sample(*, v1: bool = True, cpu: int = 3_000_000_000, precpu: int = 2_000_000_000) -> dict:
    """A sample of the stats API as Docker 20.10 sends it (cgroup v1), or its v2 memory form."""
    cache = {"total_inactive_file": 20 * MIB} if v1 else {"inactive_file": 20 * MIB}
    return {
        "read": "2026-12-01T10:00:01Z",
        "pids_stats": {"current": 7},
        "cpu_stats": {"cpu_usage": {"total_usage": cpu}, "system_cpu_usage": 200_000_000_000, "online_cpus": 2,
                      "throttling_data": {"periods": 50, "throttled_periods": 5, "throttled_time": 1_500_000_000}},
        "precpu_stats": {"cpu_usage": {"total_usage": precpu}, "system_cpu_usage": 198_000_000_000},
        "memory_stats": {"usage": 120 * MIB, "max_usage": 150 * MIB if v1 else None, "limit": 512 * MIB, "stats": cache},
        "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 400}, "eth1": {"rx_bytes": 24, "tx_bytes": 0}},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 4096}, {"op": "Write", "value": 8192},
                                                       {"op": "Total", "value": 12288}]},
    }


def test_a_v1_sample_is_docker_stats_arithmetic():
    found = usage_of(sample(), CONTAINER, now=100.0)
    # (1e9 ns of the container) / (2e9 ns of the system) * 2 CPUs = one core
    assert found.cpu_percent == pytest.approx(100.0)
    assert found.cpu_of_limit == pytest.approx(200.0)  # a 0.5-core limit, busy for a whole core
    assert found.memory_bytes == 100 * MIB  # the inactive page cache is not in use
    assert found.memory_peak_bytes == 130 * MIB  # the cgroup's max less the cache
    assert found.memory_percent == pytest.approx(100 * 100 / 512)
    assert (found.net_rx_bytes, found.net_tx_bytes) == (1024, 400)
    assert (found.block_read_bytes, found.block_write_bytes) == (4096, 8192)
    assert (found.pids, found.restarts, found.throttled_periods, found.throttled_seconds) == (7, 1, 5, 1.5)
    assert (found.service, found.instance, found.time, found.status) == ("db", "env-db-1", 100.0, "running")


def test_a_v2_sample_has_no_cgroup_peak_so_the_stream_keeps_its_own():
    found = usage_of(sample(v1=False), CONTAINER, seen_peak=140 * MIB)
    assert found.memory_bytes == 100 * MIB and found.memory_peak_bytes == 140 * MIB
    assert usage_of(sample(v1=False), CONTAINER).memory_peak_bytes == 100 * MIB


def test_the_first_sample_of_a_stream_cannot_say_how_busy_the_cpu_was():
    first = sample()
    first["precpu_stats"] = {"cpu_usage": {"total_usage": 0}}
    assert not complete(first) and complete(sample())
    assert usage_of(first, CONTAINER).cpu_percent == 0.0


def test_working_set_never_goes_below_zero():
    assert working_set({"usage": 10, "stats": {"total_inactive_file": 30}}) == 10
    assert working_set({}) == 0


def test_inspect_gives_limits_restarts_and_the_last_oom_kill():
    data = {"Id": "abc", "Name": "/env-hog-1", "RestartCount": 2,
            "Config": {"Labels": {"com.docker.compose.service": "hog"}},
            "HostConfig": {"Memory": 64 * MIB, "NanoCpus": 0, "CpuQuota": 50_000, "CpuPeriod": 100_000},
            "State": {"Status": "exited", "OOMKilled": True}}
    found = Container.from_inspect(data)
    assert (found.service, found.name, found.memory_limit_bytes, found.cpu_limit) == ("hog", "env-hog-1", 64 * MIB, 0.5)
    gone = stopped(found)
    assert (gone.status, gone.oom_kills, gone.restarts, gone.memory_bytes) == ("exited", 1, 2, 0)
    assert Container.from_inspect({**data, "HostConfig": {"NanoCpus": 1_500_000_000}}).cpu_limit == 1.5


def test_sums_per_service_and_environment_keep_a_limit_only_where_every_part_has_one():
    a = Usage("web", "web-1", 1.0, cpu_percent=10, memory_bytes=100, memory_limit_bytes=1000, cpu_limit=1, oom_kills=1)
    b = Usage("web", "web-2", 2.0, cpu_percent=20, memory_bytes=50, memory_limit_bytes=1000, cpu_limit=1)
    c = Usage("db", "db-1", 1.5, cpu_percent=5, memory_bytes=300, extra={"connections": 4})
    rows = by_service([a, c, b])
    assert [r.service for r in rows] == ["db", "web"] and rows[0] is c
    web = rows[1]
    assert (web.instance, web.cpu_percent, web.memory_bytes, web.memory_limit_bytes, web.oom_kills, web.time) == \
        ("2 instances", 30, 150, 2000, 1, 2.0)
    whole = total(rows, service="total")
    assert (whole.memory_bytes, whole.memory_limit_bytes, whole.cpu_limit) == (450, 0, 0.0)  # db has no limit
    assert whole.extra == {"connections": 4}
    assert json.dumps(whole.as_dict())  # JSON as it is


def test_sparkline_is_scaled_to_the_limit_and_sizes_read_as_docker_writes_them():
    assert sparkline([0, 50, 100], 100) == "▁▅█"
    assert sparkline([10, 20], 0) == "▅█"  # no limit: against the peak
    assert sparkline([], 100) == ""
    assert (size(512 * MIB), size(1.25 * 1024 * MIB), size(1536), size(12)) == ("512MiB", "1.25GiB", "1.5KiB", "12B")


def round_of(t: float, memory: int, cpu: float = 10.0, **more) -> list[Usage]:
    return [Usage("db", "db-1", t, cpu_percent=cpu, memory_bytes=memory, memory_limit_bytes=512 * MIB, **more)]


def test_a_record_keeps_peaks_and_counters_and_thins_its_series(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_POINTS", 8)
    record = records.RunRecord("p", "env", "compose", started=1000.0, ended=1000.0)
    for second in range(20):
        record.add(round_of(1000.0 + second, (10 + second) * MIB, oom_kills=1 if second > 5 else 0))
    series = record.services["db"]
    assert len(series.points) <= 8 and series.step >= 2  # neighbours merged, the step doubled
    assert series.peak_memory_bytes == 29 * MIB and series.memory_values()[-1] <= 29 * MIB
    assert series.oom_kills == 1 and series.memory_limit_bytes == 512 * MIB
    assert record.seconds == 19
    path = record.save(tmp_path / "p" / "run.json")
    loaded = records.load(path)
    assert loaded.services["db"].points == series.points and loaded.seconds == 19 and loaded.path == path


def test_bad_records_are_named_and_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRA_STACK_STATE_DIR", str(tmp_path))
    good = records.RunRecord("p", "env", "compose", started=1.0, ended=2.0)
    good.add(round_of(2.0, MIB))
    good.save()
    folder = records.runs_dir() / "p"
    (folder / "broken.json").write_text("{not json")
    (folder / "foreign.json").write_text(json.dumps({"format": "someone-else/2"}))
    (folder / "partial.json").write_text(json.dumps({"format": records.FORMAT, "profile": "p"}))
    found, skipped = records.list_runs("p")
    assert [r.environment for r in found] == ["env"]
    reasons = {path.name: reason for path, reason in skipped}
    assert "not JSON" in reasons["broken.json"]
    assert "not a run record of netra-stack" in reasons["foreign.json"]
    assert "missing or malformed field" in reasons["partial.json"]


def test_old_records_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRA_STACK_STATE_DIR", str(tmp_path))
    monkeypatch.setenv(records.MAX_AGE_VAR, "1")
    old, new = (records.RunRecord("p", name, "compose", started=t, ended=t) for name, t in (("old", 1.0), ("new", 2.0)))
    for record in (old, new):
        record.add(round_of(record.started, MIB))
        record.save()
    two_days_ago = time.time() - 2 * 86400
    os.utime(old.path, (two_days_ago, two_days_ago))
    assert records.prune() == [old.path]
    assert [r.environment for r in records.list_runs("p")[0]] == ["new"]
