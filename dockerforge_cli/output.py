"""Human and machine output. `--json` prints the API's data as JSON; otherwise rich tables
that fit the terminal, colours only on a terminal (NO_COLOR and `config set color` honoured),
relative times and sizes in human units. rich is imported only when a table is drawn."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

PIPE_WIDTH = 500  # no terminal to fit: let rows keep their natural width


def human_size(n: float | int | None) -> str:
    """Decimal units, as the docker CLI prints them."""
    if n is None:
        return "-"
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.3g}{unit}"
        n /= 1000
    return f"{n:.3g}PB"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


UNITS = ((60, 1, "second"), (3600, 60, "minute"), (86400, 3600, "hour"), (86400 * 30, 86400, "day"),
         (86400 * 365, 86400 * 30, "month"))


def relative_time(value: str | None, now: datetime | None = None) -> str:
    dt = parse_time(value)
    if dt is None:
        return "-"
    seconds = ((now or datetime.now(UTC)) - dt).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    size, unit = next(((size, unit) for limit, size, unit in UNITS if seconds < limit), (86400 * 365, "year"))
    count = int(seconds // size)
    if unit == "second" and count < 5:
        return "just now"
    text = f"{count} {unit}{'s' if count != 1 else ''}"
    return f"in {text}" if future else f"{text} ago"


def use_color(setting: str = "auto", stream=None) -> bool:
    """--color / `config set color` first (no-color.org: explicit choices override), then
    NO_COLOR (set and not empty), then: only on a terminal."""
    stream = stream or sys.stdout
    if setting in ("always", "never"):
        return setting == "always"
    if os.environ.get("NO_COLOR", ""):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


@dataclass
class Column:
    title: str
    get: Callable[[dict], object]
    style: str = ""
    no_wrap: bool = False
    justify: str = "left"


class Output:
    def __init__(self, json_mode: bool = False, color: str = "auto"):
        self.json_mode = json_mode
        self.color = use_color(color)
        self.err_color = use_color(color, sys.stderr)
        self._console = None
        self._err_console = None

    # --- consoles -----------------------------------------------------------------------------
    def _make_console(self, stream, color: bool):
        from rich.console import Console

        tty = bool(getattr(stream, "isatty", lambda: False)())
        width = None if tty else int(os.environ.get("COLUMNS") or PIPE_WIDTH)
        return Console(file=stream, width=width, no_color=not color, color_system="auto" if color else None,
                       highlight=False, soft_wrap=False, force_terminal=color if color else None)

    @property
    def console(self):
        if self._console is None:
            self._console = self._make_console(sys.stdout, self.color)
        return self._console

    @property
    def err_console(self):
        if self._err_console is None:
            self._err_console = self._make_console(sys.stderr, self.err_color)
        return self._err_console

    # --- printing -----------------------------------------------------------------------------
    def json(self, data) -> None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")

    def json_line(self, data) -> None:
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        sys.stdout.flush()

    def text(self, message: str = "", style: str = "") -> None:
        if self.color and style:
            self.console.print(message, style=style, markup=False)
        else:
            sys.stdout.write(message + "\n")

    def info(self, message: str) -> None:
        """Progress chatter: stderr, so stdout stays data."""
        if self.err_color:
            self.err_console.print(message, style="dim", markup=False)
        else:
            sys.stderr.write(message + "\n")

    def error(self, message: str) -> None:
        line = " ".join(message.split())  # one line, whatever the server sent
        if self.err_color:
            self.err_console.print(f"Error: {line}", style="bold red", markup=False)
        else:
            sys.stderr.write(f"Error: {line}\n")

    def table(self, columns: Sequence[Column], rows: Iterable[dict], empty: str = "Nothing to show.") -> None:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        rows = list(rows)
        if not rows:
            self.info(empty)
            return
        table = Table(box=box.SIMPLE_HEAD if self.color else box.SIMPLE, show_edge=False, pad_edge=False,
                      header_style="bold" if self.color else "")
        for col in columns:
            table.add_column(col.title, no_wrap=col.no_wrap, overflow="ellipsis" if col.no_wrap else "fold",
                             justify=col.justify, style=col.style if self.color else "")
        for row in rows:
            # Text, not markup: container names and labels are untrusted.
            table.add_row(*(Text(_cell(col.get(row))) for col in columns))
        self.console.print(table)

    def fields(self, pairs: Sequence[tuple[str, object]]) -> None:
        width = max(len(k) for k, _ in pairs) if pairs else 0
        for key, value in pairs:
            sys.stdout.write(f"{key.ljust(width)}  {_cell(value)}\n")


def _cell(value) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value) or "-"
    return str(value)


STATE_STYLES = {"running": "green", "exited": "red", "dead": "red", "paused": "yellow", "created": "cyan",
                "restarting": "yellow", "succeeded": "green", "failed": "red", "cancelled": "yellow",
                "up": "green", "down": "red"}
