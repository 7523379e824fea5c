"""Dashboards: the network scorecard, an indicator's page and a partner's dashboard.

Figures come from the analytics API (approved values only, scoped by the viewer's
access); charts are drawn on the server (backbone.insights.charts) with a data table
beside each. The public of a public network has the public report card instead, which
suppresses small cells; these pages are for members.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from backbone.core.access import FUNDER, NETWORK_ADMIN
from backbone.core.models import LifeStage, Organization
from backbone.core.web import members_only, network_view
from backbone.insights import analytics, charts
from backbone.measurement import reporting
from backbone.measurement.models import (
    Dimension,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Polarity,
    Submission,
)

STATUS_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data",
}
STATUS_ICONS = {"on_track": "✓", "at_risk": "!", "off_track": "✕", "no_data": "–"}
MINUS = "−"
MAX_BARS = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def plain(value: Decimal | None, unit: str) -> str:
    """The figure as the table shows it, without separators or symbols (for files)."""
    text = charts.format_value(value, unit)
    if value is None:
        return ""
    return text.replace(",", "").replace("%", "").replace("$", "")


@dataclass
class Line:
    """One indicator or measure as a row of a scorecard."""

    subject: object
    unit: str
    latest: object  # Cell | None
    target: Decimal | None
    target_period: str
    status: str
    trend: str | None
    sparkline: str
    gap: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def status_icon(self) -> str:
        return STATUS_ICONS.get(self.status, "")

    @property
    def latest_text(self) -> str:
        return charts.format_value(self.latest.value if self.latest else None, self.unit)

    @property
    def target_text(self) -> str:
        return "" if self.target is None else charts.format_value(self.target, self.unit)

    @property
    def arrow(self) -> str:
        if not self.trend:
            return ""
        if self.trend == "flat":
            return "→"
        higher = self.subject.polarity == Polarity.HIGHER
        return "↑" if (self.trend == "improving") == higher else "↓"


def gap_text(gap, unit: str) -> str:
    """ "Black or African American: −18.2 points vs White" """
    if gap is None or gap.diff_reference is None:
        return ""
    diff = Decimal(gap.diff_reference)
    sign = MINUS if diff < 0 else "+"
    amount = charts.format_value(abs(diff), unit)
    if unit == "percent":
        amount = amount.rstrip("%") + " points"
    return f"{gap.category.name}: {sign}{amount} vs {gap.reference.name}"


def _line(subject, *, latest, progress, cells, gap=None) -> Line:
    return Line(
        subject=subject,
        unit=subject.unit,
        latest=latest,
        target=progress.target,
        target_period=progress.target_period,
        status=progress.status,
        trend=progress.trend,
        sparkline=charts.sparkline_svg(
            [cell.value for cell in cells],
            label=f"Recent values of {subject.name}",
            unit=subject.unit,
        ),
        gap=gap_text(gap, subject.unit),
    )


# Network scorecard ------------------------------------------------------------------------


def _scorecard(access) -> list[tuple[object, str, list[Line]]]:
    """(result, its life stage's name, a line per indicator) for every result."""
    stages = dict(access.scope(LifeStage).values_list("pk", "name"))
    return [
        (
            group.result,
            stages.get(group.result.life_stage_id, ""),
            [
                _line(
                    row.indicator,
                    latest=row.latest,
                    progress=row.progress,
                    cells=row.sparkline,
                    gap=row.largest_gap,
                )
                for row in group.rows
            ],
        )
        for group in analytics.scorecard(access)
    ]


SCORECARD_COLUMNS = [
    "result",
    "life_stage",
    "indicator",
    "name",
    "unit",
    "period",
    "value",
    "target",
    "target_period",
    "status",
    "trend",
    "largest_equity_gap",
]


@network_view
@members_only
def scorecard(request, access):
    return render(
        request,
        "insights/dashboards/scorecard.html",
        {"access": access, "results": _scorecard(access)},
    )


@network_view
@members_only
def scorecard_download(request, access, fmt: str):
    rows = [
        [
            result.code,
            stage,
            line.subject.code,
            line.subject.name,
            line.unit,
            line.latest.period if line.latest else "",
            plain(line.latest.value if line.latest else None, line.unit),
            plain(line.target, line.unit),
            line.target_period,
            line.status_label,
            line.trend or "",
            line.gap,
        ]
        for result, stage, lines in _scorecard(access)
        for line in lines
    ]
    name = f"{access.network.slug}-scorecard"
    return table_response(SCORECARD_COLUMNS, rows, name, fmt, numeric=("value", "target"))


# Indicator page --------------------------------------------------------------------------


@dataclass
class IndicatorView:
    """An indicator with its series, progress and the choices the page was asked for."""

    indicator: Indicator
    cells: list
    targets: list[tuple[str, Decimal]]
    progress: object
    periods: list[str]  # periods with data, latest first
    period: str
    dimensions: list[Dimension]
    dimension: Dimension | None
    errors: dict[str, str]


def _indicator_view(access, code: str, params) -> IndicatorView:
    indicator = access.get_object(Indicator, code=code)
    cells = analytics.series(access, indicator)
    targets = sorted(
        access.scope(IndicatorTarget).filter(indicator=indicator).values_list("period", "value")
    )
    progress = analytics.progress(indicator, cells, targets=dict(targets))
    periods = [cell.period for cell in reversed(cells) if cell.value is not None]
    dimensions = list(
        access.scope(Dimension)
        .filter(indicators=indicator, kind=Dimension.Kind.CATEGORICAL)
        .order_by("position", "code")
    )
    errors = {}
    period = params.get("period", "")
    if period and period not in periods:
        errors["period"] = (
            f"There are no approved figures of {indicator.name} for {period!r}; "
            f"choose one of: {', '.join(periods) or 'none yet'}."
        )
    if not period or period not in periods:
        period = periods[0] if periods else ""
    wanted = params.get("dimension", "")
    dimension = next((d for d in dimensions if d.code == wanted), None)
    if wanted and dimension is None:
        errors["dimension"] = (
            f"{indicator.name} is not broken down by {wanted!r}; choose one of: "
            f"{', '.join(d.code for d in dimensions) or 'none'}."
        )
    if dimension is None and dimensions:
        dimension = dimensions[0]
    return IndicatorView(
        indicator, cells, targets, progress, periods, period, dimensions, dimension, errors
    )


def _trend_chart(access, view: IndicatorView):
    indicator = view.indicator
    return charts.trend_chart(
        f"{indicator.name} over time",
        view.cells,
        unit=indicator.unit,
        targets=view.targets,
        forecast=view.progress.forecast,
        rate_per=indicator.rate_per,
    )


def _group_chart(access, view: IndicatorView):
    if view.dimension is None or not view.period:
        return None
    items = analytics.breakdown(
        access, view.indicator, dimension=view.dimension, period=view.period
    )
    if not any(cell.value is not None for _, cell in items):
        return None
    return charts.bar_chart(
        f"{view.indicator.name} by {view.dimension.name.lower()}, {view.period}",
        [(category.name, cell.value) for category, cell in items],
        unit=view.indicator.unit,
        label=view.dimension.name,
        rate_per=view.indicator.rate_per,
    )


def _area_items(access, view: IndicatorView) -> list:
    """The areas of the breakdown: the top areas, or the areas inside the one top area
    (a network in one state shows its counties)."""
    if not view.period:
        return []
    parent, items = None, []
    for _ in range(3):
        items = analytics.by_area(access, view.indicator, period=view.period, parent=parent)
        if len(items) != 1:
            break
        parent = items[0][0]
    return items


def _area_chart(access, view: IndicatorView):
    items = _area_items(access, view)
    if not any(cell.value is not None for _, cell in items):
        return None
    return charts.bar_chart(
        f"{view.indicator.name} by area, {view.period}",
        [(area.name, cell.value) for area, cell in items[:MAX_BARS]],
        unit=view.indicator.unit,
        label="Area",
        rate_per=view.indicator.rate_per,
    )


SHARE_LABEL = {
    "sum": "Share of the partners' total",
    "weighted": "Share of the partners' numerator",
    "none": "Share",
}


def _percent(share: Decimal | None) -> Decimal | None:
    return None if share is None else share * 100


def _partner_chart(access, view: IndicatorView):
    if not view.period:
        return None
    items = analytics.by_organization(access, view.indicator, period=view.period)
    if not items:
        return None
    title = f"{view.indicator.name} by partner, {view.period}"
    if len(items) > MAX_BARS:
        items, title = items[:MAX_BARS], f"{title}: the {MAX_BARS} highest"
    shares = [charts.format_value(_percent(share), "percent") for *_, share in items]
    has_shares = any(share is not None for *_, share in items)
    return charts.bar_chart(
        title,
        [(organization.name, cell.value) for organization, cell, _ in items],
        unit=view.indicator.unit,
        label="Partner",
        extra_columns=[(SHARE_LABEL[view.indicator.aggregation], shares)] if has_shares else (),
        rate_per=view.indicator.rate_per,
    )


CHART_BUILDERS = {
    "trend": _trend_chart,
    "group": _group_chart,
    "area": _area_chart,
    "partner": _partner_chart,
}


@network_view
@members_only
def indicator_detail(request, access, code: str):
    view = _indicator_view(access, code, request.GET)
    template, names = "insights/dashboards/indicator_detail.html", CHART_BUILDERS
    if request.htmx and request.GET.get("part") == "group":
        template, names = "insights/dashboards/_by_group.html", ["group"]
    indicator, unit = view.indicator, view.indicator.unit
    query = f"period={view.period}&dimension={getattr(view.dimension, 'code', '')}"
    chart_url = "insights:indicator-chart-download"
    latest = view.progress.latest
    context = {
        "access": access,
        "view": view,
        "indicator": indicator,
        "charts": {name: CHART_BUILDERS[name](access, view) for name in names},
        "query": query,
        "png": {
            name: reverse(chart_url, args=[access.network.slug, indicator.code, name]) + "?" + query
            for name in CHART_BUILDERS
        },
        "status_label": STATUS_LABELS.get(view.progress.status, view.progress.status),
        "status_icon": STATUS_ICONS.get(view.progress.status, ""),
        "latest_text": charts.format_value(latest.value if latest else None, unit),
        "unit_label": charts.unit_label(unit, indicator.rate_per),
        "baseline_text": charts.format_value(indicator.baseline_value, unit),
        "target_texts": [(period, charts.format_value(v, unit)) for period, v in view.targets],
    }
    return render(request, template, context, status=400 if view.errors else 200)


@network_view
@members_only
def indicator_chart_png(request, access, code: str, chart: str):
    view = _indicator_view(access, code, request.GET)
    drawn = CHART_BUILDERS[chart](access, view)
    if drawn is None:
        raise Http404("This chart has no figures yet.")
    response = HttpResponse(charts.chart_png(drawn), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{code}-{chart}.png"'
    return response


INDICATOR_COLUMNS = ["chart", "period", "group", "value", "target", "forecast", "share_percent"]


@network_view
@members_only
def indicator_download(request, access, code: str, fmt: str):
    """Every figure of the page, one row each, as the tables show them."""
    view = _indicator_view(access, code, request.GET)
    unit = view.indicator.unit
    actual = {cell.period: cell.value for cell in view.cells}
    targets, forecast = dict(view.targets), dict(view.progress.forecast)
    order = [row[0] for row in _trend_chart(access, view).rows]
    rows = [
        [
            "trend",
            period,
            "",
            plain(actual.get(period), unit),
            plain(targets.get(period), unit),
            plain(forecast.get(period), unit),
            "",
        ]
        for period in order
    ]
    if view.period:
        if view.dimension is not None:
            items = analytics.breakdown(
                access, view.indicator, dimension=view.dimension, period=view.period
            )
            rows += [
                [
                    f"by {view.dimension.code}",
                    view.period,
                    c.name,
                    plain(cell.value, unit),
                    "",
                    "",
                    "",
                ]
                for c, cell in items
            ]
        for area, cell in _area_items(access, view):
            rows.append(["by area", view.period, area.name, plain(cell.value, unit), "", "", ""])
        for org, cell, share in analytics.by_organization(
            access, view.indicator, period=view.period
        ):
            rows.append(
                [
                    "by partner",
                    view.period,
                    org.name,
                    plain(cell.value, unit),
                    "",
                    "",
                    plain(_percent(share), "percent"),
                ]
            )
    numeric = ("value", "target", "forecast", "share_percent")
    name = f"{access.network.slug}-{code}"
    return table_response(INDICATOR_COLUMNS, rows, name, fmt, numeric=numeric)


# Partner dashboard -----------------------------------------------------------------------


def _may_see_dashboard(access, organization) -> bool:
    return access.role in (NETWORK_ADMIN, FUNDER) or access.organization_id == organization.pk


@network_view
@members_only
def partner_dashboard(request, access, organization_slug: str):
    organization = access.get_object(Organization, slug=organization_slug)
    if not _may_see_dashboard(access, organization):
        raise PermissionDenied(
            "A partner's dashboard is for its own people, network admins and funders."
        )
    groups = _measure_groups(access, organization)
    can_see_submissions = access.allows(Submission)
    today = timezone.localdate()
    submissions = [
        (submission, state, reporting.STATE_LABELS[state])
        for submission in access.scope(Submission)
        .filter(organization=organization)
        .select_related("assignment")
        .order_by("-period_start", "pk")
        for state in [reporting.state(submission, today)]
    ]
    return render(
        request,
        "insights/dashboards/partner_dashboard.html",
        {
            "access": access,
            "organization": organization,
            "groups": groups,
            "has_measures": any(lines for _, _, lines in groups),
            "can_see_submissions": can_see_submissions,
            "submissions": submissions,
        },
    )


def _measure_groups(access, organization):
    """The organization's measures (its own, and shared ones it has targets or figures
    on) with its own targets, grouped how much / how well / better off."""
    targets: dict[int, dict[str, Decimal]] = {}
    for measure_id, period, value in (
        access.scope(MeasureTarget)
        .filter(organization=organization)
        .values_list("measure_id", "period", "value")
    ):
        targets.setdefault(measure_id, {})[period] = value
    measures = (
        access.scope(PerformanceMeasure)
        .filter(Q(organization=organization) | Q(pk__in=list(targets)))
        .order_by("code")
    )
    by_category: dict[str, list] = {}
    for measure in measures:
        cells = analytics.series(access, measure, organization=organization)
        progress = analytics.progress(measure, cells, targets=targets.get(measure.pk, {}))
        line = _line(measure, latest=progress.latest, progress=progress, cells=cells[-8:])
        chart = charts.trend_chart(
            f"{measure.name} over time",
            cells,
            unit=measure.unit,
            targets=sorted(targets.get(measure.pk, {}).items()),
        )
        by_category.setdefault(measure.category, []).append((line, chart))
    return [
        (value, label, by_category.get(value, []))
        for value, label in PerformanceMeasure.Category.choices
    ]


# Files -----------------------------------------------------------------------------------


def table_response(
    columns: list[str], rows: list[list], name: str, fmt: str, *, numeric: tuple[str, ...] = ()
) -> HttpResponse:
    """The rows as a CSV or XLSX download; in XLSX the NUMERIC columns are numbers."""
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(name[:31])
        sheet.append(columns)
        for row in rows:
            sheet.append(
                [_cell(v) if c in numeric else v for c, v in zip(columns, row, strict=True)]
            )
        data = io.BytesIO()
        book.save(data)
        response = HttpResponse(data.getvalue(), content_type=XLSX)
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(columns)
        writer.writerows(rows)
        response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _cell(value: str):
    return Decimal(value) if value else None
