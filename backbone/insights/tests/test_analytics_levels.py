"""Figures at every level, with worked examples: areas, periods, weighted ratios,
partners' shares, precedence of reported figures, approved values only, access."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from backbone.insights import analytics
from backbone.insights.models import AnalyticsCell
from backbone.insights.refresh import data_values_changed
from backbone.insights.tests.analytics_fixtures import access_as, measured_network, put
from backbone.measurement.models import DataValue

D = Decimal


@pytest.fixture
def m(world):
    return measured_network(world.network)


def values(cells):
    return {cell.period: cell.value for cell in cells}


def test_area_and_period_rollups_of_a_sum(world, m):
    put(m.count, "2024-01", 10, area=m.cities[0])
    put(m.count, "2024-02", 5, area=m.cities[0])
    put(m.count, "2024-01", 7, area=m.cities[1])
    put(m.count, "2024-01", 100, area=m.cities[2])
    put(m.count, "2024-01", 1000, area=m.cities[3], status="submitted")
    viewer = access_as(world, "viewer")

    assert values(analytics.series(viewer, m.count)) == {"2024-01": D(117), "2024-02": D(5)}
    county = analytics.series(viewer, m.count, area=m.counties[0], period_kind="quarter")
    assert values(county) == {"2024-Q1": D(22)}
    assert values(analytics.series(viewer, m.count, period_kind="school_year")) == {
        "SY2023-24": D(122)
    }
    assert values(analytics.series(viewer, m.count, period_kind="calendar_year")) == {
        "2024": D(122)
    }
    rows = analytics.by_area(viewer, m.count, period="2024-01", parent=m.state)
    assert [(area.name, cell.value) for area, cell in rows] == [
        ("County 0", D(17)),
        ("County 1", D(100)),
    ]
    cities = analytics.by_area(viewer, m.count, period="2024-Q1", area_kind="city")
    assert [cell.value for _, cell in cities] == [D(15), D(7), D(100), None]
    assert cities[0][1].sources == 2


def test_weighted_ratio_sums_numerators_and_denominators(world, m):
    put(m.rate, "2024-01", numerator=1, denominator=4, area=m.cities[0])
    put(m.rate, "2024-01", numerator=30, denominator=40, area=m.cities[1])
    cells = analytics.series(access_as(world, "viewer"), m.rate)
    # (1 + 30) / (4 + 40) = 70.4545…%, not the mean of 25% and 75%
    assert cells[0].value == D("70.4545")
    assert (cells[0].numerator, cells[0].denominator, cells[0].sources) == (D(31), D(44), 2)


def test_not_aggregatable_only_shows_what_was_reported_at_that_level(world, m):
    put(m.single, "SY2023-24", 3, area=m.cities[0])
    put(m.single, "SY2023-24", 5, area=m.cities[1])
    viewer = access_as(world, "viewer")
    assert analytics.series(viewer, m.single) == []
    assert values(analytics.series(viewer, m.single, area=m.cities[1])) == {"SY2023-24": D(5)}
    put(m.single, "SY2023-24", 4)
    analytics.rebuild(m.network)
    assert values(analytics.series(viewer, m.single)) == {"SY2023-24": D(4)}


def test_a_figure_reported_for_an_area_wins_over_the_sum_of_its_parts(world, m):
    put(m.count, "2024-01", 10, area=m.cities[0])
    put(m.count, "2024-01", 7, area=m.cities[1])
    put(m.count, "2024-01", 20, area=m.counties[0])  # the county's own, better count
    put(m.count, "2024-Q1", 50, area=m.counties[0])  # reported for the quarter
    viewer = access_as(world, "viewer")
    county = analytics.series(viewer, m.count, area=m.counties[0])
    assert values(county) == {"2024-01": D(20)}
    quarter = analytics.series(viewer, m.count, area=m.counties[0], period_kind="quarter")
    assert values(quarter) == {"2024-Q1": D(50)}
    city = analytics.series(viewer, m.count, area=m.cities[0], period_kind="quarter")
    assert values(city) == {"2024-Q1": D(10)}


def test_partners_data_feeds_partner_totals_not_population_figures(world, m):
    put(m.count, "2024-01", 100, area=m.cities[0])
    put(m.count, "2024-01", 30, organization=world.organization, area=m.cities[0])
    viewer = access_as(world, "viewer")
    assert values(analytics.series(viewer, m.count)) == {"2024-01": D(100)}
    own = analytics.series(viewer, m.count, organization=world.organization)
    assert values(own) == {"2024-01": D(30)}


def test_partner_contribution_is_a_share_of_the_partners_total(world, m):
    put(m.measure, "2024-01", 30, organization=world.organization, area=m.cities[0])
    put(m.measure, "2024-02", 10, organization=world.organization, area=m.cities[0])
    put(m.measure, "2024-01", 60, organization=world.second_organization)  # network-wide
    put(m.measure, "2024-02", 999, organization=world.second_organization, status="draft")
    viewer = access_as(world, "viewer")
    assert values(analytics.series(viewer, m.measure)) == {"2024-01": D(90), "2024-02": D(10)}
    rows = analytics.by_organization(viewer, m.measure, period="2024-Q1")
    assert [(o, c.value, s) for o, c, s in rows] == [
        (world.second_organization, D(60), D("0.6000")),
        (world.organization, D(40), D("0.4000")),
    ]
    in_county = analytics.by_organization(viewer, m.measure, period="2024-01", area=m.counties[0])
    assert [(o, c.value) for o, c, _ in in_county] == [(world.organization, D(30))]


def test_breakdown_by_a_dimension(world, m):
    put(m.rate, "2024-01", numerator=5, denominator=10, categories={"gender": "female"})
    put(m.rate, "2024-01", numerator=2, denominator=10, categories={"gender": "male"})
    rows = analytics.breakdown(
        access_as(world, "viewer"), m.rate, dimension="gender", period="2024-01"
    )
    assert [(c.code, cell.value) for c, cell in rows] == [("female", D(50)), ("male", D(20))]
    rows = analytics.breakdown(
        access_as(world, "viewer"), m.rate, dimension=m.gender, period="2024-02"
    )
    assert [cell.value for _, cell in rows] == [None, None]


def test_only_approved_values_count(world, m):
    for status in ("draft", "submitted", "returned"):
        put(m.count, "2024-01", 5, area=m.cities[0], status=status, categories={"gender": status})
    assert analytics.series(access_as(world, "network_admin"), m.count) == []
    assert not AnalyticsCell.objects.filter(network=m.network).exists()


def test_the_public_sees_population_figures_only(world, m):
    world.network.is_public = True
    world.network.save()
    put(m.count, "2024-01", 30, organization=world.organization, area=m.cities[0])
    public = access_as(world, "public")
    assert analytics.series(public, m.count) == []  # the partners' total is not public
    assert analytics.series(public, m.count, organization=world.organization) == []
    assert analytics.series(public, m.measure) == []  # measures are for members
    put(m.count, "2024-01", 100, area=m.cities[0])
    analytics.rebuild(m.network)
    assert values(analytics.series(public, m.count)) == {"2024-01": D(100)}
    assert analytics.by_organization(public, m.count, period="2024-01") == []


def test_another_networks_figures_never_show(world, m):
    other = measured_network(world.other_network)
    put(other.count, "2024-01", 9, area=other.cities[0])
    put(m.count, "2024-01", 1, area=m.cities[0])
    mine = access_as(world, "network_admin")
    assert analytics.series(mine, other.count) == []
    assert analytics.by_area(mine, other.count, period="2024-01") == []
    assert values(analytics.series(mine, m.count)) == {"2024-01": D(1)}
    cells = AnalyticsCell.objects.filter(network=world.network)
    assert not cells.filter(indicator=other.count).exists()


def test_freshness_hook_counts_an_approval_at_once(world, m):
    value = put(m.count, "2024-01", 10, area=m.cities[0])
    viewer = access_as(world, "viewer")
    assert values(analytics.series(viewer, m.count)) == {"2024-01": D(10)}
    new = put(m.count, "2024-02", 4, area=m.cities[2], status="submitted")
    data_values_changed(network_id=m.network.pk, value_ids=[new.pk])
    assert values(analytics.series(viewer, m.count)) == {"2024-01": D(10)}
    DataValue.objects.filter(pk=new.pk).update(status="approved")
    data_values_changed(network_id=m.network.pk, value_ids=[new.pk])
    assert values(analytics.series(viewer, m.count, period_kind="quarter")) == {"2024-Q1": D(14)}
    DataValue.objects.filter(pk=value.pk).update(value=D(11))
    data_values_changed(network_id=m.network.pk, value_ids=[value.pk])
    assert values(analytics.series(viewer, m.count)) == {"2024-01": D(11), "2024-02": D(4)}


def test_rebuild_command(world, m, capsys):
    put(m.count, "2024-01", 10, area=m.cities[0])
    call_command("analytics", "rebuild", "--network", m.network.slug)
    assert "Rebuilt the analytics of river-city" in capsys.readouterr().out
    assert AnalyticsCell.objects.filter(network=m.network, indicator=m.count).count() > 4


def test_rebuild_command_names_an_unknown_network(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No network has the slug 'nowhere'"):
        call_command("analytics", "rebuild", "--network", "nowhere")
