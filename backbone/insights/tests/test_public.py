"""The public report card, open data and the Publishing page: funders and the public see
only what is shared, and every released number obeys the suppression rules."""

import csv
import io
import json
import zipfile
from decimal import Decimal

import jsonschema_rs
import pytest
from django.urls import reverse

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.measurement.data_file import data_import
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Framework,
    Indicator,
    IndicatorTarget,
    Result,
    ResultNarrative,
)
from backbone.measurement.services import data_values_review
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

HEADER = "indicator,period,organization,area,race-ethnicity,value,numerator,denominator,comment\n"
# SY2023-24: Black students 4 of 8 proficient (50.0%, too small), Asian 36 of 42 (85.7%,
# withheld so the Black figures cannot be worked out), White 80 of 150 (53.3%).
# Areas: North 115 of 191 (60.2%, withheld: with South the only other part, it would
# give South away), South 5 of 9 (too small).
ROWS = """\
grade3-reading,SY2022-23,,,,,100,190,
grade3-reading,SY2023-24,,,,,120,200,
grade3-reading,SY2023-24,,,black,,4,8,
grade3-reading,SY2023-24,,,asian,,36,42,
grade3-reading,SY2023-24,,,white,,80,150,
grade3-reading,SY2023-24,,north,,,115,191,
grade3-reading,SY2023-24,,south,,,5,9,
kindergarten-slots,SY2023-24,,,,7777,,,
kindergarten-slots,SY2023-24,,,black,3,,,
"""
PRIVATE_TEXT = "Kindergarten slots"


def import_values(access, rows: str) -> None:
    result = data_import(
        access=access, data=(HEADER + rows).encode(), filename="values.csv", commit=True
    )
    assert result.ok, [str(error) for error in result.errors]
    values = list(DataValue.objects.filter(network=access.network, status="draft"))
    data_values_review(access=access, values=values, action="submit")
    submitted = list(DataValue.objects.filter(network=access.network, status="submitted"))
    data_values_review(access=access, values=submitted, action="approve")


@pytest.fixture
def data(world):
    network = world.network
    network.is_public = True
    network.save()
    admin = access_for(world.users["network_admin"], network)
    stage = f.LifeStageFactory(network=network, name="Elementary school")
    result = Result.objects.create(
        network=network, code="early-reading", name="Children read by 3rd grade", life_stage=stage
    )
    race = Dimension.objects.create(network=network, code="race-ethnicity", name="Race")
    for position, (code, name) in enumerate(
        (("asian", "Asian"), ("black", "Black or African American"), ("white", "White"))
    ):
        Category.objects.create(
            network=network, dimension=race, code=code, name=name, position=position
        )
    # One state at the top: the area breakdown goes down to its counties.
    state = f.AreaFactory(network=network, code="riverland", name="Riverland", kind="state")
    f.AreaFactory(network=network, code="north", name="North County", parent=state)
    f.AreaFactory(network=network, code="south", name="South County", parent=state)
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
        is_public=True,
    )
    reading.dimensions.set([race])
    IndicatorTarget.objects.create(
        network=network, indicator=reading, period="SY2024-25", value=Decimal(65)
    )
    slots = Indicator.objects.create(
        network=network,
        result=result,
        code="kindergarten-slots",
        name=PRIVATE_TEXT,
        definition="Pre-K slots.",
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="school_year",
    )
    slots.dimensions.set([race])
    import_values(admin, ROWS)
    return world


def url(name, world, *args):
    return reverse(f"insights:{name}", args=[world.network.slug, *args])


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# The report card -------------------------------------------------------------------


def test_the_public_sees_the_report_card_without_signing_in(data, client_for):
    response = client_for(None).get(url("public-report-card", data))
    assert response.status_code == 200
    text = response.content.decode()
    assert "3rd-grade reading" in text and "60.0%" in text  # 120 of 200
    assert "SY2023-24" in text and "65.0% (SY2024-25)" in text  # target
    assert PRIVATE_TEXT not in text and "7,777" not in text


def test_indicator_page_suppresses_small_groups_and_their_complements(data, client_for):
    response = client_for(None).get(url("public-indicator", data, "grade3-reading"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "53.3%" in text  # White, released
    assert "60.0%" in text  # the network, released
    assert "60.2%" not in text  # North County: the complement of South
    assert "50.0%" not in text  # Black: 4 of 8
    assert "85.7%" not in text  # Asian: the complement
    assert "55.6%" not in text  # South County: 5 of 9
    assert text.count("* suppressed") == 4
    assert "Suppressed: fewer than 11." in text


def test_private_indicators_are_not_found_on_public_paths_for_anyone(data, client_for):
    for role in (None, "funder", "viewer", "network_admin"):
        response = client_for(role).get(url("public-indicator", data, "kindergarten-slots"))
        assert response.status_code == 404, role


def test_funders_see_only_what_is_shared_and_suppressed(data, client_for):
    card = client_for("funder").get(url("public-report-card", data)).content.decode()
    page = client_for("funder").get(url("public-indicator", data, "grade3-reading"))
    rows = read_csv(client_for("funder").get(url("public-csv", data)))
    assert PRIVATE_TEXT not in card
    assert "50.0%" not in page.content.decode()
    assert {row["indicator"] for row in rows} == {"grade3-reading"}


def test_members_of_a_private_network_see_it_and_the_public_is_sent_to_sign_in(data, client_for):
    data.network.is_public = False
    data.network.save()
    assert client_for("viewer").get(url("public-report-card", data)).status_code == 200
    response = client_for(None).get(url("public-csv", data))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_outsiders_get_404_on_a_private_network(data, client_for):
    data.network.is_public = False
    data.network.save()
    for name, args in (
        ("public-report-card", ()),
        ("public-indicator", ("grade3-reading",)),
        ("public-csv", ()),
        ("public-datapackage-zip", ()),
        ("public-method", ()),
    ):
        assert client_for("outsider").get(url(name, data, *args)).status_code == 404, name


def test_method_page_states_the_networks_k(data, client_for):
    Framework.objects.create(network=data.network, suppression_k=10)
    text = client_for(None).get(url("public-method", data)).content.decode()
    assert "from 1 to 9" in text and "at least 10" in text


# Open data -------------------------------------------------------------------------


def assert_released_numbers_obey_suppression(rows: list[dict], k: int) -> None:
    for row in rows:
        for column in ("numerator", "denominator"):
            if row[column]:
                assert not 0 < Decimal(row[column]) < k, row
        if row["unit"] == "count" and row["value"]:
            assert not 0 < Decimal(row["value"]) < k, row
        if row["value"] and row["denominator"]:
            assert Decimal(row["denominator"]) >= k, row
        if row["suppressed"]:
            assert row["value"] == "", row
    # No withheld numerator or denominator is alone among a total and its groups.
    tables: dict = {}
    for row in rows:
        if row["breakdown"] == "total":
            for dim in {r["dimension"] or "area" for r in rows if r["breakdown"] != "total"}:
                tables.setdefault((row["indicator"], row["period"], dim), []).append(row)
        else:
            dim = row["dimension"] or "area"
            tables.setdefault((row["indicator"], row["period"], dim), []).append(row)
    for key, members in tables.items():
        for column in ("numerator", "denominator"):
            if all(r[column] == "" and not r["suppressed"] for r in members):
                continue  # a count indicator: no terms
            withheld = [r for r in members if r[column] == ""]
            assert len(withheld) != 1, (key, column, withheld)


def test_values_csv_releases_only_suppressed_public_figures(data, client_for):
    response = client_for(None).get(url("public-csv", data))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    by_group = {(r["period"], r["breakdown"], r["group"]): r for r in rows}
    assert by_group[("SY2023-24", "total", "")]["value"] == "60"
    white = by_group[("SY2023-24", "group", "white")]
    assert (white["numerator"], white["denominator"], white["suppressed"]) == ("80", "150", "")
    black = by_group[("SY2023-24", "group", "black")]
    assert (black["value"], black["numerator"], black["denominator"]) == ("", "", "")
    assert black["suppressed"] == "fewer than k"
    assert by_group[("SY2023-24", "group", "asian")]["suppressed"] == "complementary"
    assert by_group[("SY2023-24", "area", "south")]["suppressed"] == "fewer than k"
    assert_released_numbers_obey_suppression(rows, 11)


def test_a_count_indicator_made_public_is_suppressed_too(data, client_for):
    Indicator.objects.filter(code="kindergarten-slots").update(is_public=True)
    rows = read_csv(client_for(None).get(url("public-csv", data)))
    slots = {r["breakdown"] + r["group"]: r for r in rows if r["indicator"] == "kindergarten-slots"}
    assert slots["groupblack"]["suppressed"] == "fewer than k"
    # 7777 less 3 would give Black students away: the remainder of groups not reported is
    # large, so the total is released.
    assert slots["total"]["value"] == "7777"
    assert_released_numbers_obey_suppression(rows, 11)


# Minimal JSON Schemas written from the Frictionless specs (Data Package v1, Tabular
# Data Resource, Table Schema).
TABLE_SCHEMA = {
    "type": "object",
    "required": ["fields"],
    "properties": {
        "fields": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "type": {
                        "enum": [
                            "string",
                            "number",
                            "integer",
                            "boolean",
                            "object",
                            "array",
                            "date",
                            "time",
                            "datetime",
                            "year",
                            "yearmonth",
                            "duration",
                            "geopoint",
                            "geojson",
                            "any",
                        ]
                    },
                    "format": {"type": "string"},
                    "constraints": {
                        "type": "object",
                        "properties": {
                            "required": {"type": "boolean"},
                            "enum": {"type": "array", "minItems": 1},
                        },
                    },
                },
            },
        },
        "missingValues": {"type": "array", "items": {"type": "string"}},
        "primaryKey": {"type": ["string", "array"]},
    },
}
DATA_PACKAGE = {
    "type": "object",
    "required": ["resources"],
    "properties": {
        "profile": {"const": "tabular-data-package"},
        "name": {"type": "string", "pattern": "^([-a-z0-9._/])+$"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "homepage": {"type": "string", "format": "uri"},
        "created": {"type": "string", "format": "date-time"},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "licenses": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "anyOf": [{"required": ["name"]}, {"required": ["path"]}],
                "properties": {
                    "name": {"type": "string", "pattern": "^([-a-zA-Z0-9._])+$"},
                    "path": {"type": "string"},
                    "title": {"type": "string"},
                },
            },
        },
        "sources": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["title"],
                "properties": {"title": {"type": "string"}, "path": {"type": "string"}},
            },
        },
        "resources": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "path", "profile", "schema"],
                "properties": {
                    "name": {"type": "string", "pattern": "^([-a-z0-9._/])+$"},
                    "path": {"type": "string", "pattern": "^(?!/)(?!.*\\.\\.)[^:]+$"},
                    "profile": {"const": "tabular-data-resource"},
                    "format": {"type": "string"},
                    "mediatype": {"type": "string", "pattern": "^(.+)/(.+)$"},
                    "encoding": {"type": "string"},
                    "schema": TABLE_SCHEMA,
                },
            },
        },
    },
}


def test_data_package_is_valid_and_describes_the_csv(data, client_for):
    client = client_for(None)
    descriptor = json.loads(client.get(url("public-datapackage", data)).content)
    jsonschema_rs.validate(DATA_PACKAGE, descriptor)
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert any("State assessment" in source["title"] for source in descriptor["sources"])
    resource = descriptor["resources"][0]
    fields = resource["schema"]["fields"]
    assert all(field.get("description") for field in fields)
    archive = zipfile.ZipFile(io.BytesIO(client.get(url("public-datapackage-zip", data)).content))
    assert sorted(archive.namelist()) == ["datapackage.json", resource["path"]]
    text = archive.read(resource["path"]).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [field["name"] for field in fields]
    for field in fields:
        constraints = field.get("constraints", {})
        for row in rows:
            cell = row[field["name"]]
            if cell in resource["schema"]["missingValues"]:
                assert not constraints.get("required"), (field["name"], row)
                continue
            if field["type"] == "number":
                Decimal(cell)
            elif field["type"] == "integer":
                int(cell)
            elif field["type"] == "date":
                __import__("datetime").date.fromisoformat(cell)
            if "enum" in constraints:
                assert cell in constraints["enum"], (field["name"], cell)
    assert_released_numbers_obey_suppression(rows, 11)


# Publishing ------------------------------------------------------------------------


def test_network_admin_chooses_public_indicators_and_k_with_audit(data, client_for):
    client = client_for("network_admin")
    assert client.get(url("publishing", data)).status_code == 200
    response = client.post(url("publishing", data), {"public": ["kindergarten-slots"], "k": "10"})
    assert response.status_code == 302
    public = set(Indicator.objects.filter(is_public=True).values_list("code", flat=True))
    assert public == {"kindergarten-slots"}
    assert Framework.objects.get(network=data.network).suppression_k == 10
    events = AuditEvent.objects.filter(network=data.network, object_type="measurement.indicator")
    assert events.count() == 2


@pytest.mark.parametrize(
    "k, public, message",
    [
        ("1", ["grade3-reading"], "k must be a whole number from 2 to 100."),
        ("ten", ["grade3-reading"], "k must be a whole number; &#x27;ten&#x27; is not."),
        ("11", ["no-such-code"], "No indicator with the code no-such-code in this network."),
    ],
)
def test_bad_publishing_input_says_why_and_writes_nothing(data, client_for, k, public, message):
    before = AuditEvent.objects.count()
    response = client_for("network_admin").post(url("publishing", data), {"public": public, "k": k})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert AuditEvent.objects.count() == before
    assert set(Indicator.objects.filter(is_public=True).values_list("code", flat=True)) == {
        "grade3-reading"
    }
    assert not Framework.objects.filter(network=data.network).exists()


def test_only_network_admins_publish(data, client_for):
    for role in ("org_admin", "funder", "viewer"):
        assert client_for(role).get(url("publishing", data)).status_code == 403, role
        response = client_for(role).post(url("publishing", data), {"k": "2"})
        assert response.status_code == 403, role
    assert client_for("outsider").get(url("publishing", data)).status_code == 404
    assert client_for(None).get(url("publishing", data)).status_code == 302


def test_network_admin_writes_the_story_behind_the_curve(data, client_for):
    story_url = url("publishing-story", data) + "?result=early-reading&year=2024"
    client = client_for("network_admin")
    assert client.get(story_url).status_code == 200
    response = client.post(story_url, {"story": "Attendance fell.", "action_plan": "Tutors."})
    assert response.status_code == 302
    narrative = ResultNarrative.objects.get(result__code="early-reading", year=2024)
    assert (narrative.story, narrative.action_plan) == ("Attendance fell.", "Tutors.")
    assert AuditEvent.objects.filter(object_type="measurement.resultnarrative").count() == 1


def test_a_story_without_text_is_refused_and_nothing_is_written(data, client_for):
    story_url = url("publishing-story", data) + "?result=early-reading&year=2024"
    response = client_for("network_admin").post(story_url, {"story": "  ", "partners": "Library"})
    assert response.status_code == 400
    assert "Write the story behind the curve of “Children read by 3rd grade”." in (
        response.content.decode()
    )
    assert not ResultNarrative.objects.exists()
    bad_year = url("publishing-story", data) + "?result=early-reading&year=1200"
    response = client_for("network_admin").post(bad_year, {"story": "Text"})
    assert response.status_code == 400 and "The year must be from 1990 to 2100." in (
        response.content.decode()
    )


def test_stories_of_another_network_are_not_found(data, client_for):
    other_stage = f.LifeStageFactory(network=data.other_network)
    Result.objects.create(
        network=data.other_network, code="lake-result", name="Lake", life_stage=other_stage
    )
    story_url = url("publishing-story", data) + "?result=lake-result&year=2024"
    assert client_for("network_admin").get(story_url).status_code == 404
    assert client_for("funder").get(story_url).status_code == 403
