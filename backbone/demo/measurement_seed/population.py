"""Population data: cohorts per area, disaggregated, summed from leaves upward."""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from backbone.core.models import Area
from backbone.demo.measurement_seed.common import (
    BASELINE_YEAR,
    PLACES,
    SEED,
    TARGET_YEAR,
    TODAY,
    YEARS,
    cell_rate,
    indicator_period,
    ratio_value,
    value_state,
    write_values,
)
from backbone.measurement.models import (
    DataValue,
    Indicator,
    IndicatorTarget,
    Unit,
)

# (code, share of children, offset as a multiple of the Black–White gap; + = better off)
RACE = (
    ("american-indian-alaska-native", 0.010, -0.55),
    ("asian", 0.055, 0.45),
    ("black-african-american", 0.160, -0.60),
    ("hispanic-latino", 0.220, -0.45),
    ("middle-eastern-north-african", 0.012, 0.0),
    ("native-hawaiian-pacific-islander", 0.004, -0.35),
    ("white", 0.470, 0.40),
    ("multiracial", 0.050, 0.0),
    ("not-reported", 0.019, -0.10),
)
# (code, share, offset as a multiple of the female–male difference)
GENDER = (
    ("female", 0.487, 0.5),
    ("male", 0.503, -0.5),
    ("another-gender", 0.004, -0.6),
    ("not-reported", 0.006, 0.0),
)
# (code, share, offset as a multiple of the gap between 200%+ and below 100% of poverty)
INCOME = (
    ("below-100-fpl", 0.19, -0.55),
    ("100-199-fpl", 0.22, -0.15),
    ("200-plus-fpl", 0.51, 0.45),
    ("not-reported", 0.08, -0.10),
)
DIMENSIONS = {"race-ethnicity": RACE, "gender": GENDER, "income-band": INCOME}


@dataclass(frozen=True)
class Profile:
    """How one indicator behaves across the network."""

    rates: tuple  # the network's rate per year, 2019 .. 2025; None = no data that year
    gap: tuple[float, float]  # Black–White gap in the first and last year with data
    income_gap: tuple[float, float]  # 200%+ of poverty vs below 100%, first and last year
    gender_edge: float  # how much better girls do than boys (negative: worse)
    cohort: float  # the denominator's share of an area's population
    goal: float  # the network's target for 2030
    public: bool = False
    spread: float = 1.0  # area effects in the indicator's unit (per 1,000 is 10× a percent)
    growth: float = 1.004  # the cohort's growth per year


PROFILES = {
    # Gaps at kindergarten entry narrow as pre-K expands.
    "k-ready": Profile(
        (44.0, 38.5, 41.0, 44.5, 46.0, 48.0, 49.5),
        (21, 11),
        (24, 15),
        5,
        0.0118,
        60,
        True,
        growth=0.99,  # fewer births every year
    ),
    "prek-enrollment": Profile(
        (38.0, 31.0, 36.0, 41.0, 45.0, 49.0, 52.0), (12, 5), (10, 4), 0, 0.0122, 65, growth=0.99
    ),
    # Spring 2020 tests were cancelled; reading recovers but its racial gap does not move.
    "grade3-reading": Profile(
        (None, 33.5, 36.0, 38.5, 40.0, 41.5, 42.5), (27, 27), (30, 31), 4, 0.0121, 55, True
    ),
    # Chronic absence peaked in 2021-22 and its gap widened.
    "chronic-absence-k3": Profile(
        (15.5, 21.0, 28.5, 25.0, 22.0, 19.5, 18.0), (11, 15), (12, 16), -1, 0.048, 10
    ),
    "grade8-math": Profile(
        (None, 21.5, 24.0, 25.5, 26.5, 27.0, 27.5), (30, 31), (28, 30), 0, 0.0125, 45
    ),
    "grade9-on-track": Profile(
        (74.0, 71.0, 73.0, 76.0, 78.5, 80.5, 82.0), (18, 8), (16, 9), 6, 0.0132, 90
    ),
    "hs-graduation-4yr": Profile(
        (82.0, 83.5, 84.0, 84.5, 85.5, 86.0, 87.0), (12, 8.5), (14, 10), 5, 0.0124, 92, True
    ),
    # The class of 2026 is not in the Clearinghouse data yet; the income gap widens.
    "postsecondary-enrollment": Profile(
        (58.0, 52.0, 54.0, 55.5, 56.5, 57.0, None), (14, 13), (20, 24), 8, 0.0108, 68, True
    ),
    "postsecondary-completion": Profile(
        (41.0, 41.5, 42.0, 42.5, 43.0, 43.5, None), (24, 23), (27, 27), 9, 0.0105, 55
    ),
    "youth-employment": Profile(
        (68.0, 60.5, 65.0, 69.5, 71.0, 71.5, 72.0), (14, 10), (0, 0), -1, 0.066, 76, True
    ),
    "disconnected-youth": Profile(
        (118.0, 151.0, 131.0, 116.0, 110.0, 106.0, 104.0),
        (90, 95),
        (0, 0),
        8,
        0.118,
        85,
        spread=10.0,
    ),
}


# Population data ---------------------------------------------------------------------


class AreaTree:
    """Which areas get data, and the leaves their figures are summed from.

    Every county gets data; the cities of the first eight counties and the ZIP codes of the
    first few of those cities too. An area with stored children is the sum of them and of an
    unincorporated remainder (a leaf that is not stored), so each stored area is exactly
    the sum of its parts.
    """

    def __init__(self, network, areas: list[Area]):
        self.network = network
        counties = [a for a in areas if a.kind == Area.Kind.COUNTY]
        cities = [a for a in areas if a.kind == Area.Kind.CITY]
        zips = [a for a in areas if a.kind == Area.Kind.ZIP]
        # A one-county network (the neighbour beside the demo) gets county figures only.
        county_ids = {c.pk for c in counties[:8]} if len(counties) > 1 else set()
        stored_cities = [c for c in cities if c.parent_id in county_ids]
        zip_city_ids = {c.pk for c in stored_cities[: min(8, max(2, len(counties)))]}
        stored_zips = [z for z in zips if z.parent_id in zip_city_ids]
        self.stored = [*counties, *stored_cities, *stored_zips]
        self.counties = counties
        self.children: dict[int | None, list[Area]] = {None: counties}
        for area in [*stored_cities, *stored_zips]:
            self.children.setdefault(area.parent_id, []).append(area)
        self.traits: dict[str, dict] = {}
        self._traits(None, _national_traits(), counties)

    def _traits(self, parent: Area | None, base: dict, children: list[Area]) -> None:
        for area in children:
            rng = random.Random(f"{SEED}:area:{self.network.slug}:{area.code}")
            wobble = {Area.Kind.COUNTY: (0.4, 1.9), Area.Kind.CITY: (0.6, 1.6)}.get(
                area.kind, (0.35, 2.2)
            )
            traits = _perturb(base, rng, wobble)
            self.traits[area.code] = traits
            self._traits(area, traits, self.children.get(area.pk, []))

    def remainder_population(self, area: Area) -> int:
        """The people of AREA outside its stored children (unincorporated areas)."""
        inside = sum(child.population or 0 for child in self.children.get(area.pk, []))
        share = 0.25 if area.kind == Area.Kind.COUNTY else 0.1
        return max((area.population or 0) - inside, int(inside * share), 500)


def _national_traits() -> dict:
    return {
        "race-ethnicity": [share for _code, share, _f in RACE],
        "gender": [share for _code, share, _f in GENDER],
        "income-band": [share for _code, share, _f in INCOME],
        "effect": 0.0,
    }


def _perturb(base: dict, rng: random.Random, wobble: tuple[float, float]) -> dict:
    traits = {"effect": 0.0}
    for dimension in ("race-ethnicity", "income-band"):
        shares = [share * rng.uniform(*wobble) for share in base[dimension]]
        total = sum(shares)
        traits[dimension] = [share / total for share in shares]
    traits["gender"] = list(base["gender"])
    # Places with more poverty do worse on every indicator, and a little noise besides.
    poverty = traits["income-band"][0]
    traits["effect"] = base["effect"] * 0.5 - (poverty - INCOME[0][1]) * 30 + rng.gauss(0, 1.5)
    return traits


def _allocate(total: int, weights: list[float], caps: list[int] | None = None) -> list[int]:
    """TOTAL split into whole parts in proportion to WEIGHTS (largest remainder), none above
    its cap; the parts add up to TOTAL exactly (the caps must leave room for it)."""
    weights = [max(w, 1e-9) for w in weights]
    parts = [0] * len(weights)
    remaining = total
    open_ = [i for i in range(len(weights)) if caps is None or caps[i] > 0]
    while remaining > 0 and open_:
        weight = sum(weights[i] for i in open_)
        exact = {i: remaining * weights[i] / weight for i in open_}
        given = {i: int(exact[i]) for i in open_}
        if caps is not None:
            given = {i: min(given[i], caps[i] - parts[i]) for i in open_}
        left = remaining - sum(given.values())
        for i in sorted(open_, key=lambda i: (int(exact[i]) - exact[i], i)):
            if left == 0:
                break
            if caps is None or parts[i] + given[i] < caps[i]:
                given[i] += 1
                left -= 1
        for i in open_:
            parts[i] += given[i]
        remaining = left
        open_ = [i for i in open_ if caps is None or parts[i] < caps[i]]
    return parts


def _rate_at(profile: Profile, year: int) -> tuple[float, float, float]:
    """The network rate, the race gap and the income gap in YEAR."""
    years = [y for y, rate in zip(YEARS, profile.rates, strict=True) if rate is not None]
    share = (year - years[0]) / (years[-1] - years[0])
    gap = profile.gap[0] + (profile.gap[1] - profile.gap[0]) * share
    income = profile.income_gap[0] + (profile.income_gap[1] - profile.income_gap[0]) * share
    return profile.rates[year - YEARS[0]], gap, income


def leaf_cells(
    indicator, profile: Profile, dims: list[str], traits: dict, population: int, year: int, rng
) -> dict[str, list[int]]:
    """[numerator, denominator] per disaggregation key for one leaf area and year."""
    scale = indicator.rate_per if indicator.unit == Unit.RATE else 100
    sign = 1 if indicator.polarity == "higher_is_better" else -1
    rate, gap, income_gap = _rate_at(profile, year)
    base = rate + sign * traits["effect"] * profile.spread + rng.gauss(0, 0.8) * profile.spread
    growth = profile.growth ** (year - YEARS[0])
    denominator = max(1, round(population * profile.cohort * growth * rng.uniform(0.96, 1.04)))

    def probability(offset: float) -> float:
        return min(max((base + sign * offset) / scale, 0.005), 0.985)

    cells: dict[str, list[int]] = {}
    race_d = _allocate(denominator, traits["race-ethnicity"])
    race_n = []
    for (_code, _share, factor), d in zip(RACE, race_d, strict=True):
        p = probability(factor * gap)
        n = round(d * p + rng.gauss(0, math.sqrt(d * p * (1 - p)))) if d else 0
        race_n.append(min(max(n, 0), d))
    numerator = sum(race_n)
    cells[""] = [numerator, denominator]
    if "race-ethnicity" in dims:
        for (code, _s, _f), n, d in zip(RACE, race_n, race_d, strict=True):
            cells[f"race-ethnicity={code}"] = [n, d]
    for dimension, edge in (("gender", profile.gender_edge), ("income-band", income_gap)):
        if dimension not in dims:
            continue
        spec = DIMENSIONS[dimension]
        parts_d = _allocate(denominator, traits[dimension])
        weights = [d * probability(f * edge) for (_c, _s, f), d in zip(spec, parts_d, strict=True)]
        parts_n = _allocate(numerator, weights, parts_d)
        for (code, _s, _f), n, d in zip(spec, parts_n, parts_d, strict=True):
            cells[f"{dimension}={code}"] = [n, d]
    return cells


def _add(into: dict[str, list[int]], cells: dict[str, list[int]]) -> None:
    for key, (n, d) in cells.items():
        pair = into.setdefault(key, [0, 0])
        pair[0] += n
        pair[1] += d


def population_cells(network, indicator, profile: Profile, tree: AreaTree):
    """{year: {area id or None: {key: [numerator, denominator]}}} for one indicator."""
    dims = [d.code for d in indicator.dimensions.all() if d.code in DIMENSIONS]
    result = {}
    for year, rate in zip(YEARS, profile.rates, strict=True):
        if rate is None:
            continue
        by_area: dict[int | None, dict[str, list[int]]] = {}

        def build(area: Area, year=year, by_area=by_area) -> dict[str, list[int]]:
            rng = random.Random(f"{SEED}:{network.slug}:{indicator.code}:{area.code}:{year}")
            traits = tree.traits[area.code]
            children = tree.children.get(area.pk, [])
            if not children:
                cells = leaf_cells(
                    indicator, profile, dims, traits, area.population or 1000, year, rng
                )
            else:
                cells = leaf_cells(
                    indicator, profile, dims, traits, tree.remainder_population(area), year, rng
                )
                for child in children:
                    _add(cells, build(child))
            by_area[area.pk] = cells
            return cells

        total: dict[str, list[int]] = {}
        for county in tree.counties:
            _add(total, build(county))
        by_area[None] = total
        result[year] = by_area
    return result


def _released(indicator, year: int) -> datetime.datetime:
    """When the network loaded a year's figures: after the state, the Census Bureau or the
    Clearinghouse released them."""
    if indicator.frequency == Indicator.Frequency.CALENDAR_YEAR:
        day = datetime.date(year + 1, 9, 20)  # ACS estimates come out each September
    elif indicator.code == "k-ready":
        day = datetime.date(year + 1, 1, 25)  # the fall entry assessment
    elif indicator.code.startswith("postsecondary"):
        day = datetime.date(year + 1, 12, 10) if year + 1 < TODAY.year else TODAY
    else:
        day = datetime.date(year + 1, 10, 5)
    return datetime.datetime.combine(min(day, TODAY), datetime.time(15, 0), datetime.UTC)


def write_population(network, indicator, cells, tree, admin, fiscal_start) -> tuple[int, int]:
    """Population values as the backbone loads them: imported (draft) and submitted by its
    data manager when the source releases them, approved three days later."""
    existing = set(
        DataValue.objects.filter(
            network=network, indicator=indicator, organization__isnull=True
        ).values_list("period", "area_id", "disaggregation")
    )
    items = []
    days3 = datetime.timedelta(days=3)
    for year, by_area in cells.items():
        period = indicator_period(indicator, year)
        start, end = period.start(fiscal_start), period.end(fiscal_start)
        released = _released(indicator, year)
        for area_id, keyed in by_area.items():
            for key, (numerator, denominator) in keyed.items():
                if denominator == 0 or (period.code, area_id, key) in existing:
                    continue
                fields = {
                    "value": ratio_value(indicator, numerator, denominator),
                    "numerator": Decimal(numerator).quantize(PLACES),
                    "denominator": Decimal(denominator).quantize(PLACES),
                }
                draft = value_state(**fields, status=DataValue.Status.DRAFT)
                submitted = {**draft, "status": DataValue.Status.SUBMITTED}
                approved = {**draft, "status": DataValue.Status.APPROVED}
                key_fields = {
                    "indicator_id": indicator.pk,
                    "period": period.code,
                    "period_start": start,
                    "period_end": end,
                    "area_id": area_id,
                    "disaggregation": key,
                    "categories": dict(part.split("=") for part in key.split(";") if part),
                }
                steps = [
                    (released, admin, None, draft, "", "import"),
                    (released, admin, draft, submitted, "", "web"),
                    (released + days3, admin, submitted, approved, "", "web"),
                ]
                items.append(({**key_fields, **fields}, steps))
    return write_values(network, items)


def set_baseline_and_targets(network, indicator, profile: Profile, cells_by_year) -> None:
    """The baseline year's network figure, and a straight path from it to the 2030 goal."""
    if indicator.baseline_period:
        return
    scale = indicator.rate_per if indicator.unit == Unit.RATE else 100
    baseline = Decimal(str(round(cell_rate(cells_by_year[BASELINE_YEAR], "", scale), 1)))
    indicator.baseline_value = baseline
    indicator.baseline_period = indicator_period(indicator, BASELINE_YEAR).code
    indicator.is_public = profile.public
    indicator.save(update_fields=["baseline_value", "baseline_period", "is_public"])
    goal = Decimal(str(profile.goal))
    # The last target is for the period ending in 2030 (a school year starts the year before).
    last = TARGET_YEAR - (indicator.frequency == Indicator.Frequency.SCHOOL_YEAR)
    steps = last - BASELINE_YEAR
    IndicatorTarget.objects.bulk_create(
        [
            IndicatorTarget(
                network=network,
                indicator=indicator,
                period=indicator_period(indicator, year).code,
                value=(baseline + (goal - baseline) * (year - BASELINE_YEAR) / steps).quantize(
                    Decimal("0.1")
                ),
            )
            for year in range(BASELINE_YEAR + 1, last + 1)
        ],
        ignore_conflicts=True,
    )
