import datetime
from decimal import Decimal

import pytest

from backbone.core.access import access_for
from backbone.ecosystem.models import NeedIndicator
from backbone.ecosystem.selectors import (
    ecosystem_gaps,
    ecosystem_map,
    ecosystem_redundancy,
    gap_rows,
)
from backbone.measurement.models import DataValue, Indicator, Result

pytestmark = pytest.mark.django_db


def cell(emap, area, code, stage=None):
    (found,) = [
        c
        for c in emap.cells
        if c.area == area
        and c.category.code == code
        and (c.life_stage.pk if c.life_stage else None) == (stage.pk if stage else None)
    ]
    return found


def test_cells_count_services_where_they_serve(world, directory):
    d = directory
    d.service(
        "FAFSA Nights",
        provider="A",
        areas=[d.harbor],
        capacity=[(Decimal(10), "seats"), (Decimal(4), "seats")],
    )
    d.service("College Coaching", provider="B", areas=[d.riverton])  # a city in Harbor
    d.service("Statewide Aid Line", provider="C", areas=[d.state])  # every county
    d.service("ZIP Tutoring", provider="A", term="education.tutoring", zip_location=True)
    d.service("Closed Program", provider="D", areas=[d.harbor], status="inactive")
    d.service("Nowhere Program", provider="E")
    d.service("Pantry", provider="F", term="food.pantry", stages=(), areas=[d.mill])
    public = access_for(None, d.network)  # the anonymous public of a public network

    emap = ecosystem_map(public, area_kind="county")

    harbor = cell(emap, d.harbor, "education")
    assert (harbor.services, harbor.providers) == (4, 3)
    assert harbor.capacity_text == "4 seats"  # the latest capacity of FAFSA Nights
    assert cell(emap, d.mill, "education").services == 1
    assert cell(emap, d.mill, "food").services == 1
    assert cell(emap, d.harbor, "food").services == 0
    assert (emap.placed_services, emap.unplaced_services) == (5, 1)
    assert [a.name for a in emap.areas] == ["Harbor County", "Mill County"]

    by_stage = ecosystem_map(public, area_kind="county", life_stage_id=d.postsecondary.pk)
    assert cell(by_stage, d.harbor, "education", d.postsecondary).services == 0
    # a service without life stages serves every life stage
    assert cell(by_stage, d.mill, "food", d.postsecondary).services == 1

    cities = ecosystem_map(public, area_kind="city", category="education")
    assert cell(cities, d.riverton, "education").services == 4
    assert [c.code for c in cities.categories] == ["education"]


@pytest.fixture
def graduation(world, directory):
    d = directory
    result = Result.objects.create(
        network=d.network, code="hs-grad", name="Graduation", life_stage=d.high_school
    )
    indicator = Indicator.objects.create(
        network=d.network,
        result=result,
        code="hs-graduation",
        name="On-time graduation",
        definition="Four-year graduation rate.",
        unit="percent",
        polarity="higher_is_better",
        aggregation="none",
        frequency="school_year",
    )

    def value(area, amount, year=2025, status="approved"):
        DataValue.objects.create(
            network=d.network,
            indicator=indicator,
            area=area,
            period=f"SY{year - 1}-{str(year)[2:]}",
            period_start=datetime.date(year - 1, 7, 1),
            period_end=datetime.date(year, 6, 30),
            value=Decimal(amount),
            status=status,
        )

    value(d.harbor, 50, year=2024)  # older: the latest period counts
    value(d.harbor, 71)
    value(d.harbor, 10, year=2026, status="draft")  # not approved: ignored
    value(d.mill, 84)
    value(None, 80)  # the network as a whole
    NeedIndicator.objects.create(
        network=d.network, category="education", life_stage=d.high_school, indicator=indicator
    )
    d.service("Harbor FAFSA", provider="A", areas=[d.harbor])
    for n in range(6):
        d.service(f"Mill college help {n}", provider=f"M{n}", areas=[d.mill])
    return indicator


def test_gap_score_worked_example(world, graduation, directory):
    """Harbor: 1 service for 10,000 residents, graduation 71 % against the network's 80 %.
    Mill: 6 for 20,000 and 84 %. Network supply 7 / 30,000 = 0.233 per 1,000.

    Harbor: need 80 / 71 = 1.127, supply 0.1 / 0.233 = 0.429, score 2.63.
    Mill: need 80 / 84 = 0.952, supply 0.3 / 0.233 = 1.286, score 0.74."""
    d = directory
    member = access_for(world.users["viewer"], d.network)

    emap = ecosystem_map(member, area_kind="county", by_life_stage=True)

    harbor = cell(emap, d.harbor, "education", d.high_school)
    assert harbor.need.ratio == pytest.approx(80 / 71)
    assert harbor.supply_ratio == pytest.approx(0.1 / (7 / 30))
    assert harbor.score == pytest.approx((80 / 71) / (0.1 / (7 / 30)))
    assert round(harbor.score, 2) == 2.63
    assert harbor.explanation == (
        "High need: On-time graduation 71% vs network 80% (higher is better); low supply: "
        "0.10 services per 1,000 residents vs 0.23 network-wide. "
        "Score = need 1.13 ÷ supply 0.43 = 2.6."
    )
    mill = cell(emap, d.mill, "education", d.high_school)
    assert mill.score == pytest.approx((80 / 84) / (0.3 / (7 / 30)))
    gaps = ecosystem_gaps(emap, threshold=1.5)
    assert harbor in gaps and mill not in gaps
    assert gaps.index(harbor) < len(gaps)
    # Postsecondary: no service anywhere, so no area is scored.
    assert cell(emap, d.harbor, "education", d.postsecondary).score is None
    assert (d.postsecondary, harbor.category) in emap.absent()


def test_public_gap_scores_use_public_indicators_only(world, graduation, directory):
    d = directory
    public = access_for(None, d.network)

    harbor = cell(
        ecosystem_map(public, area_kind="county", by_life_stage=True),
        d.harbor,
        "education",
        d.high_school,
    )

    # The indicator is not public: need is left out and the score is supply alone.
    assert harbor.need.ratio == 1.0
    assert harbor.explanation.startswith("No approved value of On-time graduation for this area")
    graduation.is_public = True
    graduation.save()
    again = ecosystem_map(public, area_kind="county", by_life_stage=True)
    assert cell(again, d.harbor, "education", d.high_school).need.ratio == pytest.approx(80 / 71)


def test_lower_is_better_indicators_turn_the_need_around(world, graduation, directory):
    graduation.polarity = "lower_is_better"
    graduation.save()
    member = access_for(world.users["viewer"], directory.network)

    emap = ecosystem_map(member, area_kind="county", by_life_stage=True)

    harbor = cell(emap, directory.harbor, "education", directory.high_school)
    assert harbor.need.ratio == pytest.approx(71 / 80)
    assert harbor.explanation.startswith("Low need: On-time graduation 71% vs network 80%")


def test_redundancy_needs_the_threshold_of_distinct_providers(world, directory):
    d = directory
    first_gen = "First-generation college students"
    for provider in ("A", "B", "C"):
        d.service(f"FAFSA help {provider}", provider=provider, areas=[d.harbor],
                  populations=[first_gen])  # fmt: skip
    d.service("FAFSA help A, second site", provider="A", areas=[d.harbor], populations=[first_gen])
    d.service("Benefits", provider="D", areas=[d.harbor], populations=["Low-income families"])
    d.service("Mill FAFSA", provider="E", areas=[d.mill], populations=[first_gen])
    member = access_for(world.users["viewer"], d.network)

    found = ecosystem_redundancy(member, area_kind="county", minimum=3)

    assert [(r.area, r.life_stage, r.category.code, r.population) for r in found] == [
        (d.harbor, d.high_school, "education", first_gen)
    ]
    assert found[0].providers == ["A", "B", "C"]
    assert len(found[0].services) == 4
    assert ecosystem_redundancy(member, area_kind="county", minimum=4) == []


@pytest.mark.parametrize(
    ("declines", "text", "words"),
    [
        (1, "", "1 referral of people"),
        (3, "", "3 referrals of people"),
        (1, "fewer than 11", "fewer than 11 referrals of people"),
    ],
)
def test_the_decline_explanation_reads_right(declines, text, words):
    from backbone.ecosystem.selectors import Cell, _raise_for_declines

    cell = Cell(None, None, None, score=4.0, referrals_received=5)
    cell.capacity_declines, cell.capacity_declines_text = declines, text
    _raise_for_declines(cell)
    assert f"Unmet demand: {words} here declined for no capacity" in cell.explanation


def test_gaps_that_differ_only_by_life_stage_share_a_row(world, directory, client_for):
    """Mill has education services for both life stages, Harbor none: Harbor's two cells
    have the same score and explanation, so the page shows them as one row."""
    d = directory
    for n in range(2):
        d.service(f"Mill tutoring {n}", provider=f"M{n}", areas=[d.mill],
                  stages=("high_school", "postsecondary"))  # fmt: skip
    member = access_for(world.users["viewer"], d.network)
    emap = ecosystem_map(member, area_kind="county", by_life_stage=True)
    gaps = ecosystem_gaps(emap, threshold=1.5)
    harbor = [g for g in gaps if g.area == d.harbor and g.category.code == "education"]
    assert [g.life_stage for g in harbor] == [d.high_school, d.postsecondary]

    rows = gap_rows(gaps)

    merged = [r for r in rows if r.cell.area == d.harbor and r.cell.category.code == "education"]
    assert len(merged) == 1 and merged[0].life_stages == [d.high_school, d.postsecondary]
    assert sum(len(r.life_stages) for r in rows) == len(gaps)
    assert [r.cell.score for r in rows] == sorted((r.cell.score for r in rows), reverse=True)
    page = client_for("viewer").get(f"/n/{d.network.slug}/ecosystem/gaps/?area_kind=county")
    html = page.content.decode()
    assert len(gaps) == 2 and len(rows) == 1
    assert "2 gaps in 1 row: gaps that differ only by life stage share a row" in html
    assert "<td>High school, Postsecondary</td>" in html
