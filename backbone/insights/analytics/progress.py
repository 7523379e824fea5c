"""Progress against baseline and target, the trend judged by polarity, and the
turn-the-curve baseline forecast (Results-Based Accountability). Pure functions of a
series; see docs/analytics.md for the rules."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from backbone.insights.analytics.cells import PLACES, Cell
from backbone.measurement import periods as P
from backbone.measurement.models import Indicator, Polarity

AT_RISK_SHARE = Decimal("0.05")  # within 5% of the line from baseline to target
FLAT_SHARE = Decimal("0.01")  # a change under 1% of the mean is flat
TREND_POINTS = 5  # the trend and forecast use the last five periods with data
FORECAST_STEPS = 3  # without a later target, project this many periods ahead
MAX_STEPS = 40

ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA = "on_track", "at_risk", "off_track", "no_data"
IMPROVING, WORSENING, FLAT = "improving", "worsening", "flat"


@dataclass
class Progress:
    baseline: Decimal | None
    baseline_period: str
    target: Decimal | None
    target_period: str
    latest: Cell | None
    status: str  # "on_track" | "at_risk" | "off_track" | "no_data"
    trend: str | None  # "improving" | "worsening" | "flat" (judged by polarity)
    forecast: list[tuple[str, Decimal]] = field(default_factory=list)


def _start(code: str) -> datetime.date | None:
    try:
        return P.parse(code).start(7)
    except P.PeriodError:
        return None


def _index(period: P.Period) -> int:
    """Consecutive periods of one kind have consecutive indexes."""
    if period.kind == P.MONTH:
        return period.year * 12 + period.number - 1
    if period.kind == P.QUARTER:
        return period.year * 4 + period.number - 1
    return period.year


def _period_at(kind: str, index: int) -> P.Period:
    if kind == P.MONTH:
        return P.Period(kind, index // 12, index % 12 + 1)
    if kind == P.QUARTER:
        return P.Period(kind, index // 4, index % 4 + 1)
    return P.Period(kind, index)


def least_squares(points: list[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """Slope and intercept of the least-squares line through POINTS (x, y)."""
    n = Decimal(len(points))
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if not spread:
        return Decimal(0), mean_y
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, mean_y - slope * mean_x


def better(subject) -> int:
    """+1 when higher values are better, -1 when lower ones are."""
    return -1 if subject.polarity == Polarity.LOWER else 1


def trend(subject, cells: list[Cell]) -> str | None:
    """Improving, worsening or flat over the last TREND_POINTS figures (by polarity):
    the change along the least-squares line, flat under 1% of their mean."""
    points = _points(cells)[-TREND_POINTS:]
    if len(points) < 2:
        return None
    slope, _ = least_squares(points)
    change = slope * (points[-1][0] - points[0][0])
    mean = abs(sum(y for _, y in points) / len(points))
    if abs(change) <= FLAT_SHARE * mean or not change:
        return FLAT
    return IMPROVING if change * better(subject) > 0 else WORSENING


def _points(cells: list[Cell]) -> list[tuple[Decimal, Decimal]]:
    points = []
    for cell in cells:
        if cell.value is None:
            continue
        try:
            points.append((Decimal(_index(P.parse(cell.period))), cell.value))
        except P.PeriodError:
            continue
    return points


def forecast(cells: list[Cell], *, until: str = "") -> list[tuple[str, Decimal]]:
    """The baseline forecast: the least-squares line through the last TREND_POINTS
    figures, projected period by period to UNTIL (a target period) or FORECAST_STEPS
    periods past the latest."""
    with_values = [cell for cell in cells if cell.value is not None]
    points = _points(with_values)[-TREND_POINTS:]
    if len(points) < 2:
        return []
    slope, intercept = least_squares(points)
    latest = P.parse(with_values[-1].period)
    last = _index(latest)
    end = _start(until) if until else None
    steps = []
    for step in range(1, MAX_STEPS + 1):
        period = _period_at(latest.kind, last + step)
        if end is None and step > FORECAST_STEPS:
            break
        if end is not None and period.start(7) > end:
            break
        value = (slope * (last + step) + intercept).quantize(PLACES, ROUND_HALF_UP)
        steps.append((period.code, value))
    return steps


def _targets_of(subject) -> dict[str, Decimal]:
    if isinstance(subject, Indicator):
        return {target.period: target.value for target in subject.targets.all()}
    return {}


def progress(subject, cells: list[Cell], *, targets: dict[str, Decimal] | None = None) -> Progress:
    """Where SUBJECT stands: the latest figure against the straight line from the
    baseline to the target (the first target at or after the latest figure, else the
    last one), the trend and the baseline forecast."""
    with_values = [cell for cell in cells if cell.value is not None]
    latest = with_values[-1] if with_values else None
    baseline = getattr(subject, "baseline_value", None)
    baseline_period = getattr(subject, "baseline_period", "") or ""
    if baseline is None and with_values:
        baseline, baseline_period = with_values[0].value, with_values[0].period
    goals = sorted(
        (
            (start, code, value)
            for code, value in (_targets_of(subject) if targets is None else targets).items()
            if (start := _start(code)) is not None
        ),
    )
    target, target_period = None, ""
    if goals:
        later = [goal for goal in goals if latest is None or goal[0] >= latest.period_start]
        _, target_period, target = later[0] if later else goals[-1]
    result = Progress(
        baseline=baseline,
        baseline_period=baseline_period,
        target=target,
        target_period=target_period,
        latest=latest,
        status=NO_DATA,
        trend=trend(subject, with_values),
        forecast=forecast(with_values, until=target_period) if latest else [],
    )
    if latest is None:
        return result
    expected = _expected(baseline, baseline_period, target, target_period, latest.period_start)
    result.status = status(subject, latest.value, expected)
    return result


def _expected(baseline, baseline_period, target, target_period, when) -> Decimal | None:
    """The value on the straight line from baseline to target at WHEN (the baseline
    without a target, the target past its period)."""
    if target is None:
        return baseline
    begin, end = _start(baseline_period), _start(target_period)
    if baseline is None or begin is None or end is None or when >= end or end <= begin:
        return target
    if when <= begin:
        return baseline
    share = Decimal((when - begin).days) / Decimal((end - begin).days)
    return baseline + (target - baseline) * share


def status(subject, latest: Decimal, expected: Decimal | None) -> str:
    """On track at or beyond EXPECTED (by polarity); at risk when short of it by at most
    5% of it; off track otherwise."""
    if expected is None:
        return ON_TRACK
    shortfall = (expected - latest) * better(subject)
    if shortfall <= 0:
        return ON_TRACK
    if shortfall <= AT_RISK_SHARE * abs(expected):
        return AT_RISK
    return OFF_TRACK
