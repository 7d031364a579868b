"""advise's rules, pure: memory from the peaks with headroom on the ladder, OOM kills and throttling
as floors, CPU from the 95th percentile, the over-provisioned flags, what fits on the machine, the
TOML, and the netra_adjust_recommendation hook adjusting or vetoing."""

from __future__ import annotations

import tomllib
import types
from dataclasses import replace

import pytest
from conftest import MINIMAL

from netra_stack import hookimpl
from netra_stack.metrics.advise import (
    LADDER,
    as_toml,
    fits,
    format_size,
    ladder_size,
    limits_table,
    percentile,
    recommend,
)
from netra_stack.metrics.records import RunRecord, ServiceSeries
from netra_stack.model.errors import PluginError
from netra_stack.model.profiles import parse_size
from netra_stack.plugins.registry import Plugins

MiB, GiB = 1024**2, 1024**3


def series(peak_mib: float = 100, cpu: list[float] | None = None, **fields) -> ServiceSeries:
    """A service's series: `cpu` in % of a core, one point a second, memory at the peak."""
    values = [10.0] * 20 if cpu is None else cpu
    peak = int(peak_mib * MiB)
    return ServiceSeries(peak_memory_bytes=peak, points=[(float(t), c, peak) for t, c in enumerate(values)], **fields)


def record(services: dict[str, ServiceSeries], started: float = 1_700_000_000.0, *, profile: str = "p",
           memory_gib: float = 8, environment: str | None = None) -> RunRecord:
    return RunRecord(profile=profile, environment=environment or f"{profile}-{int(started)}", backend="compose",
                     started=started, ended=started + 60, machine={"cpus": 4, "memory_bytes": int(memory_gib * GiB)},
                     services=services)


def one(runs, profile, service="db", **options):
    return next(r for r in recommend(runs, profile, **options) if r.service == service)


@pytest.mark.parametrize(("needed", "step"), [(1, "64m"), (64 * MiB, "64m"), (64 * MiB + 1, "96m"), (300 * MiB, "320m"),
                                              (900 * MiB, "1g"), (1100 * MiB, "1.25g"), (2 * GiB, "2g"),
                                              (2 * GiB + 1, "2.5g"), (3 * GiB, "3g"), (int(3.2 * GiB), "3.5g")])
def test_the_ladder_rounds_up_to_a_sensible_size(needed, step):
    assert format_size(ladder_size(needed)) == step


def test_every_ladder_step_is_spelled_as_a_profile_reads_it_back():
    for step in (*LADDER, int(2.5 * GiB), 3 * GiB):
        assert parse_size(format_size(step)) == step
    assert format_size(int(117.7 * MiB)) == "117.7m" and format_size(1536) == "1.5k"


def test_memory_is_the_highest_peak_with_a_quarter_headroom(load):
    profile = load(MINIMAL)
    runs = [record({"db": series(150)}), record({"db": series(200)}, 1_700_003_600)]
    found = one(runs, profile)
    assert found.peak_memory_bytes == 200 * MiB
    assert format_size(found.memory_bytes) == "256m"  # 250m on the ladder
    assert found.runs == 2 and found.flags == ()


def test_a_small_service_gets_at_least_32_mib_over_its_peak(load):
    found = one([record({"db": series(50)})], load(MINIMAL))
    assert format_size(found.memory_bytes) == "96m"  # 82m, not 62.5m


def test_an_oom_kill_makes_the_peak_a_floor_at_one_and_a_half_times_the_limit(load):
    runs = [record({"db": series(100)}),
            record({"db": series(250, memory_limit_bytes=256 * MiB, oom_kills=1)}, 1_700_003_600)]
    found = one(runs, load(MINIMAL))
    assert format_size(found.memory_bytes) == "384m"  # 1.5 x 256m, not 1.25 x 250m
    assert "OOM-killed in 1 of 2 runs" in found.flags


def test_an_oom_kill_without_a_limit_of_its_own_floors_at_one_and_a_half_times_its_peak(load):
    found = one([record({"db": series(400, oom_kills=2)})], load(MINIMAL))
    assert format_size(found.memory_bytes) == "640m"


def test_cpu_is_the_95th_percentile_with_half_again_on_quarter_cores(load):
    found = one([record({"db": series(cpu=[float(c) for c in range(100)])})], load(MINIMAL))
    assert found.sustained_cpus == 0.94
    assert found.cpus == 1.5  # 1.41 rounded up


def test_an_idle_service_still_gets_a_quarter_core(load):
    found = one([record({"db": series(cpu=[0.0] * 10)})], load(MINIMAL))
    assert (found.sustained_cpus, found.cpus) == (0.0, 0.25)


def test_throttling_floors_cpu_at_one_and_a_half_times_the_limit(load):
    runs = [record({"db": series(cpu=[20.0] * 10, cpu_limit=0.5, throttled_periods=40)}),
            record({"db": series(cpu=[20.0] * 10, cpu_limit=0.5)}, 1_700_003_600)]
    found = one(runs, load(MINIMAL))
    assert found.cpus == 0.75
    assert "throttled in 1 of 2 runs" in found.flags


def test_over_provisioned_limits_are_flagged(load):
    profile = load(MINIMAL + '[services.db]\nmemory = "2g"\ncpus = 2.0\n')
    found = one([record({"db": series(200, cpu=[10.0] * 20)})], profile)
    assert found.flags == ("memory limit 10x its peak", "CPU limit 20x what it uses")
    assert (found.current_memory_bytes, found.current_cpus) == (2 * GiB, 2.0)


def test_a_generous_limit_of_little_absolute_slack_is_not_flagged(load):
    profile = load(MINIMAL + '[services.db]\nmemory = "64m"\ncpus = 0.5\n')
    found = one([record({"db": series(10, cpu=[10.0] * 20)})], profile)  # 6.4x and 5x, but 54m and 0.4 cores
    assert found.flags == ()


def test_current_limits_are_the_profiles_not_those_recorded(load):
    found = one([record({"db": series(100, memory_limit_bytes=GiB, cpu_limit=1.0)})], load(MINIMAL))
    assert (found.current_memory_bytes, found.current_cpus) == (None, None)


def test_only_recorded_services_are_advised_and_each_counts_its_own_runs(load):
    profile = load(MINIMAL + '[services.unrecorded]\nmemory = "1g"\n')
    runs = [record({"db": series(), "cache": series()}), record({"db": series()}, 1_700_003_600)]
    found = {r.service: r.runs for r in recommend(runs, profile)}
    assert found == {"cache": 1, "db": 2}


def test_nothing_measured_is_no_recommendation(load):
    found = one([record({"db": ServiceSeries()})], load(MINIMAL))
    assert (found.memory_bytes, found.cpus) == (None, None)
    assert limits_table([found]) == {}


def test_percentile_is_the_nearest_rank():
    assert percentile([], 95) == 0.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([float(v) for v in range(1, 21)], 95) == 19.0


def test_fits_counts_environments_by_memory_before_and_after(load):
    profile = load(MINIMAL + '[services.db]\nmemory = "2g"\n')
    runs = [record({"db": series(200), "cache": series(56)}, memory_gib=8)]
    recommendations = recommend(runs, profile)
    # before: 2g (its limit) + 56m (no limit: its peak); after: 256m + 96m
    assert fits(runs, recommendations, profile) == (8 * GiB // (2 * GiB + 56 * MiB), 8 * GiB // (352 * MiB))


def test_fits_keeps_a_vetoed_services_current_limit(load):
    profile = load(MINIMAL + '[services.db]\nmemory = "2g"\n')
    runs = [record({"db": series(200)}, memory_gib=8)]
    (vetoed,) = [replace(r, vetoed="pinned") for r in recommend(runs, profile)]
    assert fits(runs, [vetoed], profile) == (4, 4)


def test_fits_judges_by_the_newest_runs_machine_and_is_zero_without_one(load):
    profile = load(MINIMAL)
    older, newer = record({"db": series(1024)}, memory_gib=2), record({"db": series(1024)}, 1_700_003_600, memory_gib=16)
    assert fits([older, newer], recommend([older, newer], profile), profile)[0] == 16
    unknown = replace(newer, machine={})
    assert fits([unknown], recommend([unknown], profile), profile) == (0, 0)


def test_the_toml_holds_the_limits_as_a_profile_spells_them_without_vetoed_ones(load):
    runs = [record({"db": series(300, cpu=[30.0] * 20), "cache": series(20)})]
    recommendations = recommend(runs, load(MINIMAL))
    assert tomllib.loads(as_toml(recommendations)) == {
        "services": {"cache": {"memory": "64m", "cpus": 0.25}, "db": {"memory": "384m", "cpus": 0.5}}}
    vetoed = [replace(r, vetoed="no") if r.service == "db" else r for r in recommendations]
    assert set(tomllib.loads(as_toml(vetoed))["services"]) == {"cache"}
    assert as_toml([replace(r, vetoed="no") for r in recommendations]) == ""


def _plugin(adjust) -> types.ModuleType:
    found = types.ModuleType("advisor")
    adjust.__name__ = "netra_adjust_recommendation"
    found.netra_adjust_recommendation = hookimpl(adjust)
    return found


def test_a_plugin_adjusts_one_service_and_vetoes_another(load):
    profile = load(MINIMAL + '[services.cache]\nmemory = "1g"\n')
    plugins = Plugins(profile)
    seen = []

    def adjust(recommendation, runs, profile):
        seen.append((recommendation.service, len(runs), profile.name))
        if recommendation.service == "db":
            return replace(recommendation, memory_bytes=GiB, flags=(*recommendation.flags, "sized for the nightly load"))
        if recommendation.service == "cache":
            return replace(recommendation, vetoed="the cache must hold the whole data set")
        return None

    plugins.manager.register(_plugin(adjust), "advisor")
    runs = [record({"db": series(200), "cache": series(100), "web": series(50)})]
    found = {r.service: r for r in recommend(runs, profile, plugins=plugins)}
    assert sorted(seen) == [("cache", 1, "p"), ("db", 1, "p"), ("web", 1, "p")]
    assert found["db"].memory_bytes == GiB and "sized for the nightly load" in found["db"].flags
    assert found["cache"].vetoed and found["web"].memory_bytes == 96 * MiB  # None: left as it was
    assert set(tomllib.loads(as_toml(list(found.values())))["services"]) == {"db", "web"}


def test_a_plugin_answering_for_another_service_is_named(load):
    profile = load(MINIMAL)
    plugins = Plugins(profile)
    plugins.manager.register(_plugin(lambda recommendation: replace(recommendation, service="other")), "confused")
    with pytest.raises(PluginError, match="plugin 'confused': netra_adjust_recommendation returned a recommendation "
                                          "for 'other' when asked about 'db'"):
        recommend([record({"db": series()})], profile, plugins=plugins)
