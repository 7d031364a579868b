"""Secrets never reach a report or a log line: values of secret-looking keys and passwords in URLs
are replaced by ***."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"
SECRET_NAME = re.compile(r"pass(word)?|secret|token|credential|api_?key|private_?key", re.IGNORECASE)
# KEY: value (YAML) or KEY=value (env) where KEY looks secret
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z0-9_.-]*(?:pass(?:word)?|secret|token|credential|api_?key|private_?key)[A-Za-z0-9_]*)"
    r"(?P<sep>\"?\s*[:=]\s*)(?P<value>[^\s,'\"}]+|\"[^\"]*\"|'[^']*')",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<password>[^@\s]+)(?=@)", re.IGNORECASE)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so a secret containing another is masked whole
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    @classmethod
    def for_profile(cls, profile, environ: Mapping[str, str]) -> Redactor:
        tables = [profile.env, environ, *(s.environment for s in profile.services.values())]
        return cls(value for table in tables for key, value in table.items() if SECRET_NAME.search(key))

    @classmethod
    def for_plan(cls, plan) -> Redactor:
        return cls.for_profile(plan.profile, plan.env)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
        return _ASSIGNMENT.sub(lambda m: m.group("key") + m.group("sep") + MASK, text)
