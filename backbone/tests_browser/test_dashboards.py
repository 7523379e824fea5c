"""A viewer opens the network scorecard and an indicator's page, changes the breakdown
with the select (htmx), and every page passes axe-core with no serious or critical
violation."""

from decimal import Decimal

import pytest
from django.db.models import Q
from playwright.sync_api import expect

from backbone.core.access import NETWORK_ADMIN, ORG_ADMIN, access_for
from backbone.core.models import Area, Membership, NetworkRole
from backbone.measurement.data_file import data_import
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Result,
)
from backbone.measurement.services import data_values_review
from backbone.tests_browser.support import NETWORK, assert_accessible, log_in, visit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

RACES = [
    ("black-african-american", "Black or African American"),
    ("white", "White"),
    ("hispanic-latino", "Hispanic or Latino"),
    ("asian", "Asian"),
]
HEADER = "indicator,period,organization,area,race-ethnicity,value,numerator,denominator,comment\n"


def add_figures(network) -> None:
    """An indicator of its own (so the test does not depend on the demo's figures) with
    four years of approved totals, figures by race, by county and by partner, and a
    target; and a tutoring measure of the demo org admin's organization."""
    admin_role = NetworkRole.objects.filter(network=network, role=NETWORK_ADMIN).first()
    admin = access_for(admin_role.user, network)
    race, _ = Dimension.objects.get_or_create(
        network=network, code="race-ethnicity", defaults={"name": "Race and ethnicity"}
    )
    for position, (code, name) in enumerate(RACES):
        Category.objects.get_or_create(
            network=network,
            dimension=race,
            code=code,
            defaults={"name": name, "position": position},
        )
    reading = Indicator.objects.create(
        network=network,
        result=Result.objects.filter(network=network).order_by("position", "code").first(),
        code="sample-reading",
        name="Sample reading proficiency",
        definition="Percent of 3rd graders proficient in reading (browser test).",
        unit="percent",
        polarity="higher_is_better",
        formula="ratio",
        numerator="Proficient",
        denominator="Tested",
        aggregation="weighted",
        frequency="school_year",
    )
    gender, _ = Dimension.objects.get_or_create(
        network=network, code="gender", defaults={"name": "Gender", "position": 1}
    )
    reading.dimensions.set([race, gender])
    IndicatorTarget.objects.create(
        network=network, indicator=reading, period="SY2025-26", value=Decimal(50)
    )
    # The demo org admin's organization first: its dashboard gets the tutoring measure.
    first = NetworkRole.objects.filter(network=network, role=ORG_ADMIN).order_by("pk").first()
    others = (
        Membership.objects.filter(network=network, status="active", role="partner")
        .exclude(organization=first.organization)
        .select_related("organization")
        .order_by("organization__name")[:2]
    )
    partners = [first.organization, *(m.organization for m in others)]
    counties = Area.objects.filter(network=network, kind="county").order_by("code")[:2]
    tutoring = PerformanceMeasure.objects.create(
        network=network,
        organization=partners[0],
        code="sample-tutoring",
        name="Hours of reading tutoring (sample)",
        category="how_much",
        unit="count",
        polarity="higher_is_better",
        frequency="school_year",
    )
    MeasureTarget.objects.create(
        network=network, measure=tutoring, organization=partners[0], period="SY2023-24", value=1000
    )
    lines = [
        f"sample-reading,SY{year}-{(year + 1) % 100:02d},,,,,{proficient},1000,"
        for year, proficient in zip(range(2020, 2024), (380, 395, 410, 428), strict=True)
    ]
    lines += [
        f"sample-reading,SY2023-24,,,{code},,{numerator},{denominator},"
        for (code, _), (numerator, denominator) in zip(
            RACES, [(96, 300), (210, 380), (92, 250), (30, 70)], strict=True
        )
    ]
    lines += [
        f"sample-reading,SY2023-24,,{county.code},,,{numerator},{denominator},"
        for county, (numerator, denominator) in zip(
            counties, [(150, 320), (120, 300)], strict=False
        )
    ]
    lines += [
        f"sample-reading,SY2023-24,{partner.slug},,,,{numerator},{denominator},"
        for partner, (numerator, denominator) in zip(
            partners, [(60, 110), (45, 100), (31, 80)], strict=False
        )
    ]
    lines += [
        f"sample-tutoring,SY2022-23,{partners[0].slug},,,820,,,",
        f"sample-tutoring,SY2023-24,{partners[0].slug},,,950,,,",
    ]
    result = data_import(
        access=admin,
        data=(HEADER + "\n".join(lines) + "\n").encode(),
        filename="figures.csv",
        commit=True,
    )
    assert result.ok, [str(error) for error in result.errors[:5]]
    ours = DataValue.objects.filter(
        Q(indicator=reading) | Q(measure=tutoring), status=DataValue.Status.DRAFT
    )
    data_values_review(access=admin, values=list(ours), action="submit")
    ours = DataValue.objects.filter(Q(indicator=reading) | Q(measure=tutoring))
    data_values_review(access=admin, values=list(ours), action="approve")


def test_viewer_reads_the_scorecard_and_an_indicator(page, demo):
    add_figures(demo)
    # The first chart drawn starts vl-convert's engine (about a second on an idle machine).
    page.set_default_timeout(30_000)
    log_in(page, "viewer")
    visit(page, f"{NETWORK}/scorecard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Network scorecard")
    row = page.get_by_role("row").filter(has_text="Sample reading proficiency")
    expect(row).to_contain_text("42.8%")
    expect(row).to_contain_text("Improving")
    expect(row.locator("svg[role=img] title")).to_have_count(1)

    row.get_by_role("link").click()
    page.wait_for_url(f"**{NETWORK}/indicators/sample-reading/")
    expect(page.get_by_role("heading", name="Trend, target and forecast")).to_be_visible()
    expect(page.locator("figure svg[role=img]")).to_have_count(4)
    assert_accessible(page)

    by_group = page.locator("#by-group")
    expect(by_group.get_by_role("table")).to_contain_text("Black or African American")
    by_group.locator("select[name=dimension]").select_option("gender")
    expect(page.locator("#by-group")).to_contain_text("No approved figures by gender")
    assert page.url.endswith("/indicators/sample-reading/"), "htmx swapped the section only"
    assert_accessible(page)
