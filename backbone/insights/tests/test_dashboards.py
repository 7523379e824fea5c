"""The dashboards: the network scorecard, an indicator's page and a partner's dashboard,
on data reported through the tidy data file and approved by a network admin."""

import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from backbone.core.access import access_for
from backbone.measurement import reporting, submissions
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
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

HEADER = "indicator,period,organization,area,race-ethnicity,value,numerator,denominator,comment\n"


@dataclass
class Data:
    world: object
    reading: Indicator
    tutoring: PerformanceMeasure  # world.organization's own measure
    mentoring: PerformanceMeasure  # world.second_organization's own measure


def import_values(access, rows: str, *, approve: bool = True) -> list[DataValue]:
    result = data_import(
        access=access, data=(HEADER + rows).encode(), filename="values.csv", commit=True
    )
    assert result.ok, [str(error) for error in result.errors]
    values = list(DataValue.objects.filter(network=access.network, status="draft"))
    data_values_review(access=access, values=values, action="submit")
    if approve:
        submitted = list(DataValue.objects.filter(network=access.network, status="submitted"))
        data_values_review(access=access, values=submitted, action="approve")
    return values


@pytest.fixture
def data(world) -> Data:
    network = world.network
    admin = access_for(world.users["network_admin"], network)
    stage = f.LifeStageFactory(network=network, name="Elementary school")
    result = Result.objects.create(
        network=network, code="early-reading", name="Children read by 3rd grade", life_stage=stage
    )
    race = Dimension.objects.create(network=network, code="race-ethnicity", name="Race")
    for position, (code, name) in enumerate(
        (("black", "Black or African American"), ("white", "White"))
    ):
        Category.objects.create(
            network=network, dimension=race, code=code, name=name, position=position
        )
    reading = Indicator.objects.create(
        network=network,
        result=result,
        code="grade3-reading",
        name="3rd-grade reading",
        definition="Percent of 3rd graders proficient in reading.",
        unit="percent",
        polarity="higher_is_better",
        formula="ratio",
        numerator="Proficient",
        denominator="Tested",
        aggregation="weighted",
        frequency="school_year",
        data_source="State assessment",
        evidence="Predicts on-time graduation.",
        baseline_value=Decimal("41.0"),
        baseline_period="SY2021-22",
    )
    reading.dimensions.set([race])
    IndicatorTarget.objects.create(
        network=network, indicator=reading, period="SY2024-25", value=Decimal(50)
    )
    tutoring = PerformanceMeasure.objects.create(
        network=network,
        organization=world.organization,
        code="tutoring-hours",
        name="Hours of tutoring",
        category="how_much",
        unit="count",
        polarity="higher_is_better",
        frequency="school_year",
    )
    MeasureTarget.objects.create(
        network=network,
        measure=tutoring,
        organization=world.organization,
        period="SY2023-24",
        value=Decimal(1000),
    )
    mentoring = PerformanceMeasure.objects.create(
        network=network,
        organization=world.second_organization,
        code="mentoring-matches",
        name="Mentoring matches",
        category="better_off",
        unit="count",
        polarity="higher_is_better",
        frequency="school_year",
    )
    one, two = world.organization.slug, world.second_organization.slug
    import_values(
        admin,
        "grade3-reading,SY2021-22,,,,,410,1000,\n"
        "grade3-reading,SY2022-23,,,,,430,1000,\n"
        "grade3-reading,SY2023-24,,,,,450,1000,\n"
        "grade3-reading,SY2023-24,,,black,,120,400,\n"
        "grade3-reading,SY2023-24,,,white,,330,600,\n"
        f"grade3-reading,SY2023-24,{one},,,,200,400,\n"
        f"grade3-reading,SY2023-24,{two},,,,250,600,\n"
        f"tutoring-hours,SY2022-23,{one},,,800,,,\n"
        f"tutoring-hours,SY2023-24,{one},,,950,,,\n"
        f"mentoring-matches,SY2023-24,{two},,,64,,,\n",
    )
    # Partner B's newer figure, reported but not approved: no dashboard counts it.
    import_values(admin, f"mentoring-matches,SY2024-25,{two},,,777,,,Spring drive\n", approve=False)
    return Data(world, reading, tutoring, mentoring)


def url(name, world, *args):
    return reverse(f"insights:{name}", args=[world.network.slug, *args])


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# Network scorecard -------------------------------------------------------------------------


def test_scorecard_shows_each_indicator_under_its_result(data, client_for):
    response = client_for("viewer").get(url("scorecard", data.world))
    assert response.status_code == 200
    page = text_of(response)
    assert "Children read by 3rd grade" in page and "Life stage: Elementary school" in page
    row = page[page.index("3rd-grade reading</a>") :]
    row = row[: row.index("</tr>")]
    assert 'class="figure">45.0%</span> <span class="muted when">SY2023-24</span>' in row
    assert 'class="figure">50.0%</span> <span class="muted when">by SY2024-25</span>' in row
    status = re.search(r'<span class="badge (\w+)"><span aria-hidden="true">.</span> ([\w ]+)', row)
    assert status and status.group(2) in {"On track", "At risk", "Off track"}
    assert "Improving" in row  # 41.0 → 43.0 → 45.0, higher is better
    assert "Black or African American: −25.0 points vs White" in row
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img"' in row


def test_scorecard_without_framework_says_who_can_set_it_up(world, client_for):
    response = client_for("viewer").get(url("scorecard", world))
    assert response.status_code == 200
    assert "A network admin sets up the results framework" in text_of(response)


def test_scorecard_outsider_gets_404_and_anonymous_is_sent_to_sign_in(data, client_for):
    assert client_for("outsider").get(url("scorecard", data.world)).status_code == 404
    response = client_for(None).get(url("scorecard", data.world))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_scorecard_csv_has_the_numbers_of_the_table(data, client_for):
    response = client_for("viewer").get(url("scorecard-download", data.world, "csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="river-city-scorecard.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["result"], row["indicator"], row["period"]) == (
        "early-reading",
        "grade3-reading",
        "SY2023-24",
    )
    assert (row["value"], row["target"], row["target_period"]) == ("45.0", "50.0", "SY2024-25")
    assert row["largest_equity_gap"] == "Black or African American: −25.0 points vs White"


def test_scorecard_xlsx_has_numbers_as_numbers(data, client_for):
    response = client_for("viewer").get(url("scorecard-download", data.world, "xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, row = [list(r) for r in sheet.iter_rows(values_only=True)]
    record = dict(zip(header, row, strict=True))
    assert record["value"] == pytest.approx(45.0) and record["target"] == pytest.approx(50.0)
    assert record["indicator"] == "grade3-reading"


def test_scorecard_download_of_an_unknown_format_is_not_found(data, client_for):
    response = client_for("viewer").get(f"/n/{data.world.network.slug}/scorecard.pdf")
    assert response.status_code == 404


# Indicator page ----------------------------------------------------------------------------


def test_indicator_page_has_definition_and_charts_with_tables(data, client_for):
    response = client_for("funder").get(url("indicator-detail", data.world, "grade3-reading"))
    assert response.status_code == 200
    page = text_of(response)
    for text in (
        "Percent of 3rd graders proficient in reading.",
        "Higher is better",
        "State assessment",
        "Predicts on-time graduation.",
        "41.0% in SY2021-22",  # the baseline
        "50.0% by SY2024-25",  # the target
    ):
        assert text in page, text
    charts = response.context["charts"]
    assert charts["trend"].rows[:3] == [
        ["SY2021-22", "41.0%", "", ""][: len(charts["trend"].columns)],
        ["SY2022-23", "43.0%", "", ""][: len(charts["trend"].columns)],
        ["SY2023-24", "45.0%", "", ""][: len(charts["trend"].columns)],
    ]
    assert charts["group"].rows == [
        ["Black or African American", "30.0%"],
        ["White", "55.0%"],
    ]
    assert charts["partner"].columns == ["Partner", "Percent", "Share of the partners' numerator"]
    assert sorted(charts["partner"].rows) == sorted(
        [
            [data.world.organization.name, "50.0%", "44.4%"],  # 200 of the 450 proficient
            [data.world.second_organization.name, "41.7%", "55.6%"],
        ]
    )
    assert page.count('role="img" aria-labelledby=') >= 3
    assert "<title id=" in page and "<desc id=" in page


def test_indicator_group_select_swaps_only_its_section_with_htmx(data, client_for):
    response = client_for("viewer").get(
        url("indicator-detail", data.world, "grade3-reading"),
        {"part": "group", "dimension": "race-ethnicity", "period": "SY2023-24"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="by-group">')
    assert "<html" not in body and "30.0%" in body


def test_indicator_unknown_dimension_and_period_say_what_is_wrong(data, client_for):
    response = client_for("viewer").get(
        url("indicator-detail", data.world, "grade3-reading"),
        {"dimension": "shoe-size", "period": "SY1999-00"},
    )
    assert response.status_code == 400
    page = text_of(response)
    assert (
        "3rd-grade reading is not broken down by &#x27;shoe-size&#x27;; "
        "choose one of: race-ethnicity." in page
    )
    assert "no approved figures of 3rd-grade reading for &#x27;SY1999-00&#x27;" in page


def test_indicator_of_another_network_or_unknown_code_is_404(data, world, client_for):
    other_result = Result.objects.create(
        network=world.other_network,
        code="r",
        name="R",
        life_stage=f.LifeStageFactory(network=world.other_network),
    )
    Indicator.objects.create(
        network=world.other_network,
        result=other_result,
        code="lake-only",
        name="Lake only",
        definition="x",
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="calendar_year",
    )
    viewer = client_for("viewer")
    assert viewer.get(url("indicator-detail", world, "lake-only")).status_code == 404
    assert viewer.get(url("indicator-detail", world, "no-such")).status_code == 404
    outsider = client_for("outsider")
    assert outsider.get(url("indicator-detail", world, "grade3-reading")).status_code == 404
    path = url("indicator-download", world, "grade3-reading", "csv")
    assert outsider.get(path).status_code == 404


def test_indicator_download_has_the_figures_of_the_tables(data, client_for):
    client = client_for("viewer")
    page = client.get(url("indicator-detail", data.world, "grade3-reading"))
    response = client.get(url("indicator-download", data.world, "grade3-reading", "csv"))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    trend = [(r["period"], r["value"], r["target"]) for r in rows if r["chart"] == "trend"]
    shown = [
        (row[0], row[1].rstrip("%"), row[2].rstrip("%"))
        for row in page.context["charts"]["trend"].rows
    ]
    assert trend == shown
    groups = {r["group"]: r["value"] for r in rows if r["chart"] == "by race-ethnicity"}
    assert groups == {"Black or African American": "30.0", "White": "55.0"}
    partners = {
        r["group"]: (r["value"], r["share_percent"]) for r in rows if r["chart"] == "by partner"
    }
    assert partners[data.world.organization.name] == ("50.0", "44.4")
    xlsx = client.get(url("indicator-download", data.world, "grade3-reading", "xlsx"))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == len(rows) + 1


def test_indicator_chart_png_download(data, client_for):
    response = client_for("viewer").get(
        url("indicator-chart-download", data.world, "grade3-reading", "group")
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


# Partner dashboard -------------------------------------------------------------------------


def dashboard(world, organization):
    return reverse("insights:partner-dashboard", args=[world.network.slug, organization.slug])


def test_partner_dashboard_shows_its_measures_against_its_own_targets(data, client_for):
    response = client_for("org_member").get(dashboard(data.world, data.world.organization))
    assert response.status_code == 200
    page = text_of(response)
    section = page[page.index("How much did we do?") :]
    row = section[section.index("Hours of tutoring</th>") :]
    row = row[: row.index("</tr>")]
    assert 'class="figure">950</span> <span class="muted when">SY2023-24</span>' in row
    assert 'class="figure">1,000</span> <span class="muted when">by SY2023-24</span>' in row
    assert "Mentoring matches" not in page  # partner B's measure
    assert "No submissions are expected yet" in page


def test_partner_dashboard_never_shows_unapproved_figures(data, client_for):
    """The funder sees partner B's dashboard, with its approved figures only; a member
    of another partner does not see B's dashboard at all."""
    second = data.world.second_organization
    response = client_for("funder").get(dashboard(data.world, second))
    assert response.status_code == 200
    page = text_of(response)
    assert 'class="figure">64</span> <span class="muted when">SY2023-24</span>' in page
    assert "777" not in page
    assert "Submission status is shown to the organization" in page
    other_member = client_for("org_member").get(dashboard(data.world, second))
    assert other_member.status_code == 403
    assert "777" not in other_member.content.decode()
    assert client_for("viewer").get(dashboard(data.world, second)).status_code == 403


def test_partner_dashboard_outsiders_get_404(data, world, client_for):
    assert client_for("outsider").get(dashboard(world, world.organization)).status_code == 404
    other_org = reverse(
        "insights:partner-dashboard", args=[world.network.slug, world.other_organization.slug]
    )
    assert client_for("network_admin").get(other_org).status_code == 404


def test_partner_dashboard_lists_submissions_with_their_status(data, world, client_for):
    admin = access_for(world.users["network_admin"], world.network)
    submissions.assignment_create(
        access=admin,
        fields={
            "organization": world.organization,
            "name": "Tutoring each quarter",
            "measures": [data.tutoring],
            "frequency": "quarter",
            "first_period": "2026-Q1",
            "last_period": "2026-Q2",
            "due_days": 30,
            "reminder_days": 7,
        },
    )
    reporting.submissions_sync(world.network, datetime.date(2026, 8, 15))
    response = client_for("org_admin").get(dashboard(world, world.organization))
    page = text_of(response)
    table = page[page.index('id="submissions"') :]
    assert "2026-Q2" in table and "2026-Q1" in table and "Tutoring each quarter" in table
    assert table.index("2026-Q2") < table.index("2026-Q1")  # latest first
    # Both periods are past due and nothing was sent: missing, flagged as late.
    assert table.count('<span class="badge late">Missing</span>') == 2


def test_partner_without_measures_is_told_who_adds_them(world, client_for):
    response = client_for("network_admin").get(dashboard(world, world.second_organization))
    assert response.status_code == 200
    assert "has no performance measures or targets yet" in text_of(response)
