import datetime
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction

from backbone.core.access import NETWORK_ADMIN, Access
from backbone.core.models import Area, AuditEvent, Membership, Network, NetworkRole, User
from backbone.demo import measurement_seed, seed
from backbone.demo.measurement_seed import common, population
from backbone.measurement import data_file, periods, services
from backbone.measurement.models import (
    DataValue,
    DataValueVersion,
    Framework,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    ReportingAssignment,
    Result,
    ResultNarrative,
    Submission,
    ValidationRule,
)

pytestmark = pytest.mark.django_db

COUNTED = [
    DataValue,
    DataValueVersion,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    ReportingAssignment,
    Submission,
    ValidationRule,
    ResultNarrative,
    AuditEvent,
]


def quiet(*_args):
    return None


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The small demo, seeded once for the module inside a transaction rolled back at the
    end (each test runs in a savepoint of it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed.seed("small", log=quiet)
        transaction.set_rollback(True)


def admin_access(network):
    role = NetworkRole.objects.filter(network=network, role=NETWORK_ADMIN).first()
    return Access(user=role.user, network=network, role=NETWORK_ADMIN)


def rate(value):
    return value.numerator * 100 / value.denominator


def race_gap(network, code, period):
    """White minus Black, in points, at network level."""
    values = {
        v.disaggregation: v
        for v in DataValue.objects.filter(
            network=network, indicator__code=code, period=period, area=None, organization=None
        )
    }
    white = values["race-ethnicity=white"]
    black = values["race-ethnicity=black-african-american"]
    return rate(white) - rate(black)


def test_every_indicator_has_seven_years_for_every_sampled_area(demo):
    counties = Area.objects.filter(network=demo, kind="county")
    cities = Area.objects.filter(network=demo, kind="city")
    stored_zips = {
        a
        for a in DataValue.objects.filter(network=demo, area__kind="zip").values_list(
            "area", flat=True
        )
    }
    assert 2 <= len(stored_zips) < Area.objects.filter(network=demo, kind="zip").count()
    for indicator in Indicator.objects.filter(network=demo):
        values = DataValue.objects.filter(indicator=indicator, organization=None)
        totals = values.filter(disaggregation="")
        years = set(totals.values_list("period", flat=True))
        assert len(years) >= 6, indicator.code
        kinds = {periods.parse(code).kind for code in years}
        assert kinds == {indicator.frequency}, indicator.code
        for period in years:
            areas = set(totals.filter(period=period).values_list("area", flat=True))
            assert {None, *counties.values_list("pk", flat=True)} <= areas
            assert set(cities.values_list("pk", flat=True)) <= areas
        assert not values.exclude(status="approved").exists()
        assert set(values.values_list("version", flat=True)) == {3}
        dimensions = {c for v in values.values_list("categories", flat=True) for c in v}
        wanted = {"race-ethnicity", "gender", "income-band"} & set(
            indicator.dimensions.values_list("code", flat=True)
        )
        assert dimensions == wanted, indicator.code
    # Spring 2020 tests were cancelled; SY2019-20 attendance still counts.
    assert not DataValue.objects.filter(indicator__code="grade3-reading", period="SY2019-20")
    assert DataValue.objects.filter(indicator__code="chronic-absence-k3", period="SY2019-20")


def test_parts_add_up_to_totals_and_counties_to_the_network(demo):
    totals, parts = {}, defaultdict(lambda: [0, 0, set()])
    rows = DataValue.objects.filter(network=demo, organization=None).values_list(
        "indicator_id", "period", "area_id", "disaggregation", "numerator", "denominator"
    )
    for indicator_id, period, area_id, key, numerator, denominator in rows:
        place = (indicator_id, period, area_id)
        if not key:
            totals[place] = (numerator, denominator)
            continue
        dimension, _category = key.split("=")
        part = parts[(*place, dimension)]
        part[0] += numerator
        part[1] += denominator
        part[2].add(key)
    assert len(parts) > 1000
    for (*place, dimension), (numerator, denominator, _keys) in parts.items():
        assert (numerator, denominator) == totals[tuple(place)], (place, dimension)
        assert numerator <= denominator
    # The network is its counties added up; a county holds at least its stored cities.
    counties = {a.pk: a for a in Area.objects.filter(network=demo, kind="county")}
    cities = Area.objects.filter(network=demo, kind="city")
    for (indicator_id, period, area_id), (numerator, denominator) in totals.items():
        if area_id is not None:
            continue
        county_sum = [sum(totals[(indicator_id, period, c)][i] for c in counties) for i in (0, 1)]
        assert county_sum == [numerator, denominator]
        for county in counties:
            inside = [totals.get((indicator_id, period, c.pk)) for c in cities]
            inside = [t for t, c in zip(inside, cities, strict=True) if t and c.parent_id == county]
            assert sum(t[1] for t in inside) < totals[(indicator_id, period, county)][1]
    # Small groups in small places, for suppression to act on.
    small = DataValue.objects.filter(
        network=demo, organization=None, denominator__gt=0, denominator__lt=11
    )
    assert small.filter(area__kind__in=["zip", "city"]).count() > 20
    # Values are the importer's own arithmetic.
    for value in DataValue.objects.filter(network=demo, indicator__code="disconnected-youth")[:50]:
        expected = (value.numerator * 1000 / value.denominator).quantize(Decimal("0.0001"))
        assert value.value == expected


def test_gaps_narrow_for_some_indicators_and_persist_or_widen_for_others(demo):
    readiness = race_gap(demo, "k-ready", "SY2019-20"), race_gap(demo, "k-ready", "SY2025-26")
    assert readiness[0] > 15 and readiness[1] < readiness[0] - 6, readiness
    reading = (
        race_gap(demo, "grade3-reading", "SY2020-21"),
        race_gap(demo, "grade3-reading", "SY2025-26"),
    )
    assert reading[0] > 20 and abs(reading[1] - reading[0]) < 4, reading
    # Lower is better for absence: Black students are absent more and the gap grows.
    absence = (
        -race_gap(demo, "chronic-absence-k3", "SY2019-20"),
        -race_gap(demo, "chronic-absence-k3", "SY2025-26"),
    )
    assert absence[0] > 5 and absence[1] > absence[0] + 2, absence
    # The pandemic dip: 2020-21 reading and readiness below the years around them.
    network_rate = {
        (v.indicator.code, v.period): rate(v)
        for v in DataValue.objects.filter(
            network=demo, area=None, organization=None, disaggregation=""
        ).select_related("indicator")
    }
    assert network_rate[("k-ready", "SY2020-21")] < network_rate[("k-ready", "SY2019-20")] - 3
    assert (
        network_rate[("grade3-reading", "SY2020-21")]
        < network_rate[("grade3-reading", "SY2025-26")] - 5
    )
    assert network_rate[("chronic-absence-k3", "SY2021-22")] > 25


def test_baselines_targets_public_indicators_rules_and_narratives(demo):
    indicators = Indicator.objects.filter(network=demo)
    assert not indicators.filter(baseline_value=None).exists()
    assert 3 <= indicators.filter(is_public=True).count() <= 6
    assert Framework.objects.get(network=demo).suppression_k == 11
    for indicator in indicators:
        targets = list(indicator.targets.order_by("period").values_list("period", "value"))
        assert targets[-1][0] in ("SY2029-30", "2030") and len(targets) >= 8
        goal = measurement_seed.PROFILES[indicator.code].goal
        assert targets[-1][1] == Decimal(str(goal))
    results = Result.objects.filter(network=demo)
    narratives = ResultNarrative.objects.filter(network=demo, year=2026)
    assert narratives.count() == results.count() == 7
    for narrative in narratives:
        for text in (narrative.story, narrative.partners, narrative.what_works):
            assert len(text) > 80 and "lorem" not in text.lower() and "—" not in text[:5]
    reading = narratives.get(result__code="early-grade-reading").story
    assert f"{race_gap(demo, 'grade3-reading', 'SY2025-26'):.0f} points" in reading
    rules = ValidationRule.objects.filter(network=demo)
    assert rules.count() >= 3
    codes = set(PerformanceMeasure.objects.filter(network=demo).values_list("code", flat=True))
    for rule in rules:
        assert {rule.left, rule.right} <= codes


def test_partner_reporting_history(demo):
    measures = PerformanceMeasure.objects.filter(network=demo)
    partners = {m.organization_id for m in measures}
    assert 6 <= len(partners) <= 10
    assert {m.category for m in measures} == {"how_much", "how_well", "better_off"}
    assert all(m.contributes_to.exists() for m in measures)
    active = set(
        Membership.objects.filter(network=demo, status="active").values_list(
            "organization_id", flat=True
        )
    )
    assert partners <= active
    for measure in measures:
        assert MeasureTarget.objects.filter(measure=measure).count() >= 8
    assignments = ReportingAssignment.objects.filter(network=demo)
    assert {(a.frequency, a.due_days) for a in assignments} == {("quarter", 30)}
    submissions = Submission.objects.filter(network=demo)
    today = seed.TODAY
    for assignment in assignments:
        assert assignment.submissions.count() >= 8
    statuses = defaultdict(list)
    for submission in submissions:
        statuses[submission.status].append(submission)
        assert submission.due_date == submission.period_end + datetime.timedelta(days=30)
        values = list(submission.values.all())
        if submission.status == "not_started":
            assert not values and submission.due_date < today
        else:
            assert {v.status for v in values} == {submission.status}
            assert len(values) == submission.assignment.measures.count()
    assert len(statuses["approved"]) > len(submissions) / 2
    late = [s for s in statuses["approved"] if s.submitted_at.date() > s.due_date]
    assert len(late) >= 2
    assert len(statuses["not_started"]) >= 2
    assert statuses["returned"] and statuses["returned"][0].review_comment
    assert statuses["submitted"] and statuses["draft"]
    assert all(s.period_start > today - datetime.timedelta(days=40) for s in statuses["draft"])
    # Returned, corrected and resubmitted, then approved: the history tells it.
    resubmitted = {
        v.data_value.submission_id
        for v in DataValueVersion.objects.filter(network=demo, new__status="returned")
        if v.data_value.status == "approved"
    }
    assert len(resubmitted) >= 2
    corrected = DataValue.objects.filter(submission__in=resubmitted, version=6)
    assert corrected.exists()


def test_version_histories_are_what_the_services_write(demo):
    values = DataValue.objects.filter(network=demo).exclude(submission=None)
    values = list(values.prefetch_related("versions")) + list(
        DataValue.objects.filter(network=demo, organization=None).prefetch_related("versions")[:300]
    )
    for value in values:
        versions = list(value.versions.all())
        assert [v.version for v in versions] == list(range(1, value.version + 1))
        assert versions[0].old is None
        for before, after in zip(versions, versions[1:], strict=False):
            assert after.old == before.new
            assert after.changed_at >= before.changed_at
        assert versions[-1].new == services.data_value_state(value)
        assert versions[-1].changed_at == value.updated_at
        assert versions[0].changed_by_id == value.created_by_id
        assert value.updated_at.date() < seed.TODAY
        returned = [v for v in versions if v.new["status"] == "returned"]
        assert all(v.reason and v.new["review_comment"] == v.reason for v in returned)


def test_seeding_twice_changes_nothing_and_the_export_reimports_unchanged(demo):
    before = {model.__name__: model.objects.count() for model in COUNTED}
    latest = DataValue.objects.order_by("-updated_at").values_list("updated_at", flat=True)[0]
    seed.seed("small", log=quiet)
    assert {model.__name__: model.objects.count() for model in COUNTED} == before
    assert DataValue.objects.order_by("-updated_at").values_list("updated_at", flat=True)[0] == (
        latest
    )
    access = admin_access(demo)
    exported = data_file.data_export(access=access, filename="demo.csv")
    assert exported.count(b"\n") == DataValue.objects.filter(network=demo).count() + 1
    result = data_file.data_import(access=access, data=exported, filename="demo.csv", commit=False)
    assert result.errors == []
    assert (result.created, result.updated) == (0, 0)
    assert result.unchanged == DataValue.objects.filter(network=demo).count()


def test_each_network_gets_its_own_data_and_nothing_leaks(demo):
    neighbour = seed.seed("neighbour", slug="lake-county", name="Lake County Promise", log=quiet)
    # A one-county network: figures for the network and its county only.
    areas = set(
        DataValue.objects.filter(network=neighbour, organization=None).values_list(
            "area__kind", flat=True
        )
    )
    assert areas == {None, "county"}
    for network, other in ((demo, neighbour), (neighbour, demo)):
        members = set(
            Membership.objects.filter(network=network).values_list("organization_id", flat=True)
        )
        for model in (DataValue, Submission, PerformanceMeasure):
            used = set(model.objects.filter(network=network).values_list("organization", flat=True))
            assert used - {None} <= members, model
        assert not DataValue.objects.filter(network=network, indicator__network=other).exists()
        assert not DataValue.objects.filter(network=network, area__network=other).exists()
        assert not admin_access(network).scope(DataValue).filter(network=other).exists()


def test_a_framework_without_an_indicator_gets_the_rest():
    """Bad input: an indicator the seed knows is gone from a network's framework. The seed
    writes the others and nothing for the missing one, nor a story quoting its figures."""
    admin = User.objects.create(email="trim@example.org")
    network = Network.objects.create(slug="trimmed", name="Trimmed")
    seed._seed_framework(network, admin)
    Indicator.objects.filter(network=network, code="grade8-math").delete()
    areas = seed._seed_areas(network, seed.SIZES["neighbour"], random.Random(1))
    created = measurement_seed.seed_measurement(
        network, admin=admin, organizations=[], areas=areas, log=quiet
    )
    assert created["values"] > 1000 and created["submissions"] == 0
    written = set(
        DataValue.objects.filter(network=network).values_list("indicator__code", flat=True)
    )
    assert written == set(measurement_seed.PROFILES) - {"grade8-math"}
    stories = set(
        ResultNarrative.objects.filter(network=network).values_list("result__code", flat=True)
    )
    assert "middle-grade-math" not in stories and "early-grade-reading" in stories
    assert not any("—" in n.story for n in ResultNarrative.objects.filter(network=network))


def test_a_network_without_the_framework_gets_nothing():
    network = Network.objects.create(slug="bare", name="Bare")
    areas = seed._seed_areas(network, seed.SIZES["neighbour"], random.Random(1))
    created = measurement_seed.seed_measurement(
        network, admin=None, organizations=[], areas=areas, log=quiet
    )
    assert created == {"values": 0, "versions": 0, "submissions": 0}
    assert not DataValue.objects.filter(network=network).exists()
    assert not ResultNarrative.objects.filter(network=network).exists()


def test_state_matches_the_services():
    value = DataValue(
        value=Decimal("43.1000"),
        numerator=Decimal("431.0000"),
        denominator=Decimal("1000.0000"),
        status="returned",
        review_comment="Check it.",
    )
    assert services.data_value_state(value) == common.value_state(
        value=value.value,
        numerator=value.numerator,
        denominator=value.denominator,
        status="returned",
        review_comment="Check it.",
    )


@pytest.mark.parametrize(
    ("size", "stored"),
    [("small", (2, 6, 4)), ("medium", (6, 24, 18)), ("state", (40, 40, 32))],
)
def test_sampled_areas_by_size(size, stored):
    """Which areas get figures at each size, and the data stays whole at every level."""
    network = Network.objects.create(slug=f"size-{size}", name=size)
    areas = seed._seed_areas(network, seed.SIZES[size], random.Random(1))
    tree = population.AreaTree(network, areas)
    kinds = [a.kind for a in tree.stored]
    assert (kinds.count("county"), kinds.count("city"), kinds.count("zip")) == stored
    indicator = Indicator(code="grade3-reading", unit="percent", polarity="higher_is_better")
    profile = measurement_seed.PROFILES["grade3-reading"]
    rng = random.Random(2)
    traits = tree.traits[tree.counties[0].code]
    cells = population.leaf_cells(
        indicator, profile, ["race-ethnicity", "gender"], traits, 50_000, 2024, rng
    )
    for dimension in ("race-ethnicity", "gender"):
        parts = [pair for key, pair in cells.items() if key.startswith(dimension)]
        assert [sum(p[0] for p in parts), sum(p[1] for p in parts)] == cells[""]
