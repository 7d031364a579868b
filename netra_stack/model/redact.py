"""Secrets never reach a report or a log line, and masking never changes a text's structure.

Masked: the value of a secret-named key (`KEY: value`, `KEY=value`, `"KEY": "value"`), on its
own line only and keeping its quoting, so that masked YAML is still the same YAML; passwords in
URLs; and the known secret values of a profile wherever they appear. Left as they are: keys,
list items, blocks that follow a key, `*_FILE` values and paths (they name where a secret is,
not what it is)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"
SECRET_NAME = re.compile(r"pass(word)?|secret|token|credential|api_?key|private_?key", re.IGNORECASE)

# A secret-named key where a key can begin (a line, a word, a flow or JSON item), then `=` or
# `: ` (YAML needs the space, JSON's quoted keys do not) and a value on the same line.
_KEY = re.compile(
    r"(?<![^\s{\[,(\"'])(?P<quote>[\"']?)(?P<key>[\w.-]*(?:" + SECRET_NAME.pattern + r")[\w.-]*)(?P=quote)"
    r"(?:(?P<assign>[ \t]*=[ \t]*)|(?P<colon>:[ \t]+|(?<=[\"']):[ \t]*))(?=\S)",
    re.IGNORECASE,
)
_FILE_KEY = re.compile(r"_file$", re.IGNORECASE)  # POSTGRES_PASSWORD_FILE: where the secret is
_QUOTED = {'"': re.compile(r'"(?:[^"\\]|\\.)*"'), "'": re.compile(r"'(?:[^']|'')*'")}
_WORD = re.compile(r"(?:\$\{[^}\s]*\}|[^\s,;'\"}\]])+")  # an env-style value ends at a space or a separator
_BLOCK_SCALAR = re.compile(r"[|>][-+0-9]*[ \t]*(?:#.*)?$")
_PATH = re.compile(r"(?:~|\.{1,2})?/\S*")
# `$DB_PASSWORD`, `${DB_PASSWORD}`, `$(cat FILE)` (with compose's `$$` escape) name a secret, are none
_REFERENCE = re.compile(r"\$\$?(?:\{[A-Za-z_]\w*\}|[A-Z_][A-Z0-9_]*|\(.*)")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s/]+)(?=@)", re.IGNORECASE)
# A mask that begins a plain YAML value would read as an alias (`- ***`): such a value is quoted.
_LEADING_MASK = re.compile(
    r"^(?P<lead>[ \t]*(?:-[ \t]+)+|[ \t]*(?:-[ \t]+)*[^\s'\"#:-][^:]*:[ \t]+)"
    r"(?P<value>" + re.escape(MASK) + r".*?)(?P<tail>[ \t]+#.*)?$"
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # line by line, so a multi-line secret is masked where it is printed indented; longest
        # first, so a secret containing another is masked whole
        parts = {line.strip() for secret in secrets for line in secret.splitlines()}
        self.secrets = sorted({p for p in parts if len(p) >= 4}, key=len, reverse=True)

    @classmethod
    def for_profile(cls, profile, environ: Mapping[str, str]) -> Redactor:
        return cls.of_tables(profile.env, environ, *(s.environment for s in profile.services.values()))

    @classmethod
    def of_tables(cls, *tables: Mapping[str, str]) -> Redactor:
        """The values of the variables whose names say they are secret."""
        return cls(value for table in tables for key, value in table.items() if SECRET_NAME.search(key))

    @classmethod
    def for_plan(cls, plan) -> Redactor:
        return cls.for_profile(plan.profile, plan.env)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        lines, block = [], None  # block: the column of a secret key whose block scalar follows
        for line in text.split("\n"):
            content = line.lstrip(" ")
            indent = len(line) - len(content)
            if block is not None and (not content.strip() or indent > block):
                lines.append(line[:indent] + MASK if content.strip() else line)
                continue
            line, block = _mask_values(_URL_PASSWORD.sub(lambda m: m["head"] + MASK, line))
            lines.append(_quote_leading_mask(line))
        return "\n".join(lines)


def _mask_values(line: str) -> tuple[str, int | None]:
    """The line with the value of each secret-named key masked, and the key's column if its
    value is a block scalar (`KEY: |`) whose lines follow."""
    out, pos, scan = [], 0, 0  # pos: copied to out up to here; scan: where to look for a key
    while found := _KEY.search(line, scan):
        quote, flow = _context(line[:found.start()])
        value = line[found.end():]
        if found["colon"] and not quote and _BLOCK_SCALAR.match(value):
            return "".join(out) + line[pos:], found.start()
        end, mask = (0, None) if _FILE_KEY.search(found["key"]) else \
            _masked(value, env_style=bool(found["assign"]), quote=quote, flow=flow)
        if mask is None:
            scan = found.end()  # nothing to mask here; a key may still follow (a flow mapping)
            continue
        out.append(line[pos:found.end()] + mask)
        pos = scan = found.end() + end
    return "".join(out) + line[pos:], None


def _masked(value: str, *, env_style: bool, quote: str | None, flow: bool) -> tuple[int, str | None]:
    """How far the value at the start of `value` goes, and its mask (None: keep it)."""
    if not quote and value[0] in _QUOTED and (quoted := _QUOTED[value[0]].match(value)):
        inner = quoted.group()[1:-1]
        return quoted.end(), None if _no_secret(inner) else value[0] + MASK + value[0]
    if env_style or quote:  # a value inside a string (a command line, a message) is one word
        word = _WORD.match(value)
        end = word.end() if word else 0
    elif value[0] in "{[":
        return 0, None  # a flow collection: its own keys are looked at
    else:  # a plain YAML value: the rest of the line, up to a comment or the end of its flow item
        stop = re.search(r"[ \t]#" + (r"|[,}\]]" if flow else ""), value)
        end = len(value[:stop.start() if stop else len(value)].rstrip())
    if _no_secret(value[:end]):
        return end, None
    # inside a quoted string, or after `=`, a bare mask is safe; as a plain YAML value it is an alias
    return end, MASK if quote or env_style else f"'{MASK}'"


def _no_secret(value: str) -> bool:
    """Empty, a path, or a variable reference: it says where a secret is, not what it is."""
    return not value or bool(_PATH.fullmatch(value) or _REFERENCE.fullmatch(value))


def _context(prefix: str) -> tuple[str | None, bool]:
    """Whether the text after `prefix` is inside a quoted string (which quote) and inside a flow
    collection or JSON object. Quotes open only where a value can begin, so `it's` opens none."""
    quote, depth, i = None, 0, 0
    while i < len(prefix):
        char = prefix[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                if quote == "'" and prefix.startswith("'", i + 1):
                    i += 1  # '' is a quote inside a single-quoted string
                else:
                    quote = None
        elif char in "'\"" and (i == 0 or prefix[i - 1] in " \t{[,:("):
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth = max(0, depth - 1)
        i += 1
    return quote, depth > 0


def _quote_leading_mask(line: str) -> str:
    found = _LEADING_MASK.match(line)
    if not found:
        return line
    value = found["value"].replace("'", "''")
    return f"{found['lead']}'{value}'{found['tail'] or ''}"
