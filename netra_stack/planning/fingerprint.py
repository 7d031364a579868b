"""Build fingerprints: a hash of everything a service's build reads, so that an image labelled
with the same hash is known to be current and its build can be skipped.

A fingerprint covers the build context as .dockerignore lets it through (paths, file types,
modes, contents, symlink targets), the Dockerfile, the rest of the build section (args, target,
...), and the image id of every base image the Dockerfile names. It reads files only: the base
image ids come from a callback, so everything here is testable without an engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

SCHEME = "1"  # part of every fingerprint: bump it when what goes in changes
ImageResolver = Callable[[str], "str | None"]  # image reference -> local image id, or None


class NotFingerprintable(Exception):
    """The build reads something that cannot be hashed here (e.g. a remote context)."""


# --- .dockerignore ------------------------------------------------------------------------------


class IgnoreRules:
    """.dockerignore patterns with BuildKit's semantics (moby's patternmatcher): Go-style globs
    plus `**`, matched against the whole relative path; a pattern that matches a directory
    matches everything in it; `!` re-includes; the last matching pattern decides."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self.rules: list[tuple[bool, re.Pattern]] = []  # (is an exception, compiled pattern)
        for line in lines:
            if line.startswith("#"):
                continue
            pattern = line.strip()
            exception = pattern.startswith("!")
            pattern = pattern[1:].strip() if exception else pattern
            if not pattern:
                continue
            pattern = posixpath.normpath(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern.lstrip("/")
            self.rules.append((exception, _compile(pattern)))

    @classmethod
    def for_build(cls, context: Path, dockerfile: Path | None) -> IgnoreRules:
        """The rules BuildKit uses: `<Dockerfile>.dockerignore` if it exists, else the context's."""
        candidates = [Path(f"{dockerfile}.dockerignore")] if dockerfile else []
        for path in [*candidates, context / ".dockerignore"]:
            if path.is_file():
                return cls(path.read_text(encoding="utf-8-sig").splitlines())
        return cls()

    @property
    def has_exceptions(self) -> bool:
        return any(exception for exception, _ in self.rules)

    def excludes(self, path: str) -> bool:
        """Whether a path (relative to the context, `/`-separated) is left out of the context."""
        parents = path.split("/")[:-1]
        excluded = False
        for exception, pattern in self.rules:
            if exception != excluded:  # only a rule that could change the verdict is evaluated
                continue
            matched = pattern.match(path) is not None or any(
                pattern.match("/".join(parents[: i + 1])) for i in range(len(parents)))
            if matched:
                excluded = not exception
        return excluded


def _compile(pattern: str) -> re.Pattern:
    """A glob as moby compiles it: `*` and `?` stop at `/`, `**` crosses directories."""
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    i += 1
                out += ".*" if i >= len(pattern) else "(.*/)?"
                continue
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif ch == "[":  # a character class passes through; Go spells negation [^...]
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                out += pattern[i:end + 1]
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$", re.S)


# --- the context ---------------------------------------------------------------------------------


def context_entries(context: Path, rules: IgnoreRules) -> Iterator[tuple[str, os.stat_result]]:
    """Every path of the context that the build receives, sorted: (relative path, lstat)."""

    directories: dict[str, os.stat_result] = {}  # every directory walked into
    sent: set[str] = set()  # the directories yielded so far

    def walk(folder: Path, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda e: e.name)
        for entry in entries:
            relative = prefix + entry.name
            info = entry.stat(follow_symlinks=False)
            is_dir = stat.S_ISDIR(info.st_mode)
            excluded = rules.excludes(relative)
            if not excluded:
                # An exception inside an excluded directory brings that directory along, as in BuildKit.
                parts = relative.split("/")
                for parent in ("/".join(parts[:i]) for i in range(1, len(parts))):
                    if parent not in sent:
                        sent.add(parent)
                        yield parent, directories[parent]
                if is_dir:
                    sent.add(relative)
                yield relative, info
            # Inside an excluded directory only an exception can bring something back.
            if is_dir and (not excluded or rules.has_exceptions):
                directories[relative] = info
                yield from walk(Path(entry.path), relative + "/")

    yield from walk(context, "")


def _digest_file(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def hash_context(context: Path, rules: IgnoreRules) -> str:
    """One hash of what the context sends: path, type, mode, and content or link target."""
    total = hashlib.sha256()
    for relative, info in context_entries(context, rules):
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISREG(info.st_mode):
            what = "f " + _digest_file(context / relative)
        elif stat.S_ISLNK(info.st_mode):
            what = "l " + os.readlink(context / relative)
        elif stat.S_ISDIR(info.st_mode):
            what = "d"
        else:
            continue  # sockets, fifos, devices: the build skips them too
        total.update(f"{relative}\0{mode:o}\0{what}\n".encode("utf-8", "surrogateescape"))
    return total.hexdigest()


# --- the Dockerfile ------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?[-+](?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


def base_images(dockerfile: str, args: Mapping[str, str | None]) -> list[str]:
    """The images a Dockerfile builds on (FROM and COPY --from), with ARGs substituted; build
    stages, stage numbers and `scratch` left out."""
    values: dict[str, str] = {}
    stages: set[str] = set()
    found: list[str] = []
    seen_from = False

    def substitute(text: str) -> str:
        def one(match: re.Match) -> str:
            name = match.group("braced") or match.group("bare")
            value = values.get(name)
            return value if value else (match.group("default") or "")

        return _VARIABLE.sub(one, text)

    def add(reference: str) -> None:
        reference = substitute(reference)
        if reference and reference.lower() != "scratch" and reference not in stages and not reference.isdigit():
            found.append(reference)

    for line in _instructions(dockerfile):
        words = line.split()
        keyword = words[0].upper()
        if keyword == "ARG" and not seen_from:  # global ARGs: what FROM lines may use
            for word in words[1:]:
                name, _, default = word.partition("=")
                given = args.get(name)
                values[name] = given if given is not None else default.strip("\"'")
        elif keyword == "FROM":
            seen_from = True
            rest = [w for w in words[1:] if not w.startswith("--")]
            if rest:
                add(rest[0])
            if len(rest) >= 3 and rest[1].lower() == "as":
                stages.add(rest[2])
        elif keyword == "COPY":
            for word in words[1:]:
                if word.startswith("--from="):
                    add(word.split("=", 1)[1])
    return found


def _instructions(dockerfile: str) -> Iterator[str]:
    """Dockerfile instructions, one per item: comments dropped, continuation lines joined."""
    pending = ""
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # blank lines and comments, within a continued instruction too
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending.strip():
        yield pending


# --- the fingerprint -----------------------------------------------------------------------------


def _is_remote(context: str) -> bool:
    return "://" in context or context.startswith("git@") or context.endswith(".git")


def fingerprint(build: Mapping[str, Any], resolve_image: ImageResolver) -> str:
    """The fingerprint of one service's build section (as `docker compose config` resolves it:
    absolute context). Raises NotFingerprintable for builds that read what cannot be hashed."""
    context_text = str(build.get("context", "."))
    if _is_remote(context_text):
        raise NotFingerprintable(f"the build context {context_text} is remote")
    context = Path(context_text)
    if not context.is_dir():
        raise NotFingerprintable(f"the build context {context} is not a directory")
    if build.get("dockerfile_inline"):
        dockerfile_path, dockerfile = None, str(build["dockerfile_inline"])
    else:
        dockerfile_path = context / build.get("dockerfile", "Dockerfile")
        try:
            dockerfile = dockerfile_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise NotFingerprintable(f"cannot read {dockerfile_path}: {exc.strerror}") from None
    args = {k: (None if v is None else str(v)) for k, v in (build.get("args") or {}).items()}
    extra_contexts = {}
    for name, where in (build.get("additional_contexts") or {}).items():
        where = str(where)
        local = not _is_remote(where) and ":" not in where.split("/")[0] and Path(where).is_dir()
        extra_contexts[name] = hash_context(Path(where), IgnoreRules.for_build(Path(where), None)) if local else where
    rest = {k: v for k, v in build.items() if k not in ("context", "dockerfile", "dockerfile_inline", "additional_contexts")}
    payload = {
        "scheme": SCHEME,
        "build": rest,
        "dockerfile": hashlib.sha256(dockerfile.encode()).hexdigest(),
        "bases": {ref: resolve_image(ref) for ref in base_images(dockerfile, args)},
        "context": hash_context(context, IgnoreRules.for_build(context, dockerfile_path)),
        "additional_contexts": extra_contexts,
    }
    return "sha256:" + hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
