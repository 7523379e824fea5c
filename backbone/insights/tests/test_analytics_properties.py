"""Property tests: the engine's figures equal a plain-Python computation over the same
generated values (area hierarchy, periods, weighted ratios, partners' shares), and the
incremental refresh leaves exactly the cells a full rebuild makes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backbone.insights import analytics
from backbone.insights.analytics.build import refresh_values
from backbone.insights.models import AnalyticsCell
from backbone.insights.tests.analytics_fixtures import access_as, measured_network, put
from backbone.measurement import periods as P
from backbone.measurement.models import DataValue

MONTHS = [P.Period(P.MONTH, 2023 + (4 + n) // 12, (4 + n) % 12 + 1).code for n in range(16)]
KINDS = [P.MONTH, P.QUARTER, P.YEAR, P.SCHOOL_YEAR, P.FISCAL_YEAR]
KEYS = ["", "gender=female", "gender=male"]
PLACES = Decimal("0.0001")
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def m(world):
    return measured_network(world.network)


def rolled_back(test):
    """Run one hypothesis example in a transaction that is rolled back."""

    def run(*args, **kwargs):
        with transaction.atomic():
            test(*args, **kwargs)
            transaction.set_rollback(True)

    return run


amounts = st.integers(min_value=0, max_value=500)
population_value = st.tuples(
    st.sampled_from(["count", "rate"]),
    st.sampled_from(MONTHS),
    st.integers(0, 3),  # the city
    st.sampled_from(KEYS),
    amounts,
    st.integers(1, 500),  # a denominator
    st.booleans(),  # approved
)


CANDIDATES = [
    P.Period(kind, year, number)
    for year in range(2022, 2026)
    for kind, numbers in (
        (P.MONTH, range(1, 13)),
        (P.QUARTER, range(1, 5)),
        (P.YEAR, [0]),
        (P.SCHOOL_YEAR, [0]),
        (P.FISCAL_YEAR, [0]),
    )
    for number in numbers
]


def _periods_of(month: str) -> list[P.Period]:
    """Every period that contains MONTH (by dates, with a July fiscal year)."""
    inner = P.parse(month)
    return [period for period in CANDIDATES if period.contains(inner, 7)]


@SETTINGS
@given(st.lists(population_value, max_size=40, unique_by=lambda v: v[:4]))
def test_area_and_period_rollups_equal_a_plain_computation(world, m, rows):
    @rolled_back
    def check():
        subjects = {"count": m.count, "rate": m.rate}
        stored = []
        for code, month, city, key, amount, denominator, approved in rows:
            subject = subjects[code]
            categories = dict([key.split("=")]) if key else {}
            status = "approved" if approved else "submitted"
            area = m.cities[city]
            if code == "rate":
                numerator = min(amount, denominator)
                put(
                    subject,
                    month,
                    numerator=numerator,
                    denominator=denominator,
                    area=area,
                    categories=categories,
                    status=status,
                )
                stored.append((code, month, city, key, None, numerator, denominator, approved))
            else:
                put(subject, month, amount, area=area, categories=categories, status=status)
                stored.append((code, month, city, key, amount, None, None, approved))
        analytics.rebuild(m.network)
        viewer = access_as(world, "viewer")
        inside = {None: {0, 1, 2, 3}, m.state.pk: {0, 1, 2, 3}}
        for n, county in enumerate(m.counties):
            inside[county.pk] = {2 * n, 2 * n + 1}
        for n, city in enumerate(m.cities):
            inside[city.pk] = {n}
        areas = {None: None, m.state.pk: m.state, **{a.pk: a for a in m.counties + m.cities}}
        for code, subject in subjects.items():
            for area_pk, cities in inside.items():
                for key in KEYS:
                    categories = dict([key.split("=")]) if key else None
                    for kind in KINDS:
                        expected = _plain(stored, code, cities, key, kind)
                        got = analytics.series(
                            viewer,
                            subject,
                            area=areas[area_pk],
                            categories=categories,
                            period_kind=kind,
                        )
                        assert {c.period: c.value for c in got} == expected, (
                            code,
                            area_pk,
                            key,
                            kind,
                        )

    check()


def _plain(stored, code, cities, key, kind) -> dict[str, Decimal]:
    """The figure of each period of KIND from the approved values in CITIES."""
    sums: dict[str, list] = {}
    for s_code, month, city, s_key, amount, numerator, denominator, approved in stored:
        if s_code != code or s_key != key or city not in cities or not approved:
            continue
        for period in _periods_of(month):
            if period.kind != kind:
                continue
            item = sums.setdefault(period.code, [0, 0, 0, 0])
            item[0] += amount or 0
            item[1] += numerator or 0
            item[2] += denominator or 0
            item[3] += 1
    result = {}
    for period, (amount, numerator, denominator, count) in sums.items():
        if code == "count":
            result[period] = Decimal(amount)
        elif count == 1:
            result[period] = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(PLACES)
        else:
            result[period] = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
                PLACES, ROUND_HALF_UP
            )
    return result


partner_value = st.tuples(
    st.integers(0, 2),  # which organization
    st.sampled_from(MONTHS[:6]),
    st.sampled_from([None, 0, 1, 2, 3]),  # the city, or the whole network
    amounts,
    st.booleans(),
)


@SETTINGS
@given(st.lists(partner_value, max_size=30, unique_by=lambda v: v[:3]))
def test_partner_shares_equal_a_plain_computation(world, m, rows):
    @rolled_back
    def check():
        organizations = [world.organization, world.second_organization, world.prospect]
        for org, month, city, amount, approved in rows:
            put(
                m.measure,
                month,
                amount,
                organization=organizations[org],
                area=None if city is None else m.cities[city],
                status="approved" if approved else "draft",
            )
        analytics.rebuild(m.network)
        admin = access_as(world, "network_admin")
        for period in ["2023-05", "2023-Q3", "SY2023-24", "2023"]:
            parsed = P.parse(period)
            for area, cities in [(None, None), (m.counties[0], {0, 1}), (m.cities[3], {3})]:
                per_org: dict[int, int] = {}
                for org, month, city, amount, approved in rows:
                    if not approved or not parsed.contains(P.parse(month), 7):
                        continue
                    if cities is not None and city not in cities:
                        continue
                    per_org[org] = per_org.get(org, 0) + amount
                total = sum(per_org.values())
                expected = {
                    organizations[org].pk: (
                        Decimal(amount),
                        (Decimal(amount) / total).quantize(PLACES, ROUND_HALF_UP)
                        if total
                        else None,
                    )
                    for org, amount in per_org.items()
                }
                got = analytics.by_organization(admin, m.measure, period=period, area=area)
                assert {o.pk: (c.value, s) for o, c, s in got} == expected, (period, area)
                network = analytics.series(admin, m.measure, area=area, period_kind=parsed.kind)
                figure = next((c.value for c in network if c.period == period), None)
                assert figure == (Decimal(total) if per_org else None)

    check()


operation = st.tuples(
    st.sampled_from(["add", "approve", "correct", "return"]),
    st.sampled_from(["count", "rate", "single", "measure"]),
    st.sampled_from(MONTHS[:8] + ["SY2023-24", "2023-Q4"]),
    st.sampled_from([None, 0, 1, 2, 3]),
    st.sampled_from(KEYS[:2]),
    st.integers(1, 300),
    st.booleans(),  # approved at once
)


def _snapshot(network) -> list[tuple]:
    return sorted(
        AnalyticsCell.objects.filter(network=network).values_list(
            "indicator_id",
            "measure_id",
            "source",
            "period",
            "period_kind",
            "period_start",
            "rollup",
            "area_id",
            "disaggregation",
            "value_sum",
            "numerator_sum",
            "denominator_sum",
            "sources",
        ),
        key=repr,
    )


@SETTINGS
@given(st.lists(operation, min_size=1, max_size=25))
def test_incremental_refresh_equals_a_full_rebuild(world, m, operations):
    @rolled_back
    def check():
        subjects = {"count": m.count, "rate": m.rate, "single": m.single, "measure": m.measure}
        analytics.rebuild(m.network)
        made: list[DataValue] = []
        for action, code, period, city, key, amount, at_once in operations:
            subject = subjects[code]
            if action == "add" or not made:
                if code == "single":
                    period = "SY2023-24"
                area = None if city is None else m.cities[city]
                organization = world.organization if code == "measure" and city != 3 else None
                fields = {"indicator": subject} if code != "measure" else {"measure": subject}
                if DataValue.objects.filter(
                    period=period,
                    area=area,
                    organization=organization,
                    disaggregation=key,
                    **fields,
                ).exists():
                    continue
                categories = dict([key.split("=")]) if key else None
                ratio = {"numerator": amount // 2, "denominator": amount} if code == "rate" else {}
                value = put(
                    subject,
                    period,
                    None if ratio else amount,
                    area=area,
                    categories=categories,
                    organization=organization,
                    status="approved" if at_once else "submitted",
                    **ratio,
                )
                made.append(value)
            else:
                value = made[amount % len(made)]
                value.refresh_from_db()
                if action == "approve" and value.status == "submitted":
                    value.status = "approved"
                elif action == "return" and value.status == "submitted":
                    value.status = "returned"
                elif action == "correct" and value.status == "approved":
                    value.value += 1
                else:
                    continue
                value.save()
            refresh_values(m.network.pk, [value.pk])
        incremental = _snapshot(m.network)
        analytics.rebuild(m.network)
        assert incremental == _snapshot(m.network)

    check()
