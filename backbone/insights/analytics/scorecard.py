"""The network scorecard: every result with its indicators' latest figures, progress,
sparkline and largest equity gap, in a handful of indexed queries whatever the size of
the data (two reads of the cell table, plus the framework).

Computed once per version of the network's analytics (every rebuild and refresh bumps
it, in the same transaction as the cells) and framework, and kept in Django's cache:
a warm read is the framework's few small queries and one cache read."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Q

from backbone.core.access import PUBLIC, Access
from backbone.core.models import Area
from backbone.insights.analytics.build import analytics_version
from backbone.insights.analytics.cells import CELL_FIELDS, Cell, pick
from backbone.insights.analytics.equity import Gap, gaps_from
from backbone.insights.analytics.progress import Progress, progress
from backbone.insights.models import AnalyticsCell
from backbone.measurement.models import Category, Dimension, Indicator, Result

SPARKLINE = 12  # periods
CACHE_SECONDS = 600  # bounds how long a renamed category or area shows its old name
CACHE_FORMAT = 1  # bump when what is cached changes shape


@dataclass
class IndicatorRow:
    indicator: Indicator
    latest: Cell | None
    progress: Progress
    sparkline: list[Cell]
    largest_gap: Gap | None


@dataclass
class ResultRow:
    result: Result
    rows: list[IndicatorRow] = field(default_factory=list)


def scorecard(access: Access, *, public_only: bool = False) -> list[ResultRow]:
    """Each result the access may see, with a row per indicator (only the public ones
    with PUBLIC_ONLY, and always for the public)."""
    version = analytics_version(access.network)
    public_only = public_only or access.role == PUBLIC
    results = list(access.scope(Result).order_by("position", "code"))
    indicators = access.scope(Indicator).prefetch_related("targets", "dimensions")
    if public_only:
        indicators = indicators.filter(is_public=True)
    indicators = list(indicators.order_by("position", "code"))
    key = _cache_key(access, public_only, version, results, indicators)
    rows = cache.get(key)
    if rows is None:
        rows = _compute(access, public_only, results, indicators)
        cache.set(key, rows, CACHE_SECONDS)
    return rows


def _cache_key(access: Access, public_only: bool, version, results, indicators) -> str:
    """Changes with the analytics version, what the access may see of the cells, and every
    field of the results, indicators, their targets and dimensions."""

    def fields(instance):
        return [getattr(instance, f.attname) for f in instance._meta.concrete_fields]

    parts = [
        CACHE_FORMAT,
        access.network.pk,
        version,
        access.role == PUBLIC,  # the public sees population figures only
        public_only,
        [fields(result) for result in results],
        [
            (
                fields(indicator),
                sorted((t.period, str(t.value)) for t in indicator.targets.all()),
                sorted(d.pk for d in indicator.dimensions.all()),
            )
            for indicator in indicators
        ],
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"insights-scorecard:{digest}"


def _compute(access: Access, public_only: bool, results, indicators) -> list[ResultRow]:
    series = _series(access, indicators)
    dimensions = _dimension_categories(access, indicators)
    disaggregated = _disaggregated(access, indicators, series)
    by_result: dict[int, list[IndicatorRow]] = defaultdict(list)
    for indicator in indicators:
        cells = series.get(indicator.pk, [])
        judged = progress(indicator, cells)
        gap = _largest_gap(indicator, cells, dimensions, disaggregated.get(indicator.pk, {}))
        by_result[indicator.result_id].append(
            IndicatorRow(indicator, judged.latest, judged, cells[-SPARKLINE:], gap)
        )
    rows = [ResultRow(result, by_result.get(result.pk, [])) for result in results]
    return [row for row in rows if row.rows or not public_only]


def _series(access: Access, indicators: list[Indicator]) -> dict[int, list[Cell]]:
    """Each indicator's network totals in periods of its frequency: one query."""
    if not indicators:
        return {}
    frequency = {indicator.pk: indicator.frequency for indicator in indicators}
    rows = (
        access.scope(AnalyticsCell)
        .filter(
            indicator_id__in=list(frequency),
            area=None,
            disaggregation="",
            period_kind__in=set(frequency.values()),
        )
        .values_list("indicator_id", "period_kind", *CELL_FIELDS)
    )
    grouped = defaultdict(list)
    for row in rows:
        if row[1] == frequency[row[0]]:
            grouped[row[0]].append(row)
    by_pk = {indicator.pk: indicator for indicator in indicators}
    return {pk: pick(by_pk[pk], items).get((), []) for pk, items in grouped.items()}


def _dimension_categories(access: Access, indicators) -> dict[int, list[tuple[Any, str]]]:
    dimensions = {d.pk: d for i in indicators for d in i.dimensions.all()}
    found: dict[int, list[tuple[Any, str]]] = defaultdict(list)
    categorical = [pk for pk, d in dimensions.items() if d.kind != Dimension.Kind.GEOGRAPHY]
    if categorical:
        for category in (
            access.scope(Category)
            .filter(dimension_id__in=categorical)
            .order_by("dimension", "position", "code")
        ):
            code = dimensions[category.dimension_id].code
            found[category.dimension_id].append((category, f"{code}={category.code}"))
    geography = [d for d in dimensions.values() if d.kind == Dimension.Kind.GEOGRAPHY]
    if geography:
        areas = list(access.scope(Area).order_by("name"))
        for dimension in geography:
            found[dimension.pk] = [
                (area, f"{dimension.code}={area.code}")
                for area in areas
                if not dimension.area_kind or area.kind == dimension.area_kind
            ]
    return found


def _disaggregated(access: Access, indicators, series) -> dict[int, dict[str, list[Cell]]]:
    """The network figures of every disaggregation of each indicator in its first and
    latest periods: one query."""
    wanted = Q()
    by_pk = {}
    for indicator in indicators:
        cells = [cell for cell in series.get(indicator.pk, []) if cell.value is not None]
        if cells and indicator.dimensions.all():
            periods = {cells[0].period, cells[-1].period}
            wanted |= Q(indicator_id=indicator.pk, period__in=sorted(periods))
            by_pk[indicator.pk] = indicator
    if not by_pk:
        return {}
    rows = (
        access.scope(AnalyticsCell)
        .filter(wanted, area=None, disaggregation__gt="")
        .values_list("indicator_id", "disaggregation", *CELL_FIELDS)
    )
    grouped = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return {pk: pick(by_pk[pk], items, key=lambda row: row[1]) for pk, items in grouped.items()}


def _largest_gap(indicator, cells, dimensions, history) -> Gap | None:
    """Of every dimension of the indicator, the group furthest from its reference group
    in the latest period."""
    latest = next((cell for cell in reversed(cells) if cell.value is not None), None)
    if latest is None or not history:
        return None
    largest = None
    for dimension in indicator.dimensions.all():
        categories = dimensions.get(dimension.pk, [])
        now = {
            key: cell
            for key, items in history.items()
            for cell in items
            if cell.period == latest.period
        }
        for gap in gaps_from(indicator, categories, now, history):
            if gap.category == gap.reference or gap.diff_reference is None:
                continue
            if largest is None or abs(gap.diff_reference) > abs(largest.diff_reference):
                largest = gap
    return largest
