"""A small measured network for the analytics tests: an area tree, a gender dimension,
indicators of each aggregation rule, a partner measure, and a helper to put values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backbone.core.access import Access
from backbone.core.models import Area
from backbone.measurement import periods as P
from backbone.measurement.data_file import disaggregation_key
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Framework,
    Indicator,
    PerformanceMeasure,
    Result,
)
from backbone.testing import factories as f


@dataclass
class Measured:
    network: object
    state: Area
    counties: list[Area]
    cities: list[Area]  # two per county
    gender: Dimension
    female: Category
    male: Category
    result: Result
    count: Indicator  # monthly, sum, higher is better
    rate: Indicator  # monthly percent ratio, weighted
    lower: Indicator  # monthly percent ratio, weighted, lower is better
    single: Indicator  # school year, not aggregatable
    measure: PerformanceMeasure  # monthly partner count, sum


def measured_network(network) -> Measured:
    Framework.objects.get_or_create(network=network, defaults={"fiscal_year_start_month": 7})
    state = f.AreaFactory(network=network, kind="state", name="State", code=f"S{network.pk}")
    counties, cities = [], []
    for n in range(2):
        county = f.AreaFactory(
            network=network, kind="county", name=f"County {n}", parent=state, code=f"C{n}"
        )
        counties.append(county)
        for m in range(2):
            cities.append(
                f.AreaFactory(
                    network=network,
                    kind="city",
                    name=f"City {n}{m}",
                    parent=county,
                    code=f"T{n}{m}",
                )
            )
    gender = Dimension.objects.create(network=network, code="gender", name="Gender")
    female = Category.objects.create(
        network=network, dimension=gender, code="female", name="Female", position=1
    )
    male = Category.objects.create(
        network=network, dimension=gender, code="male", name="Male", position=2
    )
    stage = f.LifeStageFactory(network=network)
    result = Result.objects.create(
        network=network, code="ready", name="Children are ready", life_stage=stage
    )

    def indicator(code, **fields):
        made = Indicator.objects.create(
            network=network,
            result=result,
            code=code,
            name=code.title(),
            definition="A test indicator.",
            frequency="month",
            **fields,
        )
        made.dimensions.add(gender)
        return made

    ratio = {"formula": "ratio", "numerator": "n", "denominator": "d", "unit": "percent"}
    count = indicator("count", unit="count", polarity="higher_is_better", aggregation="sum")
    rate = indicator("rate", polarity="higher_is_better", aggregation="weighted", **ratio)
    lower = indicator("lower", polarity="lower_is_better", aggregation="weighted", **ratio)
    single = indicator("single", unit="score", polarity="higher_is_better", aggregation="none")
    Indicator.objects.filter(pk=single.pk).update(frequency="school_year")
    single.refresh_from_db()
    measure = PerformanceMeasure.objects.create(
        network=network,
        code="served",
        name="People served",
        category="how_much",
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="month",
    )
    return Measured(
        network,
        state,
        counties,
        cities,
        gender,
        female,
        male,
        result,
        count,
        rate,
        lower,
        single,
        measure,
    )


def put(
    subject,
    period: str,
    value=None,
    *,
    organization=None,
    area=None,
    categories: dict | None = None,
    numerator=None,
    denominator=None,
    status: str = DataValue.Status.APPROVED,
) -> DataValue:
    """Store one data value directly (the measurement services are tested elsewhere)."""
    parsed = P.parse(period)
    if value is None and denominator:
        scale = 100 if subject.unit == "percent" else 1
        value = (Decimal(numerator) * scale / Decimal(denominator)).quantize(Decimal("0.0001"))
    fields = {"indicator": subject} if isinstance(subject, Indicator) else {"measure": subject}
    return DataValue.objects.create(
        network=subject.network,
        period=period,
        period_start=parsed.start(7),
        period_end=parsed.end(7),
        organization=organization,
        area=area,
        disaggregation=disaggregation_key(categories or {}),
        categories=categories or {},
        value=Decimal(value),
        numerator=None if numerator is None else Decimal(numerator),
        denominator=None if denominator is None else Decimal(denominator),
        status=status,
        **fields,
    )


def access_as(world, role: str, network=None) -> Access:
    network = network or world.network
    if role == "public":
        return Access(user=None, network=network, role="public")
    organization_id = world.organization.pk if role in ("org_admin", "org_member") else None
    return Access(
        user=world.users[role], network=network, role=role, organization_id=organization_id
    )
