"""Reads for everything that leaves the network, suppressed.

Figures come from the analytics API under a *public* access of the network (approved,
population-level values only), so the public, funders and the network's own members see
the same released figures. For every public indicator and period, the network total, its
breakdown by every categorical dimension and by area form one table: suppression runs on
the whole table at once, so a cell withheld in one breakdown cannot be worked out from
another.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import Http404

from backbone.core.access import PUBLIC, Access
from backbone.core.models import Area
from backbone.insights import analytics, charts
from backbone.insights.models import AnalyticsState
from backbone.insights.suppression import FOOTNOTES, NOT_PUBLISHED, Table, suppress
from backbone.measurement import periods
from backbone.measurement.models import Dimension, Framework, Indicator, ResultNarrative

DEFAULT_K = 11
CACHE_SECONDS = 600
RELEASE_VERSION = 2  # bump when what is released changes, so cached releases are redone
SUPPRESSED = "* suppressed"
STATUS_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data",
    "suppressed": "Suppressed",
}
TREND_LABELS = {"improving": "Improving", "worsening": "Worsening", "flat": "Flat"}


def public_access(network) -> Access:
    """The network as the public sees it (whether or not the network is public)."""
    return Access(user=AnonymousUser(), network=network, role=PUBLIC)


def suppression_k(network) -> int:
    framework = Framework.objects.filter(network=network).first()
    return framework.suppression_k if framework else DEFAULT_K


def public_indicators(access: Access):
    """The public indicators, in result and life-stage order."""
    return (
        access.scope(Indicator)
        .filter(is_public=True)
        .select_related("result__life_stage")
        .prefetch_related("dimensions", "targets")
        .order_by("result__life_stage__position", "result__position", "position", "code")
    )


def public_indicator(access: Access, code: str) -> Indicator:
    """A public indicator by code; a private one is not found (404) for everyone here."""
    indicator = public_indicators(access).filter(code=code).first()
    if indicator is None:
        raise Http404("No public indicator found.")
    return indicator


@dataclass(frozen=True)
class Figure:
    """One released figure: value and terms, each None when withheld (with the reason)."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    reason: str | None = None  # why the value is withheld
    numerator_reason: str | None = None
    denominator_reason: str | None = None

    @property
    def suppressed(self) -> bool:
        return self.reason is not None

    def text(self, unit: str) -> str:
        return SUPPRESSED if self.suppressed else charts.format_value(self.value, unit)


@dataclass
class Row:
    """One released figure of an indicator: the total, a group or an area, in one period."""

    period: str
    period_start: object
    period_end: object
    figure: Figure
    dimension: Dimension | None = None
    category: object = None  # Category, or Area for the area breakdown
    is_area: bool = False

    @property
    def label(self) -> str:
        return self.category.name if self.category is not None else "All"


@dataclass
class Released:
    """Everything released about one indicator: rows for every period and the progress
    judged on released figures only."""

    indicator: Indicator
    k: int
    rows: list[Row]
    cells: list  # analytics Cells of the totals, withheld ones with value None
    progress: object = None

    def totals(self) -> list[Row]:
        return [row for row in self.rows if row.dimension is None and not row.is_area]

    @property
    def latest(self) -> Row | None:
        totals = [row for row in self.totals() if row.figure.value is not None]
        return totals[-1] if totals else None

    @property
    def latest_period(self) -> str | None:
        totals = [r for r in self.totals() if r.figure.value is not None or r.figure.suppressed]
        return totals[-1].period if totals else None

    def breakdowns(self, period: str) -> list[tuple[Dimension, list[Row]]]:
        groups: dict[int, tuple[Dimension, list[Row]]] = {}
        for row in self.rows:
            if row.period == period and row.dimension is not None:
                groups.setdefault(row.dimension.pk, (row.dimension, []))[1].append(row)
        return list(groups.values())

    def areas(self, period: str) -> list[Row]:
        return [row for row in self.rows if row.period == period and row.is_area]

    @property
    def status(self) -> str:
        latest_total = self.totals()[-1] if self.totals() else None
        if latest_total is not None and latest_total.figure.suppressed:
            return "suppressed"
        return self.progress.status if self.progress else "no_data"


def _kinds(indicator: Indicator) -> tuple[str, ...]:
    """Which figures of a cell are counts that suppression protects."""
    if indicator.formula == Indicator.Formula.RATIO:
        return ("numerator", "denominator")
    if indicator.unit == "count":
        return ("value",)
    return ()


def _add_piece(table: Table, key, cell, kinds) -> None:
    for kind in kinds:
        amount = getattr(cell, kind)
        if amount is not None:
            table.add_count((key, kind), amount)
    has_terms = cell.numerator is not None and cell.denominator is not None
    if kinds == ("numerator", "denominator") and cell.value is not None and has_terms:
        table.add_rate((key, "value"), (key, "numerator"), (key, "denominator"))


def _relate(table: Table, total_key, part_keys: list, kinds, group: str) -> None:
    """TOTAL = sum of PARTS for each count kind; what the parts do not cover is a hidden
    remainder (groups not reported), which shields the parts and, if small, is shielded."""
    for kind in kinds:
        total = table.counts.get((total_key, kind))
        if total is None:
            continue
        parts = [(key, kind) for key in part_keys if table.counts.get((key, kind)) is not None]
        if not parts:
            continue
        rest = total - sum(table.counts[part] for part in parts)
        if rest:
            parts.append(table.add_count((("rest", total_key, group), kind), rest, hidden=True))
        table.add_relation((total_key, kind), parts)


def _figure(result, key, cell, kinds) -> Figure:
    if cell is None:
        return Figure(value=None)
    if kinds != ("numerator", "denominator"):
        reason = result.reason((key, "value")) if kinds else None
        return Figure(value=None if reason else cell.value, reason=reason)
    if cell.value is not None and (cell.numerator is None or cell.denominator is None):
        # A ratio whose counts are unknown cannot be checked, so it is not released.
        return Figure(value=None, reason=NOT_PUBLISHED)
    reason = result.reason((key, "value"))
    num_reason = result.reason((key, "numerator"))
    den_reason = result.reason((key, "denominator"))
    return Figure(
        value=None if reason else cell.value,
        numerator=None if num_reason else cell.numerator,
        denominator=None if den_reason else cell.denominator,
        reason=reason,
        numerator_reason=num_reason,
        denominator_reason=den_reason,
    )


def _period_end(code: str, fiscal_start: int):
    try:
        return periods.parse(code).end(fiscal_start)
    except periods.PeriodError:
        return None


def _breakdown_areas(access: Access) -> list:
    """The areas of the area breakdown, as `_areas` chooses them (whatever the period)."""
    areas = list(access.scope(Area).filter(parent=None).order_by("name"))
    for _depth in range(4):
        if len(areas) != 1:
            break
        inside = list(access.scope(Area).filter(parent=areas[0]).order_by("name"))
        if not inside:
            break
        areas = inside
    return areas


def _stamp(indicator: Indicator, k: int, until_year: int | None, fiscal: int) -> str:
    """A cache key that changes whenever the figures could: the network's analytics were
    rebuilt or refreshed (every change of a data value refreshes them), or the indicator's
    dimensions, targets, k or the year asked for changed. Names of categories and areas
    renamed meanwhile show after CACHE_SECONDS at most."""
    # A site-level row (when the analytics last changed), read for the key only.
    state = (
        AnalyticsState.objects.filter(network_id=indicator.network_id)
        .values_list("rebuilt_at", "refreshed_at")
        .first()
    )
    parts = [
        RELEASE_VERSION,
        indicator.pk,
        indicator.formula,
        indicator.unit,
        indicator.aggregation,
        k,
        until_year,
        fiscal,
        state,
        sorted(d.pk for d in indicator.dimensions.all()),
        sorted((t.period, str(t.value)) for t in indicator.targets.all()),
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"insights-public-released:{digest}"


def release_indicator(
    indicator: Indicator, *, k: int | None = None, until_year: int | None = None
) -> Released:
    """Every released figure of INDICATOR: per period, the total, each categorical
    dimension's groups and the top-level areas, suppressed as one table. With UNTIL_YEAR,
    only periods that end by the end of that year. Cached (see `_stamp`)."""
    framework = Framework.objects.filter(network_id=indicator.network_id).first()
    k = k or (framework.suppression_k if framework else DEFAULT_K)
    fiscal = framework.fiscal_year_start_month if framework else 7
    key = _stamp(indicator, k, until_year, fiscal)
    released = cache.get(key)
    if released is None:
        released = _release(indicator, k=k, until_year=until_year, fiscal_start=fiscal)
        cache.set(key, released, CACHE_SECONDS)
    released.indicator = indicator
    return released


def _release(indicator: Indicator, *, k: int, until_year: int | None, fiscal_start: int):
    access = public_access(indicator.network)
    kinds = _kinds(indicator)
    dimensions = [d for d in indicator.dimensions.all() if d.kind == Dimension.Kind.CATEGORICAL]
    series = []
    for cell in analytics.series(access, indicator):
        period_end = _period_end(cell.period, fiscal_start)
        if until_year and (period_end is None or period_end.year > until_year):
            continue
        series.append((cell, period_end))
    codes = [cell.period for cell, _ in series]
    # Every period's breakdowns in two reads of the cells (not two per period and group).
    groups = analytics.breakdowns(access, indicator, dimensions=dimensions, periods=codes)
    areas = _breakdown_areas(access)
    by_area = analytics.by_areas(access, indicator, areas=areas, periods=codes)
    rows: list[Row] = []
    released_cells = []
    for cell, period_end in series:
        table = Table()
        pieces = [("total", cell, None, None, False)]
        _add_piece(table, "total", cell, kinds)
        for dimension in dimensions:
            group = f"dimension:{dimension.code}"
            keys = []
            for category, part in groups[dimension.pk][cell.period]:
                key = (group, category.code)
                _add_piece(table, key, part, kinds)
                pieces.append((key, part, dimension, category, False))
                keys.append(key)
            _relate(table, "total", keys, kinds, group)
        keys = []
        for area, part in by_area[cell.period]:
            key = ("area", area.code)
            _add_piece(table, key, part, kinds)
            pieces.append((key, part, None, area, True))
            keys.append(key)
        _relate(table, "total", keys, kinds, "area")
        result = suppress(table, k)
        for key, part, dimension, category, is_area in pieces:
            figure = _figure(result, key, part, kinds)
            rows.append(
                Row(
                    period=cell.period,
                    period_start=cell.period_start,
                    period_end=period_end,
                    figure=figure,
                    dimension=dimension,
                    category=category,
                    is_area=is_area,
                )
            )
            if key == "total":
                released_cells.append(
                    dataclasses.replace(
                        cell,
                        value=figure.value,
                        numerator=figure.numerator,
                        denominator=figure.denominator,
                    )
                )
    targets = {target.period: target.value for target in indicator.targets.all()}
    progress = analytics.progress(indicator, released_cells, targets=targets)
    return Released(indicator=indicator, k=k, rows=rows, cells=released_cells, progress=progress)


def release_all(access: Access, *, until_year: int | None = None) -> list[Released]:
    """Every public indicator released (periods ending by the end of UNTIL_YEAR)."""
    k = suppression_k(access.network)
    return [
        release_indicator(indicator, k=k, until_year=until_year)
        for indicator in public_indicators(access)
    ]


def narratives(access: Access, year: int) -> dict[int, ResultNarrative]:
    """The story behind the curve of each result for YEAR, by result id."""
    rows = access.scope(ResultNarrative).filter(year=year)
    return {narrative.result_id: narrative for narrative in rows}


def footnotes(k: int, reasons: Iterable[str]) -> list[str]:
    return [FOOTNOTES[reason].format(k=k) for reason in dict.fromkeys(reasons) if reason]
