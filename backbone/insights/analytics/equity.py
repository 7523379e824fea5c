"""Equity gaps: each group's figure against a reference group and against the best group,
as a difference and a ratio, and whether the gap to the reference is narrowing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from backbone.core.access import Access
from backbone.insights.analytics.cells import CELL_FIELDS, PLACES, Cell, cells_of, pick, visible
from backbone.insights.analytics.progress import better
from backbone.insights.analytics.queries import _categories, dimension_of
from backbone.measurement import periods as P


@dataclass
class Gap:
    category: Any  # a Category (an Area for a geography dimension)
    value: Decimal | None
    reference: Any
    diff_reference: Decimal | None
    ratio_reference: Decimal | None
    diff_best: Decimal | None
    ratio_best: Decimal | None
    narrowing: bool | None  # vs the earliest period with data


def _ratio(value: Decimal, other: Decimal | None) -> Decimal | None:
    if not other:
        return None
    return (value / other).quantize(PLACES, ROUND_HALF_UP)


def default_reference(categories: list[tuple[Any, str]], now: dict[str, Cell]):
    """The largest group (largest denominator); without denominators, the first group
    with data in the dimension's order."""
    present = [(category, key) for category, key in categories if _value(now, key) is not None]
    if not present:
        return None
    sized = [item for item in present if now[item[1]].denominator]
    if sized:
        return max(sized, key=lambda item: now[item[1]].denominator)
    return present[0]


def _value(cells: dict[str, Cell], key: str) -> Decimal | None:
    cell = cells.get(key)
    return None if cell is None else cell.value


def gaps_from(
    subject,
    categories: list[tuple[Any, str]],
    now: dict[str, Cell],
    history: dict[str, list[Cell]],
    reference=None,
) -> list[Gap]:
    """The gaps of CATEGORIES ((category, key) pairs) from their figures NOW; HISTORY
    (each key's chronological cells) tells whether each gap is narrowing."""
    if reference is None:
        chosen = default_reference(categories, now)
    else:
        chosen = next((item for item in categories if item[0] == reference), None)
    if chosen is None or _value(now, chosen[1]) is None:
        return []
    ref_category, ref_key = chosen
    ref_value = now[ref_key].value
    values = [_value(now, key) for _, key in categories if _value(now, key) is not None]
    direction = better(subject)
    best = max(values, key=lambda value: value * direction)
    gaps = []
    for category, key in categories:
        value = _value(now, key)
        if value is None:
            continue
        gaps.append(
            Gap(
                category=category,
                value=value,
                reference=ref_category,
                diff_reference=value - ref_value,
                ratio_reference=_ratio(value, ref_value),
                diff_best=value - best,
                ratio_best=_ratio(value, best),
                narrowing=_narrowing(history, key, ref_key, now[key], value - ref_value),
            )
        )
    return gaps


def _narrowing(history, key, ref_key, now: Cell, gap_now: Decimal) -> bool | None:
    """Whether the gap to the reference is smaller now than in the earliest period in
    which both have a figure (None when there is no earlier one)."""
    reference = {cell.period: cell.value for cell in history.get(ref_key, [])}
    for cell in history.get(key, []):
        if cell.period_start >= now.period_start:
            break
        if cell.value is not None and reference.get(cell.period) is not None:
            return abs(gap_now) < abs(cell.value - reference[cell.period])
    return None


def equity_gaps(access: Access, subject, *, dimension, period=None, reference=None) -> list[Gap]:
    """The gaps between the groups of DIMENSION for the whole network in PERIOD (default:
    the latest period in which at least two groups have data). REFERENCE is a category
    (default: the largest group)."""
    if not visible(access, subject):
        return []
    dimension = dimension_of(access, dimension)
    categories = [
        (category, f"{dimension.code}={category.code}")
        for category in _categories(access, dimension)
    ]
    kind = P.parse(period).kind if period else subject.frequency
    rows = (
        cells_of(access, subject)
        .filter(area=None, period_kind=kind, disaggregation__in=[key for _, key in categories])
        .values_list("disaggregation", *CELL_FIELDS)
    )
    history = pick(subject, rows, key=lambda row: row[0])
    counts: dict[str, list] = {}
    for cells in history.values():
        for cell in cells:
            if cell.value is not None:
                counts.setdefault(cell.period, []).append(cell.period_start)
    if period is None:
        shared = [(starts[0], code) for code, starts in counts.items() if len(starts) >= 2]
        if not shared:
            return []
        period = max(shared)[1]
    now = {key: cell for key, cells in history.items() for cell in cells if cell.period == period}
    return gaps_from(subject, categories, now, history, reference)
