"""Figures at any level: a series over time, a breakdown by one dimension, every area
below one, every organization. Network and area figures come from the cell table (a
handful of indexed reads); one organization's figures from its approved values."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from backbone.core.access import Access
from backbone.core.models import Area, Organization
from backbone.insights.analytics.build import fiscal_start
from backbone.insights.analytics.cells import (
    CELL_FIELDS,
    PLACES,
    Cell,
    cells_of,
    empty_cell,
    organization_cells,
    pick,
    visible,
)
from backbone.measurement.data_file import disaggregation_key
from backbone.measurement.models import Category, Dimension, Indicator


def _descendants(access: Access, parent) -> list[int]:
    """The areas inside PARENT (all the network's areas when PARENT is None)."""
    children: dict = {}
    for pk, parent_id in access.scope(Area).values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    if parent is None:
        return [pk for ids in children.values() for pk in ids]
    found, todo = [], [parent.pk]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def series(
    access: Access,
    subject,
    *,
    organization=None,
    area=None,
    categories: dict | None = None,
    period_kind: str | None = None,
) -> list[Cell]:
    """The figures of SUBJECT over time (chronological), for the network, an AREA (with
    everything inside it) or one ORGANIZATION, in one disaggregation (None: the total),
    in periods of PERIOD_KIND (default: the subject's frequency)."""
    if not visible(access, subject):
        return []
    key = disaggregation_key(categories) if categories else ""
    kind = period_kind or subject.frequency
    if organization is not None:
        area_ids = None if area is None else [area.pk, *_descendants(access, area)]
        found = organization_cells(
            access,
            subject,
            key=key,
            organizations=[organization],
            area_ids=area_ids,
            area=area,
            period_kind=kind,
        )
        return found.get(organization.pk, [])
    rows = (
        cells_of(access, subject)
        .filter(area=area, disaggregation=key, period_kind=kind)
        .values_list(*CELL_FIELDS)
    )
    return pick(subject, rows).get((), [])


def _categories(access: Access, dimension) -> list:
    if dimension.kind == Dimension.Kind.GEOGRAPHY:
        areas = access.scope(Area)
        if dimension.area_kind:
            areas = areas.filter(kind=dimension.area_kind)
        return list(areas.order_by("name"))
    return list(access.scope(Category).filter(dimension=dimension).order_by("position", "code"))


def dimension_of(access: Access, dimension) -> Dimension:
    if isinstance(dimension, Dimension):
        return dimension
    return access.get_object(Dimension, code=dimension)


def breakdown(
    access: Access, subject, *, dimension, period: str, organization=None, area=None
) -> list[tuple[Category, Cell]]:
    """SUBJECT in PERIOD for each category of DIMENSION (a Dimension or its code; for a
    geography dimension the categories are Areas), in the dimension's order; a category
    without data has a Cell whose value is None."""
    if not visible(access, subject):
        return []
    dimension = dimension_of(access, dimension)
    categories = _categories(access, dimension)
    keys = {f"{dimension.code}={category.code}": category for category in categories}
    if organization is not None:
        area_ids = None if area is None else [area.pk, *_descendants(access, area)]
        found = {
            key: organization_cells(
                access,
                subject,
                key=key,
                organizations=[organization],
                area_ids=area_ids,
                area=area,
                periods=[period],
            ).get(organization.pk, [])
            for key in keys
        }
    else:
        rows = (
            cells_of(access, subject)
            .filter(area=area, period=period, disaggregation__in=list(keys))
            .values_list("disaggregation", *CELL_FIELDS)
        )
        found = pick(subject, rows, key=lambda row: row[0])
    fiscal = fiscal_start(access.network.pk)
    return [
        (category, (found.get(key) or [empty_cell(period, fiscal)])[0])
        for key, category in keys.items()
    ]


def breakdowns(
    access: Access, subject, *, dimensions: list, periods: list[str]
) -> dict[int, dict[str, list[tuple[Category, Cell]]]]:
    """`breakdown` of the network figures for each of DIMENSIONS and PERIODS at once, in one
    read of the cells: {dimension pk: {period: [(category, cell), ...]}}."""
    fiscal = fiscal_start(access.network.pk)
    found: dict = {}
    if not visible(access, subject):
        return {d.pk: {period: [] for period in periods} for d in dimensions}
    by_dimension = []
    for dimension in dimensions:
        categories = _categories(access, dimension)
        keys = {f"{dimension.code}={category.code}": category for category in categories}
        by_dimension.append((dimension, keys))
    wanted = [key for _, keys in by_dimension for key in keys]
    if wanted and periods:
        rows = (
            cells_of(access, subject)
            .filter(area=None, period__in=list(periods), disaggregation__in=wanted)
            .values_list("disaggregation", *CELL_FIELDS)
        )
        # Keyed by group and period, so each period chooses its source as `breakdown` does.
        found = pick(subject, rows, key=lambda row: (row[0], row[2]))
    return {
        dimension.pk: {
            period: [
                (category, (found.get((key, period)) or [empty_cell(period, fiscal)])[0])
                for key, category in keys.items()
            ]
            for period in periods
        }
        for dimension, keys in by_dimension
    }


def by_areas(
    access: Access, subject, *, areas: list, periods: list[str]
) -> dict[str, list[tuple[Area, Cell]]]:
    """The figures of each of AREAS in each of PERIODS, in one read of the cells:
    {period: [(area, cell), ...]} (a Cell whose value is None where there is no data)."""
    fiscal = fiscal_start(access.network.pk)
    found: dict = {}
    if areas and periods and visible(access, subject):
        rows = (
            cells_of(access, subject)
            .filter(area__in=[a.pk for a in areas], disaggregation="", period__in=list(periods))
            .values_list("area_id", *CELL_FIELDS)
        )
        found = pick(subject, rows, key=lambda row: (row[0], row[2]))
    return {
        period: [
            (area, (found.get((area.pk, period)) or [empty_cell(period, fiscal)])[0])
            for area in areas
        ]
        for period in periods
    }


def by_area(
    access: Access, subject, *, period: str, parent=None, area_kind: str | None = None
) -> list[tuple[Area, Cell]]:
    """SUBJECT in PERIOD for each area directly inside PARENT (None: the top areas) or,
    with AREA_KIND, each area of that kind inside PARENT, summed through the hierarchy.
    Areas without data have a Cell whose value is None."""
    if not visible(access, subject):
        return []
    areas = access.scope(Area)
    if area_kind:
        areas = areas.filter(kind=area_kind)
        if parent is not None:
            areas = areas.filter(pk__in=_descendants(access, parent))
    else:
        areas = areas.filter(parent=parent)
    areas = list(areas.order_by("name"))
    rows = (
        cells_of(access, subject)
        .filter(area__in=[a.pk for a in areas], disaggregation="", period=period)
        .values_list("area_id", *CELL_FIELDS)
    )
    found = pick(subject, rows, key=lambda row: row[0])
    fiscal = fiscal_start(access.network.pk)
    return [(a, (found.get(a.pk) or [empty_cell(period, fiscal)])[0]) for a in areas]


def by_organization(
    access: Access, subject, *, period: str, area=None
) -> list[tuple[Organization, Cell, Decimal | None]]:
    """Each organization's figure of SUBJECT in PERIOD (in AREA and the areas inside it),
    largest first, with its share of the partners' total: of the total value for sums,
    of the total numerator for weighted ratios, none for subjects not aggregatable."""
    if not visible(access, subject):
        return []
    area_ids = None if area is None else [area.pk, *_descendants(access, area)]
    found = organization_cells(
        access, subject, key="", area_ids=area_ids, area=area, periods=[period]
    )
    if not found:
        return []
    organizations = access.scope(Organization).in_bulk(list(found))
    rows = [(organizations[pk], cells[0]) for pk, cells in found.items() if pk in organizations]
    partners = (
        cells_of(access, subject)
        .filter(area=area, disaggregation="", period=period, source="partners")
        .values_list(*CELL_FIELDS)
    )
    total = (pick(subject, partners).get(()) or [None])[0]
    weighted = subject.aggregation == Indicator.Aggregation.WEIGHTED

    def share(cell: Cell) -> Decimal | None:
        if total is None or subject.aggregation == Indicator.Aggregation.NONE:
            return None
        whole, part = (total.numerator, cell.numerator) if weighted else (total.value, cell.value)
        if not whole or part is None:
            return None
        return (part / whole).quantize(PLACES, ROUND_HALF_UP)

    rows.sort(key=lambda item: (item[1].value is None, -(item[1].value or 0), item[0].name))
    return [(organization, cell, share(cell)) for organization, cell in rows]
