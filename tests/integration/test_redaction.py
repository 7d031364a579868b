"""Redaction on the real engine (tests/fixtures/redaction): `config`, `logs` and failure reports
keep their structure, show every key, list item, `*_FILE` value and path, and no secret.
Each test is named after a defect of the regex that ran across line ends (issue 14, item 5)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest
import yaml

from netra_stack.model.errors import ExitCode
from netra_stack.model.redact import MASK

from ..conftest import REPO
from .conftest import run_cli

PROFILES = REPO / "tests" / "fixtures" / "redaction" / "profiles"
# the values profiles/redaction.toml, compose.yml and secrets/ hold: none may be shown
SECRETS = ["pr0file-db-pw", "tok-r3daction-1234", "app-s3cret-value", "compose-only s3cret", "file-s3cret-pw"]
# the values `config` masks: every other one is shown as it is
MASKED = {"services.app.environment.API_TOKEN", "services.app.environment.APP_SECRET",
          "services.app.environment.DATABASE_URL", "services.app.environment.DB_PASSWORD",
          "services.app.environment.SESSION_SECRET", "services.worker.command[4]"}


def _environ() -> dict[str, str]:
    """This process's environment, pointed at the fixture; the fixture's own variables removed
    (compose's process environment would win over the profile's values)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COMPOSE_PROJECT_NAME", "DB_PASSWORD", "REDACTION_API_TOKEN")}
    return dict(env, NETRA_STACK_PROFILE_PATH=str(PROFILES))


def _config(*options: str) -> str:
    result = run_cli("config", "--profile", "redaction", *options, env=_environ())
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def configs() -> tuple[str, str]:
    """`config` as shown (masked) and with --reveal-secrets; the preview's environment name,
    which need not be the same in two runs, replaced by one placeholder."""
    texts = _config(), _config("--reveal-secrets")
    return tuple(text.replace(re.search(r"^name: (\S+)$", text, re.MULTILINE)[1], "ENV") for text in texts)


def _lines(text: str) -> list[str]:
    """The lines of YAML text that are not comments (a preview says so in a comment first)."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def _masked_paths(revealed, masked, path: str = "") -> set[str]:
    """Where `masked` differs from `revealed`; fails unless the two have the same structure and
    each difference is a part of a value replaced by the mask."""
    if isinstance(revealed, dict):
        assert isinstance(masked, dict) and list(masked) == list(revealed), f"{path or 'top'}: keys changed"
        return {p for key in revealed for p in _masked_paths(revealed[key], masked[key], f"{path}.{key}".lstrip("."))}
    if isinstance(revealed, list):
        assert isinstance(masked, list) and len(masked) == len(revealed), f"{path}: items changed"
        return {p for i, (r, m) in enumerate(zip(revealed, masked)) for p in _masked_paths(r, m, f"{path}[{i}]")}
    if masked == revealed:
        return set()
    assert isinstance(masked, str) and MASK in masked, f"{path}: {revealed!r} became {masked!r}"
    around = "(.+?)".join(re.escape(part) for part in masked.split(MASK))
    assert re.fullmatch(around, str(revealed), re.DOTALL), f"{path}: {masked!r} is not {revealed!r} masked"
    return {path}


def test_masked_config_is_yaml_with_the_same_structure_and_lines(configs):
    masked, revealed = configs
    assert _masked_paths(yaml.safe_load(revealed), yaml.safe_load(masked)) == MASKED
    assert len(_lines(masked)) == len(_lines(revealed))


def test_masked_config_is_accepted_by_compose(configs, tmp_path):
    masked, _ = configs
    (tmp_path / "compose.yml").write_text(masked)
    checked = subprocess.run(["docker", "compose", "-f", str(tmp_path / "compose.yml"), "config", "--format", "json"],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["services"]["app"]["environment"]["DB_PASSWORD"] == MASK


def test_masked_config_shows_no_secret(configs):
    masked, revealed = configs
    for secret in SECRETS[:-1]:  # the file secret's content is never in the configuration
        assert secret in revealed, f"the fixture no longer uses {secret!r}"
        assert secret not in masked


def _kept(lines: list[str], configs: tuple[str, str]) -> None:
    """Each of these lines of the revealed configuration is in the masked one as it is."""
    masked, revealed = (_lines(text) for text in configs)
    for line in lines:
        assert line in revealed, f"the fixture no longer has {line!r}"
        assert line in masked


def test_secrets_list_keeps_its_items(configs):
    """Was: `secrets:\n  - source: db-password` became `*** source: db-password`."""
    _kept(["    secrets:", "      - source: db-password", "        target: /run/secrets/db-password",
           "      - source: api-token", "        target: /run/secrets/token"], configs)
    assert yaml.safe_load(configs[0])["services"]["app"]["secrets"][0] == {
        "source": "db-password", "target": "/run/secrets/db-password"}


def test_top_level_secret_keys_keep_their_blocks(configs):
    """Was: a top-level `db-password:` key, whose value is a block, became `***`."""
    secrets = REPO / "tests" / "fixtures" / "redaction" / "secrets"
    _kept(["secrets:", "  api-token:", f"    file: {secrets / 'api-token.txt'}",
           "  db-password:", f"    file: {secrets / 'db-password.txt'}"], configs)
    assert sorted(yaml.safe_load(configs[0])["secrets"]) == ["api-token", "db-password"]


def test_file_variables_stay_visible(configs):
    """Was: `POSTGRES_PASSWORD_FILE: /run/secrets/db-password` was masked, though a path is no secret."""
    _kept(["      POSTGRES_PASSWORD_FILE: /run/secrets/db-password"], configs)


def test_logs_are_masked_line_by_line():
    """`netra-stack logs` of a running environment whose service prints its secrets."""
    env = _environ()
    up = run_cli("up", "--profile", "redaction", "--json", env=env)
    assert up.returncode == 0, up.stderr
    name = json.loads(up.stdout)["environment"]
    deadline, lines = time.monotonic() + 30, []
    while not any(line.endswith("| ready") for line in lines) and time.monotonic() < deadline:
        logs = run_cli("logs", "--profile", "redaction", "--name", name, "--services", "app", env=env)
        assert logs.returncode == 0, logs.stderr
        lines = logs.stdout.splitlines()
        time.sleep(0.2)
    assert [line.split("| ", 1)[1] for line in lines] == [
        "connecting with password: '***'", "API_TOKEN=***", "file secret: '***'",
        "password_file: /run/secrets/db-password", "tokens:", "  - ci", "ready"]
    for secret in SECRETS:
        assert secret not in logs.stdout


def test_failure_report_logs_are_masked_line_by_line():
    """A service that prints its password and exits 3: `up` fails, and its report's log lines are
    masked, one for each line the service printed."""
    failed = run_cli("up", "--profile", "redaction-fails", env=_environ())
    assert failed.returncode == ExitCode.NOT_HEALTHY, failed.stderr
    report = failed.stdout + failed.stderr
    block = report.split("--- loader:", 1)[1].split("last log lines:\n", 1)[1]
    printed = []
    for line in block.splitlines():  # the report indents each log line by six spaces
        if not line.startswith(" " * 6):
            break
        printed.append(line.strip())
    assert printed == ["loading fixtures", "login failed, password: '***'",
                       "DATABASE_URL=postgresql://app:***@db/app", "API_TOKEN_FILE=/run/secrets/token",
                       "secrets:", "- db-password"]
    for secret in SECRETS:
        assert secret not in report
