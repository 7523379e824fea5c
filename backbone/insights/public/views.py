"""The public report card, its method page and the open data. No login for a public
network; members of a private network see the same pages. Every figure is suppressed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from backbone.core.web import network_view
from backbone.insights import charts
from backbone.insights.public import datapackage, selectors
from backbone.insights.suppression import FOOTNOTES
from backbone.measurement.models import Indicator


@dataclass
class Card:
    """One indicator as a line of the report card."""

    released: selectors.Released
    target: object  # (period, value) of the latest target, or None
    sparkline: str
    chart: charts.Chart | None = None

    @property
    def indicator(self):
        return self.released.indicator

    @property
    def current_text(self) -> str:
        if self.released.status == "suppressed":
            return selectors.SUPPRESSED
        latest = self.released.latest
        return latest.figure.text(self.indicator.unit) if latest else charts.NO_DATA

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "–"
        return f"{charts.format_value(self.target[1], self.indicator.unit)} ({self.target[0]})"

    @property
    def status_label(self) -> str:
        return selectors.STATUS_LABELS.get(self.released.status, self.released.status)

    @property
    def trend_label(self) -> str:
        progress = self.released.progress
        if self.released.status == "suppressed" or not progress or not progress.trend:
            return "–"
        return selectors.TREND_LABELS.get(progress.trend, progress.trend)


def _target(released: selectors.Released):
    """The target the status is judged against (as on the members' scorecard), else the
    latest one set."""
    progress = released.progress
    if progress and progress.target is not None:
        return (progress.target_period, progress.target)
    targets = sorted(released.indicator.targets.all(), key=lambda t: t.period)
    return (targets[-1].period, targets[-1].value) if targets else None


def card_for(released: selectors.Released, *, with_chart: bool = True) -> Card:
    indicator = released.indicator
    values = [row.figure.value for row in released.totals()][-8:]
    card = Card(
        released=released,
        target=_target(released),
        sparkline=charts.sparkline_svg(values, label=indicator.name, unit=indicator.unit),
    )
    if with_chart:
        card.chart = trend_chart(released)
    return card


def _cached(draw, title: str, *args, **kwargs) -> charts.Chart:
    """Building a chart's spec with Altair takes tens of milliseconds; the same figures
    give the same chart, so it is kept in the cache under a digest of its inputs."""
    digest = hashlib.sha256(repr((draw.__name__, title, args, kwargs)).encode()).hexdigest()
    key = f"insights-public-chart:{digest}"
    chart = cache.get(key)
    if chart is None:
        chart = draw(title, *args, **kwargs)
        cache.set(key, chart, selectors.CACHE_SECONDS)
    return chart


def _mark_suppressed(chart: charts.Chart, suppressed: dict[str, bool], column: int = 1):
    """Say "* suppressed" in the data table where a figure is withheld (not "no data")."""
    for row in chart.rows:
        if suppressed.get(row[0]):
            row[column] = selectors.SUPPRESSED
    return chart


def trend_chart(released: selectors.Released) -> charts.Chart:
    indicator = released.indicator
    chart = _cached(
        charts.trend_chart,
        indicator.name,
        released.cells,
        unit=indicator.unit,
        targets=[(t.period, t.value) for t in indicator.targets.all()],
        forecast=released.progress.forecast if released.progress else (),
        rate_per=indicator.rate_per,
    )
    return _mark_suppressed(chart, {r.period: r.figure.suppressed for r in released.totals()})


def bar_chart(title: str, rows: list[selectors.Row], indicator: Indicator) -> charts.Chart:
    chart = _cached(
        charts.bar_chart,
        title,
        [(row.label, row.figure.value) for row in rows],
        unit=indicator.unit,
        rate_per=indicator.rate_per,
    )
    for table_row, row in zip(chart.rows, rows, strict=True):
        if row.figure.suppressed:
            table_row[1] = selectors.SUPPRESSED
    return chart


def group_by_result(cards: list[Card]) -> list[tuple[object, list[tuple[object, list[Card]]]]]:
    """[(life stage, [(result, [card, ...]), ...]), ...] in framework order."""
    stages: dict = {}
    for card in cards:
        result = card.indicator.result
        results = stages.setdefault(result.life_stage, {})
        results.setdefault(result, []).append(card)
    return [(stage, list(results.items())) for stage, results in stages.items()]


def _reasons(released_list) -> list[str]:
    return [row.figure.reason for item in released_list for row in item.rows]


@network_view
def report_card(request, access):
    access.require_allowed(Indicator)
    released = selectors.release_all(access)
    k = selectors.suppression_k(access.network)
    cards = [card_for(item) for item in released]
    return render(
        request,
        "insights/public/report_card.html",
        {
            "access": access,
            "stages": group_by_result(cards),
            "k": k,
            "footnotes": selectors.footnotes(k, _reasons(released)),
            "status_labels": selectors.STATUS_LABELS,
            "trend_labels": selectors.TREND_LABELS,
        },
    )


@network_view
def indicator_detail(request, access, code: str):
    indicator = selectors.public_indicator(access, code)
    released = selectors.release_indicator(indicator)
    card = card_for(released)
    period = released.latest_period
    breakdowns = []
    area_chart = None
    if period:
        for dimension, rows in released.breakdowns(period):
            if not any(row.figure.value is not None or row.figure.suppressed for row in rows):
                continue  # nothing reported for this dimension
            breakdowns.append(
                bar_chart(
                    f"{indicator.name} by {dimension.name.lower()}, {period}", rows, indicator
                )
            )
        areas = released.areas(period)
        if areas:
            area_chart = bar_chart(f"{indicator.name} by area, {period}", areas, indicator)
    return render(
        request,
        "insights/public/indicator_detail.html",
        {
            "access": access,
            "card": card,
            "indicator": indicator,
            "period": period,
            "breakdowns": breakdowns,
            "area_chart": area_chart,
            "k": released.k,
            "footnotes": selectors.footnotes(released.k, _reasons([released])),
            "status_labels": selectors.STATUS_LABELS,
            "trend_labels": selectors.TREND_LABELS,
        },
    )


@network_view
def method(request, access):
    access.require_allowed(Indicator)
    k = selectors.suppression_k(access.network)
    return render(
        request,
        "insights/public/method.html",
        {
            "access": access,
            "k": k,
            "k_minus_one": k - 1,
            "footnotes": [text.format(k=k) for text in FOOTNOTES.values()],
        },
    )


def _open_data(request, access):
    access.require_allowed(Indicator)
    released = selectors.release_all(access)
    k = selectors.suppression_k(access.network)
    slug = access.network.slug
    descriptor = datapackage.descriptor(
        network=access.network,
        k=k,
        released=released,
        homepage=request.build_absolute_uri(reverse("insights:public-report-card", args=[slug])),
        method_url=request.build_absolute_uri(reverse("insights:public-method", args=[slug])),
    )
    return descriptor, datapackage.values_csv(released)


def _download(content, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@network_view
def open_data_csv(request, access):
    _descriptor, text = _open_data(request, access)
    return _download(text, "text/csv; charset=utf-8", f"{access.network.slug}-values.csv")


@network_view
def open_data_descriptor(request, access):
    descriptor, _text = _open_data(request, access)
    return HttpResponse(json.dumps(descriptor, indent=2), content_type="application/json")


@network_view
def open_data_zip(request, access):
    descriptor, text = _open_data(request, access)
    return _download(
        datapackage.package_zip(descriptor, text),
        "application/zip",
        f"{access.network.slug}-datapackage.zip",
    )
