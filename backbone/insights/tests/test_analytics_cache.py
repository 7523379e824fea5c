"""The scorecard is cached per analytics version: warm reads touch no cell, and every
rebuild, refresh or framework change shows at once. The batched reads of the public
release give what the one-period reads give."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backbone.insights import analytics
from backbone.insights.models import AnalyticsCell, AnalyticsState
from backbone.insights.public.selectors import release_indicator
from backbone.insights.refresh import data_values_changed
from backbone.insights.tests.analytics_fixtures import access_as, measured_network, put
from backbone.measurement.models import DataValue, Indicator, IndicatorTarget

D = Decimal
CELLS = AnalyticsCell._meta.db_table


@pytest.fixture
def m(world):
    return measured_network(world.network)


def latest(rows, indicator):
    row = next(row for group in rows for row in group.rows if row.indicator == indicator)
    return row.latest.value if row.latest else None


def cell_reads(queries) -> int:
    return sum(CELLS in query["sql"] for query in queries.captured_queries)


def test_a_warm_scorecard_reads_no_cells(world, m):
    put(m.count, "2024-01", 10, area=m.cities[0])
    viewer = access_as(world, "viewer")
    cold = analytics.scorecard(viewer)
    with CaptureQueriesContext(connection) as queries:
        warm = analytics.scorecard(viewer)
    assert cell_reads(queries) == 0
    assert len(queries.captured_queries) <= 5
    assert latest(warm, m.count) == latest(cold, m.count) == D(10)


def test_an_approval_shows_in_the_cached_scorecard_at_once(world, m):
    put(m.count, "2024-01", 10, area=m.cities[0])
    viewer = access_as(world, "viewer")
    assert latest(analytics.scorecard(viewer), m.count) == D(10)
    version = AnalyticsState.objects.get(network=m.network).version
    new = put(m.count, "2024-02", 4, area=m.cities[1], status="submitted")
    data_values_changed(network_id=m.network.pk, value_ids=[new.pk])
    # Never approved: nothing to recompute, the cached scorecard stays valid.
    assert AnalyticsState.objects.get(network=m.network).version == version
    assert latest(analytics.scorecard(viewer), m.count) == D(10)
    DataValue.objects.filter(pk=new.pk).update(status="approved")
    data_values_changed(network_id=m.network.pk, value_ids=[new.pk])
    assert AnalyticsState.objects.get(network=m.network).version == version + 1
    rows = analytics.scorecard(viewer)
    assert latest(rows, m.count) == D(4)
    row = next(row for row in rows[0].rows if row.indicator == m.count)
    assert [cell.value for cell in row.sparkline] == [D(10), D(4)]


def test_a_rebuild_shows_values_loaded_outside_the_services(world, m):
    put(m.count, "2024-01", 10, area=m.cities[0])
    viewer = access_as(world, "viewer")
    assert latest(analytics.scorecard(viewer), m.count) == D(10)
    DataValue.objects.filter(indicator=m.count).update(value=D(12))
    assert latest(analytics.scorecard(viewer), m.count) == D(10)  # not refreshed yet
    analytics.rebuild(m.network)
    assert latest(analytics.scorecard(viewer), m.count) == D(12)


def test_a_framework_change_shows_without_an_analytics_change(world, m):
    put(m.count, "2024-01", 10, area=m.cities[0])
    viewer = access_as(world, "viewer")
    row = next(row for row in analytics.scorecard(viewer)[0].rows if row.indicator == m.count)
    assert row.progress.target is None
    IndicatorTarget.objects.create(network=m.network, indicator=m.count, period="2024-12", value=20)
    Indicator.objects.filter(pk=m.count.pk).update(name="Children counted")
    row = next(row for row in analytics.scorecard(viewer)[0].rows if row.indicator == m.count)
    assert row.progress.target == D(20)
    assert row.indicator.name == "Children counted"


def test_the_public_never_gets_the_members_cached_figures(world, m):
    world.network.is_public = True
    world.network.save()
    Indicator.objects.filter(pk=m.count.pk).update(is_public=True)
    put(m.count, "2024-01", 30, organization=world.organization, area=m.cities[0])
    members = analytics.scorecard(access_as(world, "viewer"), public_only=True)
    assert latest(members, m.count) == D(30)  # the partners' total, for members
    public = analytics.scorecard(access_as(world, "public"))
    assert latest(public, m.count) is None


def test_another_networks_scorecard_is_its_own(world, m):
    other = measured_network(world.other_network)
    put(m.count, "2024-01", 10, area=m.cities[0])
    put(other.count, "2024-01", 99, area=other.cities[0])
    mine = analytics.scorecard(access_as(world, "viewer"))
    theirs = analytics.scorecard(access_as(world, "network_admin", network=world.other_network))
    assert latest(mine, m.count) == D(10)
    assert latest(theirs, other.count) == D(99)
    assert all(row.indicator.network_id == m.network.pk for group in mine for row in group.rows)


def test_batched_breakdowns_equal_one_period_at_a_time(world, m):
    for month, female, male, city in [
        ("2024-01", 4, 3, 0),
        ("2024-02", 5, 3, 1),
        ("2024-03", 6, 4, 2),
    ]:
        put(m.count, month, female, area=m.cities[city], categories={"gender": "female"})
        put(m.count, month, male, area=m.cities[city], categories={"gender": "male"})
        put(m.count, month, female + male, area=m.cities[city])
    put(m.count, "2024-02", 50, organization=world.organization, area=m.cities[0])
    viewer = access_as(world, "viewer")
    periods = ["2024-01", "2024-02", "2024-03", "2024-Q1", "2023-12"]
    batched = analytics.breakdowns(viewer, m.count, dimensions=[m.gender], periods=periods)
    areas = analytics.by_areas(viewer, m.count, areas=m.counties, periods=periods)
    for period in periods:
        assert batched[m.gender.pk][period] == analytics.breakdown(
            viewer, m.count, dimension=m.gender, period=period
        )
        one = analytics.by_area(viewer, m.count, period=period, parent=m.state)
        assert areas[period] == one
    assert [c.value for _, c in batched[m.gender.pk]["2024-Q1"]] == [D(15), D(10)]


def test_public_release_reads_do_not_grow_with_periods(world, m):
    Indicator.objects.filter(pk=m.single.pk).update(is_public=True)
    m.single.refresh_from_db()

    def release(years) -> int:
        for year in years:
            put(m.single, f"SY{year}-{(year + 1) % 100:02d}", 50 + year % 7)
        analytics.rebuild(m.network)
        with CaptureQueriesContext(connection) as queries:
            released = release_indicator(m.single, k=11)
        assert cell_reads(queries) <= 3
        return len(released.totals()), len(queries.captured_queries)

    two, queries_for_two = release(range(2019, 2021))
    six, queries_for_six = release(range(2021, 2025))
    assert (two, six) == (2, 6)
    assert queries_for_six == queries_for_two
