"""`netra-stack advise` and `netra-stack runs` on hand-made run records, without Docker: the
table, the fit, the TOML, --write and its refusal, --plot, and the one-line errors and warnings."""

from __future__ import annotations

import json
import sys
import tomllib

import pytest
from click.testing import CliRunner
from conftest import MINIMAL

from netra_stack.cli.main import main
from netra_stack.metrics.records import record_path
from netra_stack.model.errors import ExitCode
from test_advise import record, series


@pytest.fixture
def cli(tmp_path):
    """cli(*args) -> click's result of `netra-stack ARGS`, with profile `p` (db limited to 2g)
    and its state directory under tmp_path; cli.environ, cli.profiles for the test's own files."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "p.toml").write_text(MINIMAL + '[services.db]\nmemory = "2g"\ncpus = 2.0\n')
    environ = {"NETRA_STACK_PROFILE_PATH": str(profiles), "NETRA_STACK_STATE_DIR": str(tmp_path / "state"),
               "NO_COLOR": "1"}

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env=environ, catch_exceptions=False)

    run.environ, run.profiles = environ, profiles
    return run


def save(cli, *records):
    for r in records:
        r.save(record_path(r.profile, r.environment, r.started, cli.environ))


def two_runs(cli):
    save(cli, record({"db": series(200, cpu=[10.0] * 20), "cache": series(100)}, memory_gib=8),
         record({"db": series(180), "cache": series(90, oom_kills=1, memory_limit_bytes=96 * 1024**2)},
                1_700_003_600, memory_gib=8))


@pytest.mark.usefixtures("no_engine")
def test_advise_prints_the_table_the_fit_and_the_toml(cli):
    two_runs(cli)
    result = cli("advise", "-p", "p")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("p: limits from 2 recorded runs (")
    assert lines[1].split() == ["service", "current", "memory", "peak", "recommended", "memory", "current", "cpus",
                                "sustained", "recommended", "cpus", "flags"]
    assert lines[2].split()[:7] == ["cache", "-", "100m", "160m", "-", "0.1", "0.25"]
    assert lines[2].endswith("OOM-killed in 1 of 2 runs")
    assert lines[3].split()[:7] == ["db", "2g", "200m", "256m", "2", "0.1", "0.25"]
    assert lines[3].endswith("memory limit 10x its peak; CPU limit 20x what it uses")
    assert "fits 3 environments of this profile on this machine before, 19 after" in lines
    toml = result.stdout[result.stdout.index("# for p.toml"):]
    assert tomllib.loads(toml) == {"services": {"cache": {"memory": "160m", "cpus": 0.25},
                                                "db": {"memory": "256m", "cpus": 0.25}}}
    assert result.stderr == ""


@pytest.mark.usefixtures("no_engine")
def test_advise_json(cli):
    two_runs(cli)
    found = json.loads(cli("advise", "-p", "p", "--json").stdout)
    assert found["profile"] == "p" and len(found["runs"]) == 2 and found["skipped"] == []
    db = next(r for r in found["recommendations"] if r["service"] == "db")
    assert (db["memory"], db["current_memory"], db["cpus"], db["runs"]) == ("256m", "2g", 0.25, 2)
    assert found["fits"] == {"machine_memory_bytes": 8 * 1024**3, "before": 3, "after": 19}
    assert found["written"] is None and "[services.db]" in found["toml"]


@pytest.mark.usefixtures("no_engine")
def test_advise_uses_the_last_n_runs(cli):
    save(cli, record({"db": series(1000)}), record({"db": series(100)}, 1_700_003_600))
    found = json.loads(cli("advise", "-p", "p", "--runs", "1", "--json").stdout)
    assert [r["memory"] for r in found["recommendations"]] == ["160m"]


@pytest.mark.usefixtures("no_engine")
def test_write_keeps_the_limits_in_the_layer_and_refuses_a_hand_edited_one(cli):
    two_runs(cli)
    layer = cli.profiles / "p.limits.toml"
    result = cli("advise", "-p", "p", "--write")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"wrote {layer}"
    assert json.loads(cli("advise", "-p", "p", "--json").stdout)["recommendations"][1]["current_memory"] == "256m"
    layer.write_text(layer.read_text().replace("256m", "300m"))
    refused = cli("advise", "-p", "p", "--write")
    assert refused.exit_code == ExitCode.USAGE and refused.stdout == ""
    assert refused.stderr.splitlines()[-1] == (f"error: {layer} was edited by hand since advise wrote it: not "
                                               "overwriting it (hint: pass --force to overwrite it)")
    assert cli("advise", "-p", "p", "--write", "--force").exit_code == 0
    assert "300m" not in layer.read_text()
    assert cli("advise", "-p", "p", "--force").exit_code == ExitCode.USAGE  # --force alone means nothing


@pytest.mark.usefixtures("no_engine")
def test_no_recorded_runs_is_one_line_saying_how_to_record_one(cli):
    result = cli("advise", "-p", "p")
    assert result.exit_code == ExitCode.NOT_FOUND == 4
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: no recorded runs of profile p (in ")
    assert line.endswith("(hint: record one with `netra-stack up --profile p --record` (then `down`), or run pytest "
                         "with --real-services)")


@pytest.mark.usefixtures("no_engine")
def test_corrupt_and_foreign_records_are_skipped_by_name(cli):
    two_runs(cli)
    folder = record_path("p", "x", 0, cli.environ).parent
    (folder / "broken.json").write_text('{"format": "netra-stack.run/1", ')
    (folder / "other.json").write_text('{"format": "something-else/2"}')
    result = cli("advise", "-p", "p")
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2 and "Traceback" not in result.output
    assert warnings[0].startswith(f"netra-stack: skipped {folder / 'broken.json'}: not JSON (")
    assert warnings[1] == (f"netra-stack: skipped {folder / 'other.json'}: not a run record of netra-stack "
                           "(format 'something-else/2', expected 'netra-stack.run/1')")
    assert "p: limits from 2 recorded runs" in result.stdout


@pytest.mark.usefixtures("no_engine")
def test_only_unreadable_records_still_say_how_to_record_one(cli):
    folder = record_path("p", "x", 0, cli.environ).parent
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("[]")
    result = cli("advise", "-p", "p")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert result.stderr.splitlines()[0].startswith(f"netra-stack: skipped {folder / 'broken.json'}: ")


@pytest.mark.parametrize(("name", "magic"), [("advice.png", b"\x89PNG\r\n\x1a\n"), ("advice.svg", b"<svg")])
def test_plot_draws_a_png_or_an_svg(cli, tmp_path, name, magic):
    two_runs(cli)
    target = tmp_path / name
    result = cli("advise", "-p", "p", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"plotted {target}"
    content = target.read_bytes()
    assert content.startswith(magic) if name.endswith(".png") else magic in content[:1000]


@pytest.mark.usefixtures("no_engine")
def test_plot_refuses_another_suffix_before_writing_anything(cli, tmp_path):
    two_runs(cli)
    result = cli("advise", "-p", "p", "--write", "--plot", str(tmp_path / "advice.pdf"))
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.splitlines()[-1].startswith(f"error: --plot {tmp_path / 'advice.pdf'}: unknown suffix '.pdf'")
    assert not (cli.profiles / "p.limits.toml").exists()


def test_plot_without_matplotlib_says_how_to_get_it(cli, tmp_path, monkeypatch):
    two_runs(cli)
    for module in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = cli("advise", "-p", "p", "--plot", str(tmp_path / "advice.png"))
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.splitlines()[-1] == ("error: advise --plot needs matplotlib (hint: pip install "
                                              "'netra-stack[plot]')")


@pytest.mark.usefixtures("no_engine")
def test_runs_lists_the_records_and_warns_of_unreadable_ones(cli):
    two_runs(cli)
    save(cli, record({"web": series(50)}, 1_700_001_000, profile="other"))
    (record_path("p", "x", 0, cli.environ).parent / "broken.json").write_text("nope")
    result = cli("runs")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["profile", "environment", "started", "duration", "services", "peak", "memory", "OOM",
                                "kills"]
    assert [line.split()[0] for line in lines[1:]] == ["p", "other", "p"]  # oldest first
    assert lines[3].split()[-3:] == ["2", "270m", "1"]
    assert result.stderr.startswith("netra-stack: skipped ") and "broken.json: not JSON" in result.stderr
    only = json.loads(cli("runs", "-p", "p", "--json").stdout)
    assert [r["profile"] for r in only] == ["p", "p"] and only[1]["oom_kills"] == 1
    assert only[0]["services"] == ["cache", "db"] and only[0]["peak_memory_bytes"] == 300 * 1024**2


@pytest.mark.usefixtures("no_engine")
def test_runs_without_records_says_how_to_record_one(cli):
    result = cli("runs", "-p", "p")
    assert result.exit_code == 0
    assert result.stdout.startswith("no recorded runs in ") and "netra-stack up --record" in result.stdout
