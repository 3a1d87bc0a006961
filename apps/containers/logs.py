"""Container logs: bounded reads in a request, streamed downloads and live follows.

Logs are untrusted text: bytes are decoded as UTF-8 with replacement, lines are capped in
length, and colours go through `ansi` (never raw HTML). One form (`LogFilterForm`) parses the
filters for the page, the download, the API and the follow socket.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.engine.logs import FrameDemuxer, container_has_tty, open_log_stream

from . import ansi

DURATION = re.compile(r"^(\d{1,6})([smhd])$")
DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def limit(name: str):
    """A logs limit: settings.CONTAINER_LOGS[name] wins over the default (tests shorten them)."""
    defaults = {
        "default_tail": 200,
        "max_tail": 10_000,
        "search_window": 10_000,  # lines scanned (newest first) when a search narrows a tail
        "max_bytes": 16 * 1024 * 1024,  # read in one request
        "max_line_chars": 16_384,
        "read_timeout": 5.0,  # seconds: per engine read and for the whole in-request read
        "max_regex_chars": 200,
        "download_max_bytes": 256 * 1024 * 1024,
    }
    return getattr(settings, "CONTAINER_LOGS", {}).get(name, defaults[name])


def parse_time(value: str, field_name: str) -> float | None:
    """'10m' / '2h' / '1d' ago, an ISO date-time, or unix seconds -> unix seconds."""
    value = (value or "").strip()
    if not value:
        return None
    match = DURATION.match(value)
    if match:
        delta = timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})
        return (timezone.now() - delta).timestamp()
    if re.fullmatch(r"\d{1,12}(\.\d{1,9})?", value):
        return float(value)
    parsed = parse_datetime(value.replace(" ", "T", 1)) if "T" not in value else parse_datetime(value)
    if parsed is None:
        raise forms.ValidationError(
            "Use a duration like 10m, 2h or 1d, an ISO date-time (2026-11-30T08:00:00Z) or unix seconds.",
            code=f"invalid_{field_name}",
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed.timestamp()


class LogFilterForm(forms.Form):
    STREAMS = (("all", "stdout and stderr"), ("stdout", "stdout only"), ("stderr", "stderr only"))

    tail = forms.CharField(required=False, max_length=8, help_text="Last N lines, or 'all' (capped)")
    since = forms.CharField(required=False, max_length=40, help_text="10m, 2h, 1d, or a date-time")
    until = forms.CharField(required=False, max_length=40)
    q = forms.CharField(required=False, max_length=500, label="Search", help_text="Case-insensitive text")
    regex = forms.BooleanField(required=False, label="Regular expression")
    stream = forms.ChoiceField(required=False, choices=STREAMS, initial="all")
    timestamps = forms.BooleanField(required=False, label="Show timestamps")

    def __init__(self, data=None, *, default_tail: int | None = None, **kwargs):
        self.default_tail = limit("default_tail") if default_tail is None else default_tail
        super().__init__(data, **kwargs)

    def clean_tail(self) -> int | None:
        raw = (self.cleaned_data.get("tail") or "").strip().lower()
        if raw == "":
            return self.default_tail
        if raw == "all":
            return None
        if not raw.isdigit():
            raise forms.ValidationError("Enter a number of lines or 'all'.")
        tail = int(raw)
        if tail > limit("max_tail"):
            raise forms.ValidationError(f"At most {limit('max_tail')} lines (use 'all' with since/until, or download).")
        return tail

    def clean_since(self):
        return parse_time(self.cleaned_data.get("since"), "since")

    def clean_until(self):
        return parse_time(self.cleaned_data.get("until"), "until")

    def clean(self):
        data = super().clean()
        q, regex = data.get("q") or "", data.get("regex")
        if regex and q:
            if len(q) > limit("max_regex_chars"):
                self.add_error("q", f"A regular expression may have at most {limit('max_regex_chars')} characters.")
            else:
                try:
                    re.compile(q, re.IGNORECASE)
                except re.error as exc:
                    self.add_error("q", f"Not a valid regular expression: {exc}")
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            self.add_error("until", "Must be after 'since'.")
        data["stream"] = data.get("stream") or "all"
        return data

    def query(self) -> LogQuery:
        d = self.cleaned_data
        return LogQuery(
            tail=d["tail"], since=d["since"], until=d["until"], q=d.get("q") or "",
            regex=bool(d.get("regex")), stream=d["stream"], timestamps=bool(d.get("timestamps")),
        )


@dataclass(frozen=True)
class LogQuery:
    tail: int | None = 200
    since: float | None = None
    until: float | None = None
    q: str = ""
    regex: bool = False
    stream: str = "all"
    timestamps: bool = False

    def matcher(self) -> Callable[[str], bool] | None:
        if not self.q:
            return None
        if self.regex:
            pattern = re.compile(self.q, re.IGNORECASE)
            return lambda text: pattern.search(text) is not None
        needle = self.q.casefold()
        return lambda text: needle in text.casefold()

    def engine_params(self, follow: bool = False) -> dict:
        # With a search, the engine sends a window of lines and the last `tail` matches are kept.
        tail = self.tail
        if self.q and not follow:
            tail = limit("search_window") if tail is not None else None
        return {
            "tail": tail, "since": self.since, "until": None if follow else self.until,
            "stdout": self.stream in ("all", "stdout"), "stderr": self.stream in ("all", "stderr"),
        }


@dataclass
class LogLine:
    ts: str
    stream: str
    text: str

    @property
    def html(self):
        return ansi.to_html(self.text)

    @property
    def plain(self) -> str:
        return ansi.strip(self.text)

    def as_dict(self) -> dict:
        return {"ts": self.ts, "stream": self.stream, "text": self.plain}

    def as_message(self) -> dict:
        """For the follow socket: spans of (fixed classes, text), which the page puts in
        text nodes, so nothing is parsed as HTML there either."""
        return {"ts": self.ts, "stream": self.stream, "spans": ansi.spans(self.text)}


@dataclass
class LogResult:
    lines: list[LogLine]
    tty: bool
    truncated: bool = False
    notes: list[str] = field(default_factory=list)


_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) ")


class LineAssembler:
    """Frames (any split) -> lines per stream, each split off its engine timestamp."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self._partial: dict[str, bytes] = {}
        self._last_ts: dict[str, str] = {}

    def feed(self, stream: str, payload: bytes) -> list[LogLine]:
        data = self._partial.pop(stream, b"") + payload
        *complete, rest = data.split(b"\n")
        if rest:
            # A line longer than the cap is cut here rather than held in memory.
            if len(rest) > self.max_chars * 4:
                complete.append(rest)
            else:
                self._partial[stream] = rest
        return [self._line(stream, raw) for raw in complete]

    def flush(self) -> list[LogLine]:
        lines = [self._line(stream, raw) for stream, raw in self._partial.items() if raw]
        self._partial.clear()
        return lines

    def _line(self, stream: str, raw: bytes) -> LogLine:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        match = _TIMESTAMP.match(text)
        if match:
            ts, text = match.group(0)[:-1], text[match.end() :]
            self._last_ts[stream] = ts
        else:  # a TTY entry holding several lines: they share its time
            ts = self._last_ts.get(stream, "")
        if len(text) > self.max_chars:
            text = text[: self.max_chars] + " …[line cut]"
        return LogLine(ts=ts, stream=stream, text=text)


def _client(container, timeout: float | None):
    from apps.hosts.services import client_for

    return client_for(container.host, timeout=timeout)


def has_tty(container, client) -> bool:
    """A container's TTY flag cannot change after creation: trust the mirror's inspect."""
    config = (container.inspect or {}).get("Config")
    if isinstance(config, dict) and "Tty" in config:
        return bool(config["Tty"])
    return container_has_tty(client, container.docker_id)


def iter_lines(container, query: LogQuery, *, follow: bool = False, client=None, opened: Callable | None = None,
               timeout: float | None = None, tty: bool | None = None) -> Iterator[LogLine]:
    """Every line the engine sends for `query` (search and stream filters applied), as it
    arrives. `opened(stream)` receives the open stream, so another thread can close() it."""
    client = client or _client(container, None if follow else (timeout or limit("read_timeout")))
    tty = has_tty(container, client) if tty is None else tty
    stream = open_log_stream(client, container.docker_id, follow=follow, timestamps=True, **query.engine_params(follow))
    if opened is not None:
        opened(stream)
    demux, lines, match = FrameDemuxer(tty), LineAssembler(limit("max_line_chars")), query.matcher()
    try:
        for chunk in stream.chunks():
            for name, payload in demux.feed(chunk):
                for line in lines.feed(name, payload):
                    if match is None or match(line.plain):
                        yield line
        for line in lines.flush():
            if match is None or match(line.plain):
                yield line
    finally:
        stream.close()


def read_logs(container, query: LogQuery) -> LogResult:
    """A bounded read for a request: the last `tail` matching lines, within the byte cap and
    the read timeout (whatever was read by then is returned, marked truncated)."""
    client = _client(container, limit("read_timeout"))
    tty = has_tty(container, client)
    keep: deque[LogLine] = deque(maxlen=query.tail or limit("max_tail"))
    deadline = time.monotonic() + limit("read_timeout")
    budget = limit("max_bytes")
    result = LogResult(lines=[], tty=tty)
    for line in iter_lines(container, query, client=client, tty=tty):
        keep.append(line)
        budget -= len(line.text) + 40
        if budget <= 0:
            result.truncated = True
            result.notes.append(f"Stopped after {limit('max_bytes') // (1024 * 1024)} MiB: narrow the time range or download.")
            break
        if time.monotonic() > deadline:
            result.truncated = True
            result.notes.append(f"Stopped after {limit('read_timeout'):g} s: narrow the time range or download.")
            break
    if query.tail is None and len(keep) == keep.maxlen:
        result.notes.append(f"Showing the last {keep.maxlen} lines.")
    result.lines = list(keep)
    return result


def download_lines(container, query: LogQuery) -> Iterator[bytes]:
    """The log as text for a download, streamed; timestamps when asked; capped in bytes."""
    budget = limit("download_max_bytes")
    for line in iter_lines(container, query, timeout=settings.ENGINE_TIMEOUT):
        prefix = f"{line.ts} " if query.timestamps and line.ts else ""
        data = f"{prefix}{line.plain}\n".encode()
        budget -= len(data)
        if budget < 0:
            yield b"[download stopped at the size cap]\n"
            return
        yield data


def format_ts(ts: str) -> datetime | None:
    """An engine timestamp (nanoseconds) as an aware datetime, for display."""
    if not ts:
        return None
    base, _, frac = ts.rstrip("Z").partition(".")
    try:
        return datetime.fromisoformat(base).replace(tzinfo=UTC, microsecond=int((frac + "000000")[:6]))
    except ValueError:
        return None
