"""Charts drawn on the server: Vega-Lite specs built with Altair, rendered to SVG (and PNG)
by vl-convert, so pages need no JavaScript library and no CDN.

Every chart is accessible: the SVG carries role="img" with a <title> and a one-sentence
<desc>, and the page shows the same figures in a data table beside it. Colours are from
the Okabe–Ito palette (distinguishable with colour-vision deficiencies), and series also
differ by dash and point shape, so nothing is told by colour alone.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import altair as alt
import vl_convert
from django.core.cache import cache

from backbone.measurement import periods

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from backbone.insights.analytics import Cell

BLUE = "#0072B2"  # actual values
VERMILLION = "#D55E00"  # targets
GREY = "#595959"  # forecast
INK = "#1d2330"
MUTED = "#4a5365"
WIDTH = 460
HEIGHT = 220
CACHE_SECONDS = 60 * 60 * 24
NO_DATA = "no data"

UNIT_LABELS = {
    "count": "Count",
    "percent": "Percent",
    "rate": "Rate",
    "currency": "Dollars",
    "score": "Score",
}

CONFIG = {
    # The SVG as a whole is one image with a title and description; the marks inside
    # would otherwise be read one by one as a jumble of "graphics-symbol"s.
    "aria": False,
    "font": "sans-serif",
    "background": "white",
    "view": {"stroke": None},
    "axis": {
        "labelColor": INK,
        "titleColor": INK,
        "labelFontSize": 13,
        "titleFontSize": 13,
        "gridColor": "#e3e6eb",
        "domainColor": MUTED,
        "tickColor": MUTED,
    },
    "legend": {"labelColor": INK, "titleColor": INK, "labelFontSize": 13, "orient": "bottom"},
    "title": {"color": INK, "fontSize": 14, "anchor": "start"},
}


@dataclass
class Chart:
    title: str
    description: str  # one-sentence text alternative
    svg: str  # accessible: role="img", <title> and <desc>
    columns: list[str]  # the data table shown beside the chart
    rows: list[list[str]]
    spec: dict = field(repr=False)  # the Vega-Lite spec (for PNG)


def format_value(value: Decimal | None, unit: str = "") -> str:
    """A figure as a person reads it: 42.5%, 1,204, $3,400; "no data" for None."""
    if value is None:
        return NO_DATA
    value = Decimal(value)
    if unit == "percent":
        return f"{_round(value, 1):,}%"
    if unit == "currency":
        return f"${_round(value, 0):,}"
    if unit == "count" and value == value.to_integral_value():
        return f"{_round(value, 0):,}"
    return f"{_round(value, 1):,}"


def unit_label(unit: str, rate_per: int | None = None) -> str:
    if unit == "rate" and rate_per:
        return f"Rate per {rate_per:,}"
    return UNIT_LABELS.get(unit, unit.capitalize())


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _period_key(code: str, known: dict[str, object]) -> tuple:
    if code in known:
        return (0, known[code], code)
    try:
        return (0, periods.parse(code).start(), code)
    except periods.PeriodError:
        return (1, code, code)


def trend_chart(
    title: str,
    cells: Sequence[Cell],
    *,
    unit: str,
    targets: Iterable[tuple[str, Decimal]] = (),
    forecast: Iterable[tuple[str, Decimal]] = (),
    rate_per: int | None = None,
) -> Chart:
    """A line of the actual values over time, the targets as a dashed line with diamonds
    and the turn-the-curve forecast as a dotted line, with one table row per period."""
    actual = {cell.period: cell.value for cell in cells}
    known = {cell.period: cell.period_start for cell in cells}
    target_map = dict(targets)
    forecast_map = dict(forecast)
    codes = sorted(
        set(actual) | set(target_map) | set(forecast_map), key=lambda c: _period_key(c, known)
    )
    points = []
    for series, values in (("Actual", actual), ("Target", target_map), ("Forecast", forecast_map)):
        points += [
            {"period": code, "value": _number(values[code]), "series": series}
            for code in codes
            if values.get(code) is not None
        ]
    # The forecast projects from the latest actual value: draw it from there.
    latest = next((c for c in reversed(cells) if c.value is not None), None)
    if forecast_map and latest is not None and latest.period not in forecast_map:
        points.append(
            {"period": latest.period, "value": _number(latest.value), "series": "Forecast"}
        )
    series_present = [
        s for s in ("Actual", "Target", "Forecast") if any(p["series"] == s for p in points)
    ]
    # Only the series drawn appear in the legend; each keeps its colour, dash and shape.
    styles = {
        "Actual": (BLUE, [1, 0], "circle"),
        "Target": (VERMILLION, [6, 4], "diamond"),
        "Forecast": (GREY, [2, 3], "square"),
    }
    domain = series_present or ["Actual"]
    encoding = {
        "x": alt.X(
            "period:O",
            sort=codes,
            scale=alt.Scale(domain=codes),
            title="Period",
            axis=alt.Axis(labelAngle=0 if len(codes) <= 8 else -40),
        ),
        "y": alt.Y("value:Q", title=unit_label(unit, rate_per), scale=alt.Scale(zero=False)),
        "color": alt.Color(
            "series:N",
            title=None,
            scale=alt.Scale(domain=domain, range=[styles[name][0] for name in domain]),
        ),
        "strokeDash": alt.StrokeDash(
            "series:N",
            title=None,
            scale=alt.Scale(domain=domain, range=[styles[name][1] for name in domain]),
        ),
        "shape": alt.Shape(
            "series:N",
            title=None,
            scale=alt.Scale(domain=domain, range=[styles[name][2] for name in domain]),
        ),
    }
    chart = (
        alt.Chart(alt.Data(values=points))
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True), strokeWidth=2.5)
        .encode(**encoding)
        .properties(width=WIDTH, height=HEIGHT)
    )
    rows = []
    for code in codes:
        row = [code, format_value(actual.get(code), unit) if code in actual else ""]
        row.append(format_value(target_map[code], unit) if code in target_map else "")
        row.append(format_value(forecast_map[code], unit) if code in forecast_map else "")
        rows.append(row)
    description = _trend_description(title, cells, unit, target_map, forecast_map, codes)
    columns = ["Period", "Actual", "Target", "Forecast"]
    if "Forecast" not in series_present:
        columns, rows = columns[:3], [row[:3] for row in rows]
    return _chart(title, description, chart, columns, rows)


def _trend_description(title, cells, unit, targets, forecast, codes) -> str:
    with_data = [cell for cell in cells if cell.value is not None]
    if not with_data:
        text = f"Line chart of {title}: no reported data yet"
    elif len(with_data) == 1:
        only = with_data[0]
        text = f"Line chart of {title}: {format_value(only.value, unit)} in {only.period}"
    else:
        first, last = with_data[0], with_data[-1]
        text = (
            f"Line chart of {title} from {format_value(first.value, unit)} in {first.period} "
            f"to {format_value(last.value, unit)} in {last.period}"
        )
    if targets:
        last_target = max(targets, key=lambda code: codes.index(code))
        text += f"; target {format_value(targets[last_target], unit)} for {last_target}"
    if forecast:
        last_forecast = max(forecast, key=lambda code: codes.index(code))
        text += f"; forecast {format_value(forecast[last_forecast], unit)} for {last_forecast}"
    return text + "."


def bar_chart(
    title: str,
    items: Sequence[tuple[str, Decimal | None]],
    *,
    unit: str,
    label: str = "Group",
    extra_columns: Sequence[tuple[str, Sequence[str]]] = (),
    rate_per: int | None = None,
    missing: str = NO_DATA,
) -> Chart:
    """Horizontal bars, one per item in the order given; items without data get no bar
    and say MISSING ("no data"; e.g. "not shown" where figures are withheld) beside it
    and in the table. `extra_columns` add (name, one text per item)."""
    labels = [name for name, _ in items]
    points = [{"label": name, "value": _number(value)} for name, value in items]
    base = alt.Chart(alt.Data(values=points)).encode(
        y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=200)),
    )
    bars = base.mark_bar(color=BLUE).encode(
        x=alt.X("value:Q", title=unit_label(unit, rate_per)),
    )
    text = (
        base.mark_text(align="left", dx=4, color=INK, fontSize=13)
        .encode(x=alt.X("at:Q"), text=alt.Text("text:N"))
        .transform_calculate(
            at="isValid(datum.value) ? datum.value : 0",
            text=f"isValid(datum.value) ? {_label_expression(unit)} : '{missing}'",
        )
    )
    chart = (bars + text).properties(width=WIDTH - 160, height=max(26 * len(items), 40))
    columns = [label, unit_label(unit, rate_per), *(name for name, _ in extra_columns)]
    rows = []
    for index, (name, value) in enumerate(items):
        shown = missing if value is None else format_value(value, unit)
        rows.append([name, shown, *(col[index] for _, col in extra_columns)])
    return _chart(title, _bar_description(title, items, unit, missing), chart, columns, rows)


def _label_expression(unit: str) -> str:
    if unit == "percent":
        return "format(datum.value, '.1f') + '%'"
    if unit == "currency":
        return "'$' + format(datum.value, ',.0f')"
    if unit == "count":
        return "format(datum.value, ',~f')"
    return "format(datum.value, ',.1f')"


def _bar_description(title, items, unit, missing: str = NO_DATA) -> str:
    with_data = [(name, value) for name, value in items if value is not None]
    absent = len(items) - len(with_data)
    if not with_data:
        return f"Bar chart of {title}: no reported data yet."
    high = max(with_data, key=lambda item: item[1])
    low = min(with_data, key=lambda item: item[1])
    text = f"Bar chart of {title} for {len(with_data)} group{'s' if len(with_data) != 1 else ''}"
    if high is low:
        text += f": {high[0]} {format_value(high[1], unit)}"
    else:
        text += (
            f": highest {high[0]} ({format_value(high[1], unit)}), "
            f"lowest {low[0]} ({format_value(low[1], unit)})"
        )
    if absent:
        text += f"; {absent} without data" if missing == NO_DATA else f"; {absent} {missing}"
    return text + "."


def _chart(title, description, chart: alt.TopLevelMixin, columns, rows) -> Chart:
    spec = chart.to_dict()
    spec.pop("$schema", None)
    spec["config"] = CONFIG
    spec["description"] = description
    return Chart(
        title=title,
        description=description,
        svg=render_svg(spec, title=title, description=description),
        columns=columns,
        rows=rows,
        spec=spec,
    )


# Vega labels its mark containers for screen readers one by one; inside role="img" they
# are noise (and axe flags roles nested in an image).
_INNER_ARIA = re.compile(r'\s(?:role|aria-roledescription|aria-label|aria-hidden)="[^"]*"')


def _spec_key(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def render_svg(spec: dict, *, title: str, description: str) -> str:
    """The spec as accessible SVG. Rendering takes tens of milliseconds, so the SVG is
    cached by the spec's hash: the same figures never render twice."""
    key = "insights-chart-svg:" + _spec_key(spec)
    svg = cache.get(key)
    if svg is None:
        svg = _INNER_ARIA.sub("", vl_convert.vegalite_to_svg(spec))
        cache.set(key, svg, CACHE_SECONDS)
    return _accessible(svg, title=title, description=description, uid="c" + key[-12:])


def _accessible(svg: str, *, title: str, description: str, uid: str) -> str:
    svg = re.sub(r'\s*xmlns:xlink="[^"]*"', "", svg, count=1) if "xlink:" not in svg else svg
    svg = svg.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{uid}-title {uid}-desc" focusable="false" '
        'style="max-width:100%;height:auto" ',
        1,
    )
    head_end = svg.index(">") + 1
    caption = (
        f'<title id="{uid}-title">{html.escape(title)}</title>'
        f'<desc id="{uid}-desc">{html.escape(description)}</desc>'
    )
    return svg[:head_end] + caption + svg[head_end:]


def chart_png(chart: Chart, *, scale: float = 2) -> bytes:
    """The chart as a PNG for reports and slides, with its title drawn on it."""
    spec = dict(chart.spec, title=chart.title)
    return vl_convert.vegalite_to_png(spec, scale=scale)


def sparkline_svg(values: Sequence[Decimal | None], *, label: str = "", unit: str = "") -> str:
    """A small line of recent values, drawn directly (a scorecard has dozens of them).
    The last value has a dot; gaps (None) break the line."""
    return _sparkline(tuple(values), label, unit)


@functools.lru_cache(maxsize=4096)
def _sparkline(values: tuple[Decimal | None, ...], label: str, unit: str) -> str:
    # Drawn once per process for the same figures: a warm scorecard redraws nothing.
    width, height, pad = 96, 24, 3
    numbers = [float(v) for v in values if v is not None]
    text = label or "Recent values"
    if numbers:
        text += ": " + ", ".join(format_value(v, unit) for v in values)
    else:
        text += ": no data"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}"><title>{html.escape(text)}</title>'
    )
    if not numbers:
        return head + "</svg>"
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def point(index: int, value: Decimal) -> tuple[float, float]:
        x = pad + index * step if len(values) > 1 else width / 2
        y = height - pad - (float(value) - low) / span * (height - 2 * pad)
        if high == low:
            y = height / 2
        return round(x, 1), round(y, 1)

    segments, current = [], []
    for index, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(point(index, value))
    if current:
        segments.append(current)
    body = "".join(
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
            BLUE, " ".join(f"{x},{y}" for x, y in segment)
        )
        for segment in segments
        if len(segment) > 1
    )
    last_index = max(i for i, v in enumerate(values) if v is not None)
    x, y = point(last_index, values[last_index])
    body += f'<circle cx="{x}" cy="{y}" r="2.5" fill="{BLUE}"/>'
    return head + body + "</svg>"
