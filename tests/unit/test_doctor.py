"""`netra-stack doctor`'s checks of this machine that need no engine (netra_stack.lifecycle.doctor):
the state directory, the profile's port range, the exit code, and the table."""

from __future__ import annotations

import socket

from netra_stack.cli.views import doctor_view
from netra_stack.lifecycle.doctor import _ports, _state, exit_code
from netra_stack.model.findings import FAIL, OK, WARN, Finding
from netra_stack.model.profiles import Profile


def profile(**ports) -> Profile:
    return Profile.model_validate({"name": "p", "environment": "test", "compose_files": ["c.yml"], "ports": ports})


def free_pair() -> tuple[int, int]:
    """Two neighbouring ports below the ephemeral range that nobody holds now."""
    for low in range(29500, 29700, 2):
        if all(_bindable(port) for port in (low, low + 1)):
            return low, low + 1
    raise AssertionError("no two free neighbouring ports in 29500-29700")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_the_state_directory_is_written_or_named_with_the_variable_that_moves_it(tmp_path):
    assert _state({"NETRA_STACK_STATE_DIR": str(tmp_path / "state")}) == \
        Finding("state directory", OK, f"{tmp_path / 'state'} is writable")
    (tmp_path / "file").write_text("")
    found = _state({"NETRA_STACK_STATE_DIR": str(tmp_path / "file" / "state")})
    assert found.status == FAIL and str(tmp_path / "file" / "state") in found.detail
    assert "NETRA_STACK_STATE_DIR" in found.fix


def test_the_range_is_counted_and_fails_only_when_every_port_is_held():
    low, high = free_pair()
    assert _ports(profile(strategy="range", range=[low, high])).detail.startswith(f"2 of 2 host ports free in {low}-{high}")
    holders = []
    try:
        for port in (low, high):
            holders.append(socket.socket())
            holders[-1].bind(("127.0.0.1", port))
            holders[-1].listen()
        found = _ports(profile(strategy="range", range=[low, high]))
    finally:
        for holder in holders:
            holder.close()
    assert found.status == FAIL and found.detail.startswith("0 of 2") and "ports.range" in found.fix
    assert _ports(profile(strategy="ephemeral")).status == OK


def test_warnings_do_not_fail_and_the_table_has_a_row_per_check():
    findings = [Finding("engine", OK, "Docker Engine"), Finding("buildx", WARN, "absent", "install it")]
    assert exit_code(findings) == 0
    assert exit_code([*findings, Finding("ports", FAIL, "0 of 2", "widen")]) == 1
    view = doctor_view(findings)
    assert [row[0] for row in view.rows] == ["engine", "buildx"] and view.rows[1][3] == "install it"
