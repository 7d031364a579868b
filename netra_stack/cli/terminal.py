"""All terminal output, through one object per command line: results to stdout, progress and
diagnostics to stderr, JSON on request. A view is computed once as rows (a `View`) and drawn
either by rich, for a terminal, or as plain aligned lines (pipes, CI logs, NO_COLOR).
rich is imported only for a terminal: plain output needs none of it (about 50 ms of start-up)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, Callable, NamedTuple

if TYPE_CHECKING:
    from rich.console import Console


class Styled(NamedTuple):
    """A cell with a rich style; plain output shows only the text."""

    text: str
    style: str


class View(NamedTuple):
    """A table: a title, column names and rows of cells; `empty` is said instead of no rows."""

    columns: tuple[str, ...]
    rows: list[tuple[str | Styled, ...]] = []
    title: str = ""
    empty: str = ""

    def plain(self) -> list[str]:
        """Aligned columns under a header, the last one unpadded (so lines end with it)."""
        lines = [self.title] if self.title else []
        if not self.rows:
            return lines + ([self.empty] if self.empty else [])
        table = [self.columns] + [tuple(_text(cell) for cell in row) for row in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.columns) - 1)]
        for row in table:
            lines.append("  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip())
        return lines

    def rich(self):
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=self.title or None, title_justify="left")
        for column in self.columns:
            table.add_column(column)
        for row in self.rows:
            table.add_row(*(f"[{c.style}]{escape(c.text)}[/]" if isinstance(c, Styled) else escape(c) for c in row))
        return table


def _text(cell: str | Styled) -> str:
    return cell.text if isinstance(cell, Styled) else cell


class Terminal:
    """Verbosity (-v raises it, -q lowers it: below 0 no progress is shown, above 0 compose's
    output and the logs of services not yet healthy are), colour, and whether to print JSON."""

    def __init__(self, verbosity: int = 0, color: bool | None = None, as_json: bool = False,
                 environ: dict[str, str] | None = None) -> None:
        self.verbosity = verbosity
        self.color = color  # None: colour where the stream is a terminal, unless NO_COLOR or TERM=dumb
        self.as_json = as_json
        self.environ = os.environ if environ is None else environ

    def fancy(self, stream: IO[str]) -> bool:
        if self.color is not None:
            return self.color
        return stream.isatty() and not self.environ.get("NO_COLOR") and self.environ.get("TERM") != "dumb"

    def _console(self, stderr: bool) -> Console:
        return self._consoles[stderr]

    @cached_property
    def _consoles(self) -> dict[bool, Console]:
        from rich.console import Console

        return {err: Console(stderr=err, highlight=False, soft_wrap=True, force_terminal=self.color or None)
                for err in (False, True)}

    # --- results (stdout) and diagnostics (stderr) -----------------------------------------------

    def say(self, line: str = "", *, err: bool = False) -> None:
        print(line, file=sys.stderr if err else sys.stdout)

    def draw(self, view: View, *, err: bool = False) -> None:
        stream = sys.stderr if err else sys.stdout
        if self.fancy(stream):
            self._console(err).print(view.rich())
        else:
            for line in view.plain():
                print(line, file=stream)

    def data(self, value: Any) -> None:
        import json

        sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")

    def error(self, message: str) -> None:
        if self.fancy(sys.stderr):
            from rich.markup import escape

            self._console(True).print(f"[bold red]error:[/] {escape(message)}")
        else:
            self.say(f"error: {message}", err=True)

    # --- progress (stderr) ---------------------------------------------------------------------------

    def progress(self, message: str, style: str = "cyan", mark: str = "•", prefix: str = "netra-stack: ") -> None:
        if self.verbosity < 0:
            return
        if self.fancy(sys.stderr):
            from rich.markup import escape

            self._console(True).print(f"[{style}]{mark}[/] {escape(message)}")
        else:
            self.say(f"{prefix}{message}", err=True)

    @contextmanager
    def live(self, view: View, *, err: bool = False, transient: bool = False) -> Iterator[Callable[[View], None]]:
        """A view redrawn in place (a terminal only): yields the function that replaces it."""
        from rich.live import Live

        with Live(view.rich(), console=self._console(err), transient=transient, refresh_per_second=8) as shown:
            yield lambda new: shown.update(new.rich())
