"""Pure math for trend rules: a least-squares line through memory use (when does it reach
the limit?) and a baseline test (how far is the newest value from the recent mean?)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MIN_POINTS = 5
MIN_BASELINE = 10


@dataclass(frozen=True)
class Forecast:
    slope: float  # bytes per second
    now_value: float  # the fitted value at the last point
    limit: float
    seconds_to_limit: float | None  # None: not growing (or already past)
    points: int
    last_at: datetime

    @property
    def reaches_at(self) -> datetime | None:
        if self.seconds_to_limit is None:
            return None
        return self.last_at + timedelta(seconds=self.seconds_to_limit)


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(slope, intercept) of y = slope * x + intercept by ordinary least squares."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0, my
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return slope, my - slope * mx


def forecast(series: list[tuple[datetime, float]], limit: float | None) -> Forecast | None:
    """Fit memory over time; None without enough points or a known limit."""
    if len(series) < MIN_POINTS or not limit:
        return None
    t0 = series[0][0].timestamp()
    slope, intercept = fit_line([(ts.timestamp() - t0, v) for ts, v in series])
    last_x = series[-1][0].timestamp() - t0
    now_value = slope * last_x + intercept
    seconds = (limit - now_value) / slope if slope > 0 and now_value < limit else None
    if slope > 0 and now_value >= limit:
        seconds = 0.0
    return Forecast(slope, now_value, float(limit), seconds, len(series), series[-1][0].astimezone(UTC))


@dataclass(frozen=True)
class Baseline:
    mean: float
    spread: float  # the standard deviation, floored (a flat baseline is not "infinitely" sure)
    value: float
    points: int

    @property
    def sigmas(self) -> float:
        return abs(self.value - self.mean) / self.spread


def baseline(history: list[float], value: float, floor: float = 1.0) -> Baseline | None:
    if len(history) < MIN_BASELINE:
        return None
    mean = sum(history) / len(history)
    std = math.sqrt(sum((v - mean) ** 2 for v in history) / len(history))
    return Baseline(mean, max(std, abs(mean) * 0.05, floor), value, len(history))
