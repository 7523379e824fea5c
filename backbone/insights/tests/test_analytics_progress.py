"""Progress, status, trend, forecast, equity gaps and the scorecard, with worked examples."""

import datetime
from decimal import Decimal

import pytest
from django.http import Http404

from backbone.insights import analytics
from backbone.insights.analytics import Cell, progress
from backbone.insights.analytics.equity import gaps_from
from backbone.insights.tests.analytics_fixtures import access_as, measured_network, put
from backbone.measurement import periods as P
from backbone.measurement.models import Indicator, IndicatorTarget

D = Decimal


def cell(period: str, value) -> Cell:
    return Cell(
        period, P.parse(period).start(7), None if value is None else D(value), None, None, 1
    )


def indicator(polarity="higher_is_better", baseline=None, period=""):
    return Indicator(
        code="x",
        polarity=polarity,
        unit="percent",
        baseline_value=baseline,
        baseline_period=period,
        aggregation="weighted",
        frequency="school_year",
    )


@pytest.mark.parametrize(
    ("latest", "status"), [("45", "on_track"), ("43", "at_risk"), ("42", "off_track")]
)
def test_status_against_the_line_from_baseline_to_target(latest, status):
    # 40 in SY2020-21 to 50 in SY2024-25: the line is at 44.9966 at the start of SY2022-23;
    # at risk within 5% of it (2.2498 below).
    subject = indicator(baseline=D(40), period="SY2020-21")
    cells = [cell("SY2021-22", 41), cell("SY2022-23", latest)]
    result = progress(subject, cells, targets={"SY2024-25": D(50)})
    assert (result.target, result.target_period, result.status) == (D(50), "SY2024-25", status)
    assert result.latest == cells[-1]


@pytest.mark.parametrize(
    ("latest", "status"), [("15", "on_track"), ("15.6", "at_risk"), ("17", "off_track")]
)
def test_status_of_a_lower_is_better_indicator(latest, status):
    # Chronic absence from 20% to 10%: the line is at 15.0034 in SY2022-23.
    subject = indicator("lower_is_better", baseline=D(20), period="SY2020-21")
    result = progress(subject, [cell("SY2022-23", latest)], targets={"SY2024-25": D(10)})
    assert result.status == status


def test_no_data_and_no_target():
    subject = indicator()
    empty = progress(subject, [cell("SY2022-23", None)], targets={})
    assert (empty.status, empty.trend, empty.forecast, empty.latest) == ("no_data", None, [], None)
    # Without a baseline the first figure is the baseline; without a target, hold it.
    held = progress(subject, [cell("SY2021-22", 30), cell("SY2022-23", 29)], targets={})
    assert (held.baseline, held.baseline_period) == (D(30), "SY2021-22")
    assert held.status == "at_risk"


def test_the_first_target_at_or_after_the_latest_figure_is_the_goal():
    subject = indicator(baseline=D(40), period="SY2020-21")
    targets = {"SY2021-22": D(42), "SY2023-24": D(45), "SY2025-26": D(55)}
    result = progress(subject, [cell("SY2022-23", 44)], targets=targets)
    assert (result.target_period, result.target) == ("SY2023-24", D(45))
    late = progress(subject, [cell("SY2027-28", 60)], targets=targets)
    assert (late.target_period, late.status) == ("SY2025-26", "on_track")


def test_a_target_with_a_bad_period_code_is_left_out():
    result = progress(indicator(), [cell("SY2022-23", 44)], targets={"2024-Q5": D(50)})
    assert (result.target, result.target_period) == (None, "")


@pytest.mark.parametrize(
    ("polarity", "values", "trend"),
    [
        ("higher_is_better", [10, 12, 14], "improving"),
        ("lower_is_better", [10, 12, 14], "worsening"),
        ("lower_is_better", [14, 12, 10], "improving"),
        ("higher_is_better", ["10", "10.05", "10"], "flat"),
        ("higher_is_better", [10], None),
    ],
)
def test_trend_is_judged_by_polarity(polarity, values, trend):
    cells = [cell(f"2024-{n + 1:02d}", v) for n, v in enumerate(values)]
    assert progress(indicator(polarity), cells, targets={}).trend == trend


def test_forecast_projects_the_least_squares_line_to_the_target_period():
    cells = [cell("2024-01", 10), cell("2024-02", 12), cell("2024-03", 14), cell("2024-04", None)]
    result = progress(indicator(), cells, targets={"2024-06": D(30)})
    assert result.forecast == [("2024-04", D(16)), ("2024-05", D(18)), ("2024-06", D(20))]
    assert result.status == "off_track"
    ahead = progress(indicator(), cells[:2] + [cell("2024-03", 13)], targets={}).forecast
    # slope 1.5 through 10, 12, 13 (intercept 8.6667 at 2024-01)
    assert [code for code, _ in ahead] == ["2024-04", "2024-05", "2024-06"]
    assert ahead[0][1] == D("14.6667")


def test_equity_gaps_to_the_largest_group_and_to_the_best(world):
    m = measured_network(world.network)
    put(m.rate, "2024-01", numerator=4, denominator=10, categories={"gender": "female"})
    put(m.rate, "2024-01", numerator=6, denominator=30, categories={"gender": "male"})
    put(m.rate, "2024-02", numerator=5, denominator=10, categories={"gender": "female"})
    put(m.rate, "2024-02", numerator=6, denominator=30, categories={"gender": "male"})
    gaps = analytics.equity_gaps(access_as(world, "viewer"), m.rate, dimension="gender")
    female, male = gaps
    assert female.reference == male.category == m.male  # the largest group (30)
    assert (female.value, female.diff_reference, female.ratio_reference) == (D(50), D(30), D("2.5"))
    assert (female.diff_best, female.ratio_best) == (D(0), D(1))
    assert (male.diff_best, male.ratio_best) == (D(-30), D("0.4"))
    assert female.narrowing is False  # 20 points in 2024-01, 30 now
    first = analytics.equity_gaps(
        access_as(world, "viewer"),
        m.rate,
        dimension=m.gender,
        period="2024-01",
        reference=m.female,
    )
    assert [(g.category, g.diff_reference, g.narrowing) for g in first] == [
        (m.female, D(0), None),
        (m.male, D(-20), None),
    ]


def test_equity_gap_best_group_follows_polarity():
    lower = indicator("lower_is_better")
    now = {"g=a": cell("2024-01", 10), "g=b": cell("2024-01", 30)}
    history = {"g=a": [cell("2023-01", 5), now["g=a"]], "g=b": [cell("2023-01", 35), now["g=b"]]}
    gaps = gaps_from(lower, [("a", "g=a"), ("b", "g=b")], now, history, reference="b")
    assert [(g.category, g.diff_best, g.diff_reference, g.narrowing) for g in gaps] == [
        ("a", D(0), D(-20), True),  # 30 apart a year earlier, 20 now
        ("b", D(20), D(0), False),
    ]


def test_breakdown_by_an_unknown_dimension_is_404(world):
    m = measured_network(world.network)
    with pytest.raises(Http404):
        analytics.breakdown(access_as(world, "viewer"), m.rate, dimension="nope", period="2024-01")


def test_scorecard(world):
    m = measured_network(world.network)
    IndicatorTarget.objects.create(network=m.network, indicator=m.rate, period="2024-12", value=60)
    Indicator.objects.filter(pk=m.rate.pk).update(baseline_value=40, baseline_period="2024-01")
    for month, female, male in [("2024-01", 4, 3), ("2024-02", 5, 3), ("2024-03", 6, 4)]:
        put(m.rate, month, numerator=female, denominator=10, categories={"gender": "female"})
        put(m.rate, month, numerator=male, denominator=10, categories={"gender": "male"})
        put(m.rate, month, numerator=female + male, denominator=20, area=m.cities[0])
    put(m.count, "2024-03", 5, organization=world.second_organization, status="submitted")
    rows = analytics.scorecard(access_as(world, "org_admin"))
    assert [r.result for r in rows] == [m.result]
    by_code = {row.indicator.code: row for row in rows[0].rows}
    assert list(by_code) == ["count", "lower", "rate", "single"]
    rate = by_code["rate"]
    assert rate.latest.period == "2024-03" and rate.latest.value == D(50)
    assert [c.value for c in rate.sparkline] == [D(35), D(40), D(50)]
    assert rate.progress.trend == "improving"
    assert rate.progress.status == "on_track"  # the line is at 43.58 on 1 March
    assert rate.progress.forecast[-1] == ("2024-12", D("116.6667"))
    gap = rate.largest_gap
    assert (gap.category, gap.reference, gap.diff_reference) == (m.male, m.female, D(-20))
    assert gap.narrowing is False  # 10 points in 2024-01, 20 in 2024-03
    # The other partner's unapproved count never shows.
    assert by_code["count"].latest is None and by_code["count"].sparkline == []
    assert by_code["count"].progress.status == "no_data"


def test_public_scorecard_shows_public_indicators_only(world):
    m = measured_network(world.network)
    world.network.is_public = True
    world.network.save()
    Indicator.objects.filter(pk=m.rate.pk).update(is_public=True)
    put(m.rate, "2024-01", numerator=1, denominator=2, area=m.cities[0])
    put(m.count, "2024-01", 3, area=m.cities[0])
    public = analytics.scorecard(access_as(world, "public"))
    assert [row.indicator for row in public[0].rows] == [m.rate]
    assert public[0].rows[0].latest.value == D(50)
    members = analytics.scorecard(access_as(world, "viewer"), public_only=True)
    assert [row.indicator for row in members[0].rows] == [m.rate]
    everyone = analytics.scorecard(access_as(world, "viewer"))
    assert len(everyone[0].rows) == 4


def test_outsiders_network_scorecard_has_nothing_of_ours(world):
    m = measured_network(world.network)
    put(m.rate, "2024-01", numerator=1, denominator=2, area=m.cities[0])
    outsider = access_as(world, "network_admin", network=world.other_network)
    assert analytics.scorecard(outsider) == []
    assert analytics.series(outsider, m.rate) == []
    assert (
        datetime.date(2024, 1, 1)
        == analytics.series(access_as(world, "viewer"), m.rate)[0].period_start
    )
