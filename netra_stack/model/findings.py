"""What `netra-stack doctor` found about one part of the set-up: whether it is fine, what was seen,
and how to fix it where it is not. Backends report their orchestrator's part in these terms."""

from __future__ import annotations

from dataclasses import asdict, dataclass

OK, WARN, FAIL = "ok", "warn", "fail"  # warn: works, with less than it could; fail: netra-stack cannot work


@dataclass(frozen=True)
class Finding:
    check: str  # what was looked at: "engine", "compose", "memory limits", ...
    status: str  # OK, WARN or FAIL
    detail: str  # what was seen, in one line
    fix: str = ""  # what to do about it (WARN, FAIL)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
