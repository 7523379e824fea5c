"""Figures as the analytics API returns them, and reading them from the cell table or,
for one organization's figures, straight from its approved data values."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BigIntegerField, Count, F, Sum
from django.db.models.functions import Cast, Round

from backbone.core.access import PUBLIC, Access
from backbone.insights.analytics.build import ensure_built, fiscal_start, rollup_targets
from backbone.insights.models import SCALE, AnalyticsCell
from backbone.measurement import periods as P
from backbone.measurement.models import DataValue, Indicator, PerformanceMeasure, Unit

PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Cell:
    """One figure."""

    period: str
    period_start: datetime.date
    value: Decimal | None  # None = no data (or not aggregatable)
    numerator: Decimal | None
    denominator: Decimal | None
    sources: int  # how many reported values went into it


def subject_filter(subject) -> dict:
    if isinstance(subject, Indicator):
        return {"indicator": subject}
    if isinstance(subject, PerformanceMeasure):
        return {"measure": subject}
    raise TypeError(f"An indicator or a performance measure, not {type(subject).__name__}.")


def visible(access: Access, subject) -> bool:
    """Whether ACCESS may see SUBJECT (measures are for members only)."""
    ensure_built(access.network)
    return access.scope(type(subject)).filter(pk=subject.pk).exists()


def unit_scale(subject) -> Decimal:
    if subject.unit == Unit.PERCENT:
        return Decimal(100)
    if subject.unit == Unit.RATE:
        return Decimal(getattr(subject, "rate_per", None) or 1)
    return Decimal(1)


def _amount(scaled) -> Decimal | None:
    return None if scaled is None else (Decimal(int(scaled)) / SCALE).quantize(PLACES)


def make_cell(subject, period: str, start, value_sum, numerator_sum, denominator_sum, count):
    """A Cell from sums (in ten-thousandths), by the subject's aggregation rule: one value
    is itself; `sum` adds values; `weighted` is Σ numerators / Σ denominators (× 100 for
    percents, × the base for rates); `none` has no figure for more than one value."""
    numerator, denominator = _amount(numerator_sum), _amount(denominator_sum)
    if count == 1 or subject.aggregation == Indicator.Aggregation.SUM:
        value = _amount(value_sum)
    elif subject.aggregation == Indicator.Aggregation.WEIGHTED and denominator:
        value = (
            Decimal(int(numerator_sum)) * unit_scale(subject) / Decimal(int(denominator_sum))
        ).quantize(PLACES, ROUND_HALF_UP)
    else:
        value = None
    return Cell(period, start, value, numerator, denominator, int(count))


def empty_cell(period: str, fiscal: int = 7) -> Cell:
    return Cell(period, P.parse(period).start(fiscal), None, None, None, 0)


CELL_FIELDS = (
    "source",
    "period",
    "period_start",
    "rollup",
    "value_sum",
    "numerator_sum",
    "denominator_sum",
    "sources",
)


def pick(subject, rows, key=lambda row: ()) -> dict:
    """From cell rows (CELL_FIELDS, after any leading key fields), the figures of each key,
    chronological: population data where the key has any, else partners' data.

    Of population figures for one period, the one reported most directly wins (lowest
    rollup: a figure reported for an area or period over the sum of its parts). Partners'
    figures are each partner's own, so a partner reporting for the whole network and one
    reporting for an area add up; only a reported period wins over a summed one."""
    by_key: dict = defaultdict(dict)
    for row in rows:
        by_key[key(row)].setdefault(row[-8], []).append(row[-7:])
    result = {}
    for group, sources in by_key.items():
        partners = "population" not in sources
        chosen = sources.get("population") or sources.get("partners") or []
        tiers: dict[str, dict] = defaultdict(dict)
        for period, start, rollup, *sums in chosen:
            tier = rollup // 2 if partners else rollup
            tiers[period].setdefault(tier, []).append((start, sums))
        cells = []
        for period, by_tier in tiers.items():
            items = by_tier[min(by_tier)]
            cells.append(make_cell(subject, period, items[0][0], *add_sums(s for _, s in items)))
        result[group] = sorted(cells, key=lambda cell: (cell.period_start, cell.period))
    return result


def add_sums(items) -> list:
    """Add [value, numerator, denominator, count] sums, keeping None where all are None."""
    total = [None, None, None, 0]
    for item in items:
        for index, amount in enumerate(item):
            if amount is not None:
                total[index] = amount if total[index] is None else total[index] + amount
    return total


def cells_of(access: Access, subject):
    return access.scope(AnalyticsCell).filter(**subject_filter(subject))


# An organization's own figures, from its approved values --------------------------------


def _scaled(field: str):
    return Sum(Cast(Round(F(field) * SCALE), BigIntegerField()))


def organization_cells(
    access: Access,
    subject,
    *,
    key: str,
    organizations=None,
    area_ids: list[int] | None = None,
    area=None,
    periods: list[str] | None = None,
    period_kind: str | None = None,
) -> dict[int, list[Cell]]:
    """Each organization's figures, summed over its approved values in the areas
    AREA_IDS (None: everywhere), by period, with the same period roll-ups as the cells.
    Not aggregatable subjects: only the value reported for exactly AREA."""
    if access.role == PUBLIC:
        return {}
    values = access.scope(DataValue).filter(
        **subject_filter(subject),
        status=DataValue.Status.APPROVED,
        organization__isnull=False,
        disaggregation=key,
    )
    if organizations is not None:
        values = values.filter(organization__in=organizations)
    none = subject.aggregation == Indicator.Aggregation.NONE
    if none:
        values = values.filter(area=area)
    elif area_ids is not None:
        values = values.filter(area_id__in=area_ids)
    fiscal = fiscal_start(access.network.pk)
    if periods is not None:
        wanted = set(periods)
        sources = set(periods)
        if not none:
            sources |= _sources_of(wanted, subject.frequency, access.network.pk)
        values = values.filter(period__in=sorted(sources))
    rows = (
        values.order_by()
        .values_list("organization_id", "period")
        .annotate(
            v=_scaled("value"), n=_scaled("numerator"), d=_scaled("denominator"), c=Count("pk")
        )
    )
    sums: dict = defaultdict(lambda: [0, None, None, 0])
    for organization_id, period, v, n, d, c in rows:
        try:
            parsed = P.parse(period)
        except P.PeriodError:
            continue
        targets = [(period, 0)]
        if not none and parsed.kind == subject.frequency:
            targets += [(t.code, 2) for t in rollup_targets(parsed, fiscal)]
        for code, rollup in targets:
            item = sums[(organization_id, code, rollup)]
            item[0] += v or 0
            item[1] = n if item[1] is None else item[1] + (n or 0)
            item[2] = d if item[2] is None else item[2] + (d or 0)
            item[3] += c
    best: dict = {}
    for (organization_id, code, rollup), item in sums.items():
        if periods is not None and code not in wanted:
            continue
        if period_kind is not None and P.parse(code).kind != period_kind:
            continue
        current = best.get((organization_id, code))
        if current is None or rollup < current[0]:
            best[(organization_id, code)] = (rollup, item)
    result: dict[int, list[Cell]] = defaultdict(list)
    for (organization_id, code), (_, item) in best.items():
        start = P.parse(code).start(fiscal)
        result[organization_id].append(make_cell(subject, code, start, *item))
    for cells in result.values():
        cells.sort(key=lambda cell: (cell.period_start, cell.period))
    return dict(result)


def _sources_of(targets: set[str], frequency: str, network_id: int) -> set[str]:
    from backbone.insights.models import AnalyticsPeriod

    return set(
        AnalyticsPeriod.objects.filter(network_id=network_id, target__in=targets).values_list(
            "source", flat=True
        )
    )
