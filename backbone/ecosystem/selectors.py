"""Reads of the ecosystem map: services by life stage × need category × area, gaps and
redundancy.

Every query starts from the access's scope, so the public of a public network sees the
counts of the (public) directory only, and the indicator values the public may see.

Where a service counts (the rule, also in docs/ecosystem.md):

1. its residency areas (eligibility) and its HSDS service areas whose name or code is a
   network area's; else
2. the areas of its locations: an address's postal code that is a network area's code
   (the ZIP areas).

Each such area counts toward the area of the chosen kind above it (a ZIP in its
county), or, for an area larger than the chosen kind (a state-wide service on a county
map), toward every area of that kind inside it. A service without life stages serves
every life stage. Only active services count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from backbone.core.access import PUBLIC, Access
from backbone.core.models import Area, LifeStage
from backbone.directory.models import (
    Address,
    Attribute,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
)
from backbone.directory.taxonomy import TAXONOMY_ID
from backbone.ecosystem.models import NeedIndicator
from backbone.measurement.models import DataValue, Polarity

EVERYONE_LABEL = "Everyone (no population named)"
SUPPLY_FLOOR = 0.1  # an empty cell scores as if it had a tenth of the network's supply
NEED_RANGE = (0.25, 4.0)
DEFAULT_GAP_THRESHOLD = 1.5
DEFAULT_REDUNDANCY_MIN = 3
DECLINE_DAYS = 365  # capacity declines of the last year raise a cell's gap score


@dataclass(frozen=True)
class Category:
    code: str
    name: str


@dataclass
class Need:
    ratio: float
    words: str
    indicator: str = ""
    area_value: Decimal | None = None
    network_value: Decimal | None = None


@dataclass
class Cell:
    life_stage: LifeStage | None  # None: all life stages together
    category: Category
    area: Area
    service_ids: set[int] = field(default_factory=set)
    provider_ids: set[int] = field(default_factory=set)
    capacity: dict[str, Decimal] = field(default_factory=dict)
    rate: float | None = None  # services per 1,000 residents
    network_rate: float | None = None
    supply_ratio: float | None = None
    need: Need | None = None
    score: float | None = None
    explanation: str = ""
    # Referrals of people of this area to services of this category and life stage in the
    # last DECLINE_DAYS, and how many were declined for no capacity (members only).
    referrals_received: int = 0
    capacity_declines: int = 0
    capacity_declines_text: str = ""

    @property
    def services(self) -> int:
        return len(self.service_ids)

    @property
    def providers(self) -> int:
        return len(self.provider_ids)

    @property
    def capacity_text(self) -> str:
        return "; ".join(f"{_number(v)} {unit}" for unit, v in sorted(self.capacity.items()))


@dataclass
class Redundancy:
    life_stage: LifeStage | None
    category: Category
    area: Area
    population: str
    providers: list[str]
    services: list[str]


@dataclass
class EcosystemMap:
    area_kind: str
    areas: list[Area]
    categories: list[Category]
    life_stages: list[LifeStage]
    cells: list[Cell]
    placed_services: int
    unplaced_services: int
    facts: _Facts | None = field(default=None, repr=False)

    def absent(self) -> list[tuple[LifeStage | None, Category]]:
        """Life stage × category pairs that no area of the network offers."""
        pairs = {
            (c.life_stage.pk if c.life_stage else None, c.category.code): (c.life_stage, c.category)
            for c in self.cells
            if c.network_rate == 0
        }
        return [pairs[key] for key in sorted(pairs, key=lambda k: (k[0] or 0, k[1]))]

    def grid(self) -> list[tuple[Area, list[Cell]]]:
        """Rows of the heatmap: one per area, one cell per category, in order."""
        by_key = {(c.area.pk, c.category.code): c for c in self.cells}
        return [(a, [by_key[(a.pk, cat.code)] for cat in self.categories]) for a in self.areas]


def _number(value) -> str:
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def need_categories(access: Access) -> list[Category]:
    """The top-level need categories of the starter taxonomy in the network's directory."""
    rows = (
        access.scope(TaxonomyTerm)
        .filter(taxonomy__hsds_id=TAXONOMY_ID, parent_id__isnull=True)
        .exclude(code=None)
        .values_list("code", "name")
        .order_by("code")
    )
    return [Category(code, name or code) for code, name in rows]


@dataclass
class _Facts:
    """What the map needs of the directory, loaded in a fixed number of queries."""

    categories: list[Category]
    stages: list[LifeStage]
    areas: dict[int, Area]
    provider_of: dict[int, int | None]
    name_of: dict[int, str]
    provider_names: dict[int, str]
    populations: dict[int, list[str]]
    categories_of: dict[int, set[str]]
    stages_of: dict[int, set[int]]
    places_of: dict[int, set[int]]
    capacity_of: dict[int, tuple[Decimal, str]]


def _load(access: Access) -> _Facts:
    categories = need_categories(access)
    top_codes = {c.code for c in categories}
    terms = access.scope(TaxonomyTerm).filter(taxonomy__hsds_id=TAXONOMY_ID)
    term_top = {}
    term_rows = {
        str(h): (code, parent)
        for h, code, parent in terms.values_list("hsds_id", "code", "parent_id")
    }
    for hsds_id, (code, _parent) in term_rows.items():
        node, seen = hsds_id, set()
        while node in term_rows and term_rows[node][1] and node not in seen:
            seen.add(node)
            node = term_rows[node][1]
        top = term_rows.get(node, (code, None))[0]
        if top in top_codes:
            term_top[hsds_id] = top

    services = access.scope(Service).filter(status="active")
    rows = list(
        services.values_list(
            "pk", "hsds_id", "name", "organization_id", "organization__name", "populations_served"
        )
    )
    provider_of, name_of, provider_names, populations, by_hsds = {}, {}, {}, {}, {}
    for pk, hsds_id, name, org_id, org_name, served in rows:
        provider_of[pk] = org_id
        name_of[pk] = name or ""
        if org_id:
            provider_names[org_id] = org_name or ""
        populations[pk] = [p for p in (served or []) if isinstance(p, str) and p.strip()]
        by_hsds[str(hsds_id)] = pk

    categories_of: dict[int, set[str]] = defaultdict(set)
    attributes = (
        access.scope(Attribute)
        .filter(link_entity="service", taxonomy_term__in=terms)
        .values_list("link_id", "taxonomy_term__hsds_id")
    )
    for link_id, term_hsds in attributes:
        pk = by_hsds.get(str(link_id))
        top = term_top.get(str(term_hsds))
        if pk is not None and top:
            categories_of[pk].add(top)

    stages = list(access.scope(LifeStage).order_by("position", "pk"))
    stages_of: dict[int, set[int]] = defaultdict(set)
    through = Service.life_stages.through.objects.filter(service__in=services)
    for service_id, stage_id in through.values_list("service_id", "lifestage_id"):
        stages_of[service_id].add(stage_id)

    areas = {a.pk: a for a in access.scope(Area)}
    by_code = {a.code.lower(): a.pk for a in areas.values()}
    by_name = {a.name.lower(): a.pk for a in areas.values()}
    places_of: dict[int, set[int]] = defaultdict(set)
    residency = Service.residency_areas.through.objects.filter(service__in=services)
    for service_id, area_id in residency.values_list("service_id", "area_id"):
        places_of[service_id].add(area_id)
    service_areas = access.scope(ServiceArea).filter(service__in=services)
    for service_id, data in service_areas.values_list("service_id", "data"):
        label = str((data or {}).get("name") or "").strip().lower()
        area_id = by_code.get(label) or by_name.get(label)
        if area_id:
            places_of[service_id].add(area_id)
    postal = {}
    for location_id, data in access.scope(Address).values_list("location_id", "data"):
        code = str((data or {}).get("postal_code") or "").strip().lower()
        if code in by_code:
            postal.setdefault(location_id, set()).add(by_code[code])
    links = access.scope(ServiceAtLocation).filter(service__in=services)
    located: dict[int, set[int]] = defaultdict(set)
    for service_id, location_id in links.values_list("service_id", "location_id"):
        located[service_id] |= postal.get(location_id, set())
    for service_id, area_ids in located.items():
        if not places_of.get(service_id):
            places_of[service_id] = set(area_ids)

    capacity_of = {}
    capacities = (
        access.scope(ServiceCapacity).filter(service__in=services).order_by("updated", "pk")
    )
    for service_id, available, unit in capacities.values_list("service_id", "available", "unit"):
        capacity_of[service_id] = (available, unit)  # the latest wins

    return _Facts(
        categories,
        stages,
        areas,
        provider_of,
        name_of,
        provider_names,
        populations,
        categories_of,
        stages_of,
        places_of,
        capacity_of,
    )


def _areas_of_kind(areas: dict[int, Area], kind: str) -> dict[int, set[int]]:
    """Area id -> the areas of KIND it counts toward (itself, its ancestor or its
    descendants of that kind)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for area in areas.values():
        children[area.parent_id].append(area.pk)
    out: dict[int, set[int]] = {}
    for pk, area in areas.items():
        node, seen = area, set()
        while node is not None and node.kind != kind and node.pk not in seen:
            seen.add(node.pk)
            node = areas.get(node.parent_id) if node.parent_id else None
        if node is not None and node.kind == kind:
            out[pk] = {node.pk}
            continue
        found, stack, seen = set(), list(children.get(pk, [])), set()
        while stack:
            child = stack.pop()
            if child in seen:
                continue
            seen.add(child)
            if areas[child].kind == kind:
                found.add(child)
            else:
                stack.extend(children.get(child, []))
        out[pk] = found
    return out


def ecosystem_map(
    access: Access,
    *,
    area_kind: str = Area.Kind.COUNTY,
    life_stage_id: int | None = None,
    category: str = "",
    by_life_stage: bool = False,
) -> EcosystemMap:
    """The cells of the map for AREA_KIND, with supply, need and gap score.

    LIFE_STAGE_ID narrows to one life stage; without it, one cell per area and category
    counts each service once, or, with BY_LIFE_STAGE, one cell per life stage as well."""
    facts = _load(access)
    categories = [c for c in facts.categories if not category or c.code == category]
    stages = [s for s in facts.stages if life_stage_id is None or s.pk == life_stage_id]
    areas = sorted(
        (a for a in facts.areas.values() if a.kind == area_kind), key=lambda a: (a.name, a.code)
    )
    toward = _areas_of_kind(facts.areas, area_kind)
    all_stage_ids = {s.pk for s in facts.stages}
    stage_keys: list[LifeStage | None] = stages if (life_stage_id or by_life_stage) else [None]
    cells = {
        (stage.pk if stage else None, cat.code, area.pk): Cell(stage, cat, area)
        for stage in stage_keys
        for cat in categories
        for area in areas
    }
    placed = unplaced = 0
    wanted_codes = {c.code for c in categories}
    for service_id, provider_id in facts.provider_of.items():
        targets = set()
        for area_id in facts.places_of.get(service_id, ()):
            targets |= toward.get(area_id, set())
        if not targets:
            unplaced += 1
            continue
        placed += 1
        codes = facts.categories_of.get(service_id, set()) & wanted_codes
        served = facts.stages_of.get(service_id) or all_stage_ids
        keys = [s.pk if s else None for s in stage_keys if s is None or s.pk in served]
        if life_stage_id is None and not by_life_stage:
            keys = [None]
        capacity = facts.capacity_of.get(service_id)
        for key in keys:
            for code in codes:
                for area_id in targets:
                    cell = cells[(key, code, area_id)]
                    cell.service_ids.add(service_id)
                    if provider_id:
                        cell.provider_ids.add(provider_id)
                    if capacity:
                        amount, unit = capacity
                        cell.capacity[unit] = cell.capacity.get(unit, Decimal(0)) + amount
    result = EcosystemMap(
        area_kind, areas, categories, facts.stages, list(cells.values()), placed, unplaced, facts
    )
    _add_capacity_declines(access, result, cells, toward, stage_keys, wanted_codes)
    _score(access, result)
    return result


def _add_capacity_declines(access, result, cells, toward, stage_keys, wanted_codes) -> None:
    """Count, per cell, the referrals of the last year to its category's services from
    people of its area, and those declined for no capacity. A referral counts where the
    person is (the referral's area, else the person's), or, with neither known, in the
    areas the service serves. The public sees the directory only."""
    if access.role == PUBLIC:
        return
    import datetime

    from django.utils import timezone

    from backbone.referrals.network_metrics import capacity_declines, suppression_k

    since = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    since -= datetime.timedelta(days=DECLINE_DAYS)
    found = capacity_declines(access.network.pk, since=since)
    if not found:
        return
    facts = result.facts
    all_stage_ids = {s.pk for s in facts.stages}
    whole_map = not any(stage_keys) if stage_keys else True
    touched = set()
    for (service_id, area_id), (received, declined) in found.items():
        codes = facts.categories_of.get(service_id, set()) & wanted_codes
        if not codes:
            continue
        if area_id is not None:
            targets = toward.get(area_id, set())
        else:
            targets = set()
            for place in facts.places_of.get(service_id, ()):
                targets |= toward.get(place, set())
        served = facts.stages_of.get(service_id) or all_stage_ids
        keys = [None] if whole_map else [s.pk for s in stage_keys if s and s.pk in served]
        for key in keys:
            for code in codes:
                for target in targets:
                    cell = cells.get((key, code, target))
                    if cell is not None:
                        cell.referrals_received += received
                        cell.capacity_declines += declined
                        touched.add(id(cell))
    k = suppression_k(access.network)
    for cell in result.cells:
        if id(cell) in touched and cell.capacity_declines:
            small = cell.capacity_declines < k
            cell.capacity_declines_text = (
                f"fewer than {k}" if small else f"{cell.capacity_declines:,}"
            )


def _latest_values(access: Access, indicator_ids: set[int]) -> dict[tuple[int, int | None], tuple]:
    """(indicator, area or None) -> (value, period) of the latest approved total value."""
    values = access.scope(DataValue).filter(
        indicator_id__in=indicator_ids,
        status=DataValue.Status.APPROVED,
        organization__isnull=True,
        disaggregation="",
    )
    if access.role == PUBLIC:
        values = values.filter(indicator__is_public=True)
    latest = {}
    rows = values.order_by("period_end", "pk").values_list(
        "indicator_id", "area_id", "value", "period"
    )
    for indicator_id, area_id, value, period in rows:
        latest[(indicator_id, area_id)] = (value, period)
    return latest


def _format(value: Decimal, unit: str) -> str:
    text = _number(value)
    return f"{text}%" if unit == "percent" else text


def _score(access: Access, result: EcosystemMap) -> None:
    """Supply per 1,000 residents against the network's, need against the network's."""
    mappings = {
        (m.category, m.life_stage_id): m.indicator
        for m in access.scope(NeedIndicator).select_related("indicator")
    }
    latest = _latest_values(access, {i.pk for i in mappings.values()})
    areas = {a.pk: a for a in access.scope(Area)}
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for cell in result.cells:
        groups[(cell.life_stage.pk if cell.life_stage else None, cell.category.code)].append(cell)
    for (stage_id, code), cells in groups.items():
        populated = [c for c in cells if c.area.population]
        people = sum(c.area.population for c in populated)
        supply = sum(c.services for c in populated)
        network_rate = 1000 * supply / people if people else None
        indicator = mappings.get((code, stage_id)) or mappings.get((code, None))
        network_value = None
        if indicator:
            network_value = _network_value(indicator, latest, populated)
        for cell in cells:
            cell.network_rate = network_rate
            if not cell.area.population or network_rate is None:
                cell.explanation = "No population recorded for this area: no score."
                continue
            if not network_rate:
                # Offered nowhere: a question for the network, not a gap of one area.
                cell.explanation = "Not offered in any area of the network: no score."
                continue
            cell.rate = 1000 * cell.services / cell.area.population
            cell.supply_ratio = cell.rate / network_rate if network_rate else 0.0
            cell.need = _need(indicator, latest, cell.area, areas, network_value)
            cell.score = cell.need.ratio / max(cell.supply_ratio, SUPPLY_FLOOR)
            cell.explanation = _explain(cell)
            if cell.capacity_declines:
                _raise_for_declines(cell)


def _network_value(indicator, latest, populated: list[Cell]) -> Decimal | None:
    if (indicator.pk, None) in latest:
        return latest[(indicator.pk, None)][0]
    pairs = [
        (latest[(indicator.pk, c.area.pk)][0], c.area.population)
        for c in populated
        if (indicator.pk, c.area.pk) in latest
    ]
    weight = sum(p for _, p in pairs)
    if not weight:
        return None
    return sum(v * p for v, p in pairs) / weight


def _need(indicator, latest, area: Area, areas: dict[int, Area], network_value) -> Need:
    if indicator is None:
        return Need(1.0, "no need indicator is set for this category: supply per person only")
    node, value, seen = area, None, set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        if (indicator.pk, node.pk) in latest:
            value = latest[(indicator.pk, node.pk)][0]
            break
        node = areas.get(node.parent_id) if node.parent_id else None
    if value is None or network_value is None:
        return Need(
            1.0, f"no approved value of {indicator.name} for this area: supply per person only"
        )
    low, high = NEED_RANGE
    if indicator.polarity == Polarity.LOWER:
        ratio = float(value) / float(network_value) if network_value else high
    else:
        ratio = float(network_value) / float(value) if value else high
    ratio = min(max(ratio, low), high)
    level = "High" if ratio > 1.05 else "Low" if ratio < 0.95 else "Average"
    direction = "lower" if indicator.polarity == Polarity.LOWER else "higher"
    words = (
        f"{level} need: {indicator.name} {_format(value, indicator.unit)} vs network "
        f"{_format(network_value, indicator.unit)} ({direction} is better)"
    )
    return Need(ratio, words, indicator.name, value, network_value)


def _rate(value: float) -> str:
    """Two decimals, or two significant digits for the small rates of large areas."""
    if value == 0 or value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.2g}"


def _explain(cell: Cell) -> str:
    level = (
        "no supply"
        if cell.services == 0
        else "low supply"
        if cell.supply_ratio < 0.95
        else "high supply"
        if cell.supply_ratio > 1.05
        else "average supply"
    )
    need = cell.need.words
    need = need[0].upper() + need[1:]
    return (
        f"{need}; {level}: {_rate(cell.rate)} services per 1,000 residents vs "
        f"{_rate(cell.network_rate)} network-wide. Score = need {cell.need.ratio:.2f} ÷ supply "
        f"{max(cell.supply_ratio, SUPPLY_FLOOR):.2f} = {cell.score:.1f}."
    )


def decline_factor(cell: Cell) -> float:
    """1 + the share of the cell's referrals declined for no capacity (1 to 2)."""
    if not cell.referrals_received:
        return 1.0
    return 1.0 + min(cell.capacity_declines / cell.referrals_received, 1.0)


def _raise_for_declines(cell: Cell) -> None:
    factor = decline_factor(cell)
    share = cell.capacity_declines / cell.referrals_received if cell.referrals_received else 0
    before = cell.score
    cell.score = before * factor
    declines = cell.capacity_declines_text or str(cell.capacity_declines)
    # A withheld count reads "fewer than 11 referrals", whatever the count behind it.
    plural = bool(cell.capacity_declines_text) or cell.capacity_declines != 1
    cell.explanation += (
        f" Unmet demand: {declines} referral{'s' * plural} of people "
        f"here declined for no capacity in the last year ({share:.0%} of those referred), so "
        f"the score is raised × {factor:.2f} to {cell.score:.1f}."
    )


def ecosystem_gaps(emap: EcosystemMap, *, threshold: float = DEFAULT_GAP_THRESHOLD) -> list[Cell]:
    """Cells whose gap score reaches THRESHOLD, the largest first."""
    gaps = [c for c in emap.cells if c.score is not None and c.score >= threshold]
    return sorted(gaps, key=lambda c: (-c.score, c.area.name, c.category.code))


@dataclass
class GapRow:
    """Gaps that differ only by life stage, read as one row: the same area and category,
    score, services, declines and explanation."""

    cell: Cell  # the first of them
    life_stages: list[LifeStage | None]


def gap_rows(gaps: list[Cell]) -> list[GapRow]:
    """GAPS (largest first) with the cells that differ only by life stage merged into one
    row, its life stages in the network's order. The rows keep the order of their largest
    cell."""
    rows: dict[tuple, GapRow] = {}
    for cell in gaps:
        key = (
            cell.area.pk,
            cell.category.code,
            round(cell.score, 1),
            cell.services,
            cell.capacity_declines_text or cell.capacity_declines,
            cell.explanation,
        )
        if key in rows:
            rows[key].life_stages.append(cell.life_stage)
        else:
            rows[key] = GapRow(cell, [cell.life_stage])
    for row in rows.values():
        row.life_stages.sort(key=lambda s: (s.position, s.pk) if s else (-1, 0))
    return list(rows.values())


def ecosystem_redundancy(
    access: Access,
    *,
    area_kind: str = Area.Kind.COUNTY,
    life_stage_id: int | None = None,
    category: str = "",
    minimum: int = DEFAULT_REDUNDANCY_MIN,
) -> list[Redundancy]:
    """Life stage × category × area × population served by MINIMUM providers or more."""
    emap = ecosystem_map(
        access,
        area_kind=area_kind,
        life_stage_id=life_stage_id,
        category=category,
        by_life_stage=True,
    )
    facts = emap.facts
    found = []
    for cell in emap.cells:
        if cell.providers < minimum:
            continue
        by_population: dict[str, set[int]] = defaultdict(set)
        for service_id in cell.service_ids:
            for population in facts.populations.get(service_id) or [EVERYONE_LABEL]:
                by_population[population].add(service_id)
        for population, service_ids in sorted(by_population.items()):
            providers = {facts.provider_of[s] for s in service_ids if facts.provider_of[s]}
            if len(providers) < minimum:
                continue
            found.append(
                Redundancy(
                    cell.life_stage,
                    cell.category,
                    cell.area,
                    population,
                    sorted(facts.provider_names[p] for p in providers),
                    sorted(facts.name_of[s] for s in service_ids),
                )
            )
    return sorted(
        found,
        key=lambda r: (-len(r.providers), r.area.name, r.category.code, r.population),
    )
