import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from backbone.core.access import Access, access_for
from backbone.core.models import AuditEvent
from backbone.measurement import services
from backbone.measurement.data_file import data_export, data_import
from backbone.measurement.models import (
    Category,
    DataValue,
    DataValueVersion,
    Dimension,
    Indicator,
    Result,
)
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

HEADER = (
    "indicator,period,organization,area,race-ethnicity,geography,"
    "value,numerator,denominator,comment\n"
)


@pytest.fixture
def framework(world):
    network = world.network
    stage = f.LifeStageFactory(network=network)
    result = Result.objects.create(network=network, code="ready", name="Ready", life_stage=stage)
    race = Dimension.objects.create(network=network, code="race-ethnicity", name="Race")
    for code in ("asian", "black", "white"):
        Category.objects.create(network=network, dimension=race, code=code, name=code.title())
    geography = Dimension.objects.create(
        network=network,
        code="geography",
        name="Geography",
        kind="geography",
        area_kind="zip",
        position=1,
    )
    f.AreaFactory(network=network, code="z1", kind="zip")
    f.AreaFactory(network=network, code="z2", kind="zip")
    f.AreaFactory(network=network, code="county", kind="county")
    enrolled = Indicator.objects.create(
        network=network,
        result=result,
        code="enrolled",
        name="Children enrolled",
        definition="Children enrolled in pre-K.",
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="school_year",
    )
    enrolled.dimensions.set([race, geography])
    reading = Indicator.objects.create(
        network=network,
        result=result,
        code="reading",
        name="Reading at grade level",
        definition="Percent of 3rd graders reading at grade level.",
        unit="percent",
        polarity="higher_is_better",
        formula="ratio",
        numerator="Proficient",
        denominator="Tested",
        aggregation="weighted",
        frequency="school_year",
    )
    reading.dimensions.set([race])
    return world


def admin(world):
    return access_for(world.users["network_admin"], world.network)


def good_file(world) -> bytes:
    org = world.organization.slug
    return (
        HEADER
        + "enrolled,SY2023-24,,,,,300,,,\n"
        + "enrolled,SY2023-24,,,asian,,50,,,\n"
        + "enrolled,SY2023-24,,,black,,100,,,\n"
        + "enrolled,SY2023-24,,,white,,150,,,\n"
        + "enrolled,SY2023-24,,,,z1,120,,,\n"
        + "enrolled,SY2023-24,,,,z2,180,,,\n"
        + f"enrolled,2024-Q2,{org},,,,40,,,Spring cohort\n"
        + "reading,SY2023-24,,,,,,45,100,\n"
        + "reading,SY2023-24,,,asian,,50,10,20,\n"
        + "reading,SY2023-24,,,black,,,15,40,\n"
        + "reading,SY2023-24,,z1,white,,,20,40,\n"
    ).encode()


def run(access, data: bytes, commit=True, **kwargs):
    return data_import(access=access, data=data, filename="data.csv", commit=commit, **kwargs)


def test_a_realistic_file_imports(framework):
    result = run(admin(framework), good_file(framework))

    assert result.ok, [str(e) for e in result.errors]
    assert result.created == 11
    assert DataValue.objects.filter(network=framework.network).count() == 11
    total = DataValue.objects.get(indicator__code="reading", disaggregation="")
    assert total.value == Decimal("45") and total.denominator == 100
    assert total.status == DataValue.Status.DRAFT and total.version == 1
    assert total.period_start == datetime.date(2023, 7, 1)
    assert total.period_end == datetime.date(2024, 6, 30)
    zip_part = DataValue.objects.get(disaggregation="geography=z1")
    assert zip_part.categories == {"geography": "z1"}
    org_value = DataValue.objects.get(organization=framework.organization)
    assert org_value.comment == "Spring cohort"
    assert DataValueVersion.objects.filter(network=framework.network).count() == 11


def test_reimporting_the_same_file_changes_nothing(framework):
    run(admin(framework), good_file(framework))
    audits = AuditEvent.objects.count()

    again = run(admin(framework), good_file(framework))

    assert again.ok and again.unchanged == 11 and again.created == again.updated == 0
    assert DataValueVersion.objects.count() == 11
    assert AuditEvent.objects.count() == audits


def test_a_changed_value_keeps_its_history(framework):
    access = admin(framework)
    run(access, good_file(framework))
    changed = good_file(framework).replace(b",40,,,Spring", b",42,,,Spring")

    result = run(access, changed)

    assert result.updated == 1
    value = DataValue.objects.get(organization=framework.organization)
    assert value.value == 42 and value.version == 2
    latest = value.versions.get(version=2)
    assert latest.old["value"] == "40" and latest.new["value"] == "42"
    assert latest.changed_by == framework.users["network_admin"]


def test_bad_rows_are_each_reported_and_nothing_is_written(framework):
    data = (
        HEADER
        + "nope,2024,,,,,1,,,\n"
        + "enrolled,2024-Q5,,,,,1,,,\n"
        + "enrolled,2024,ghost-org,,,,1,,,\n"
        + "enrolled,2024,,nowhere,,,1,,,\n"
        + "enrolled,2024,,,purple,,1,,,\n"
        + "enrolled,2024,,,,county,1,,,\n"
        + "enrolled,2024,,,,,2.5,,,\n"
        + "enrolled,2024,,,,,-3,,,\n"
        + "enrolled,2024,,,,,abc,,,\n"
        + "reading,2024,,,,,50,,,\n"
        + "enrolled,2023,,,,,7,,,\n"
        + "enrolled,2023,,,,,8,,,\n"
    ).encode()

    result = run(admin(framework), data)

    where = [(e.row, e.column) for e in result.errors]
    assert where == [
        (2, "indicator"),
        (3, "period"),
        (4, "organization"),
        (5, "area"),
        (6, "race-ethnicity"),
        (7, "geography"),
        (8, "value"),
        (9, "value"),
        (10, "value"),
        (11, "denominator"),
        (11, "numerator"),
        (13, "indicator"),
    ]
    assert "nope" in result.errors[0].message
    assert "whole number" in result.errors[6].message
    assert "Row 12" in result.errors[-1].message
    assert not DataValue.objects.exists()


def test_unknown_columns_and_dimensions_outside_the_indicator_are_errors(framework):
    data = b"indicator,period,colour,value\nenrolled,2024,red,1\n"
    assert run(admin(framework), data).errors[0].column == "colour"
    gender = Dimension.objects.create(network=framework.network, code="gender", name="Gender")
    Category.objects.create(network=framework.network, dimension=gender, code="f", name="F")

    result = run(admin(framework), b"indicator,period,gender,value\nenrolled,2024,f,1\n")

    assert [(e.row, e.column) for e in result.errors] == [(2, "gender")]
    assert "not broken down by Gender" in result.errors[0].message


def test_parts_that_do_not_add_up_to_the_total_are_an_error(framework):
    data = good_file(framework).replace(b",,,white,,150,", b",,,white,,250,")

    result = run(admin(framework), data)

    assert [(e.row, e.column) for e in result.errors] == [(2, "value")]
    assert "add up to 400" in result.errors[0].message
    assert not DataValue.objects.exists()


def test_parts_within_rounding_of_the_total_are_accepted(framework):
    data = good_file(framework).replace(b",,,white,,150,", b",,,white,,151,")

    assert run(admin(framework), data).ok


def test_a_percent_numerator_above_its_denominator_is_an_error(framework):
    data = (HEADER + "reading,2024,,,,,,60,50,\n").encode()

    result = run(admin(framework), data)

    assert [(e.row, e.column) for e in result.errors] == [(2, "numerator")]
    assert "larger than the denominator" in result.errors[0].message


def test_a_value_beside_a_ratio_must_match_it(framework):
    data = (HEADER + "reading,2024,,,,,55,45,100,\n").encode()

    result = run(admin(framework), data)

    assert [(e.row, e.column) for e in result.errors] == [(2, "value")]


def approve_all(access):
    values = list(DataValue.objects.filter(network=access.network))
    services.data_values_review(access=access, values=values, action="submit")
    services.data_values_review(access=access, values=values, action="approve")


def test_approved_values_are_locked_and_corrected_with_a_reason(framework):
    access = admin(framework)
    run(access, good_file(framework))
    approve_all(access)
    changed = good_file(framework).replace(b",40,,,Spring", b",42,,,Spring")

    locked = run(access, changed)
    corrected = run(access, changed, reason="The spring count missed one class.")

    assert [(e.row, e.column) for e in locked.errors] == [(8, "value")]
    assert "--reason" in locked.errors[0].message
    assert corrected.ok and corrected.updated == 1
    value = DataValue.objects.get(organization=framework.organization)
    assert value.value == 42 and value.status == DataValue.Status.APPROVED
    latest = value.versions.order_by("-version").first()
    assert latest.reason == "The spring count missed one class."
    assert latest.old["value"] == "40" and value.version == 4


def test_returning_data_needs_a_comment_and_reopens_it(framework):
    access = admin(framework)
    run(access, good_file(framework))
    values = list(DataValue.objects.filter(organization=framework.organization))
    services.data_values_review(access=access, values=values, action="submit")

    with pytest.raises(Exception, match="comment"):
        services.data_values_review(access=access, values=values, action="return")
    services.data_values_review(
        access=access, values=values, action="return", comment="Count the summer class too."
    )

    value = DataValue.objects.get(pk=values[0].pk)
    assert value.status == DataValue.Status.RETURNED
    assert value.review_comment == "Count the summer class too."


def test_export_then_import_changes_nothing(framework):
    access = admin(framework)
    run(access, good_file(framework))

    exported = data_export(access=access)
    again = run(access, exported)

    assert exported.decode().splitlines()[0] == HEADER.strip()
    assert again.ok and again.unchanged == 11 and again.created == again.updated == 0


def test_export_to_xlsx_round_trips(framework):
    access = admin(framework)
    run(access, good_file(framework))
    reading = Indicator.objects.get(code="reading")

    exported = data_export(access=access, indicator=reading, filename="data.xlsx")
    again = data_import(access=access, data=exported, filename="data.xlsx", commit=True)

    assert again.ok and again.unchanged == 4


def test_an_org_member_imports_only_their_own_organization(framework):
    member = access_for(framework.users["org_member"], framework.network)
    own, other = framework.organization.slug, framework.second_organization.slug
    data = (
        HEADER
        + f"enrolled,2024-Q2,{own},,,,40,,,\n"
        + f"enrolled,2024-Q2,{other},,,,40,,,\n"
        + "enrolled,2024-Q2,,,,,80,,,\n"
    ).encode()

    refused = run(member, data)
    allowed = run(member, (HEADER + f"enrolled,2024-Q2,{own},,,,40,,,\n").encode())

    assert [(e.row, e.column) for e in refused.errors] == [(3, "organization"), (4, "organization")]
    assert allowed.ok and allowed.created == 1
    assert DataValue.objects.get().created_by == framework.users["org_member"]


def test_an_org_member_cannot_change_approved_values(framework):
    run(admin(framework), good_file(framework))
    approve_all(admin(framework))
    member = access_for(framework.users["org_member"], framework.network)
    own = framework.organization.slug

    result = run(member, (HEADER + f"enrolled,2024-Q2,{own},,,,41,,,\n").encode(), reason="x")

    assert [(e.row, e.column) for e in result.errors] == [(2, "value")]
    assert "locked" in result.errors[0].message


def test_the_public_sees_approved_population_values_only(framework):
    access = admin(framework)
    run(access, good_file(framework))
    framework.network.is_public = True
    framework.network.save()
    public = Access(user=None, network=framework.network, role="public")
    draft_count = public.scope(DataValue).count()
    approve_all(access)

    visible = public.scope(DataValue)

    assert draft_count == 0
    assert visible.count() == 10
    assert not visible.filter(organization__isnull=False).exists()


def test_an_outsider_neither_sees_nor_writes_another_networks_data(framework):
    run(admin(framework), good_file(framework))
    outsider = access_for(framework.outsider, framework.other_network)

    own = framework.organization.slug
    result = run(outsider, f"indicator,period,organization,value\nenrolled,2024,{own},1\n".encode())

    assert access_for(framework.outsider, framework.network) is None
    assert not outsider.scope(DataValue).exists()
    assert not data_export(access=outsider).decode().splitlines()[1:]
    assert [(e.row, e.column) for e in result.errors] == [(2, "indicator"), (2, "organization")]
    assert DataValue.objects.filter(network=framework.other_network).count() == 0


def test_the_cli_dry_run_writes_nothing_and_import_then_export(framework, tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_bytes(good_file(framework))

    call_command("data", "import", str(path), "--network", framework.network.slug, "--dry-run")
    assert not DataValue.objects.exists()
    assert "Dry run" in capsys.readouterr().out
    call_command("data", "import", str(path), "--network", framework.network.slug)
    out = tmp_path / "out.csv"
    call_command(
        "data", "export", "--network", framework.network.slug, "--indicator", "reading", str(out)
    )

    assert DataValue.objects.count() == 11
    assert len(out.read_text().splitlines()) == 5


def test_the_cli_reports_bad_rows(framework, tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_bytes((HEADER + "enrolled,2024-Q9,,,,,1,,,\n").encode())

    with pytest.raises(CommandError, match="1 problem"):
        call_command("data", "import", str(path), "--network", framework.network.slug)

    assert "row 2, column period" in capsys.readouterr().err


def test_an_outlier_against_history_needs_a_comment(framework):
    access = admin(framework)
    own = framework.organization.slug
    history = "".join(
        f"enrolled,2024-Q{q},{own},,,,{v},,,\n" for q, v in ((1, 40), (2, 41), (3, 39))
    )
    run(access, (HEADER + history).encode())
    outlier = f"enrolled,2024-Q4,{own},,,,90,,,"

    refused = run(access, (HEADER + outlier + "\n").encode())
    explained = run(access, (HEADER + outlier + "A second site opened.\n").encode())
    usual = run(access, (HEADER + f"enrolled,2025-Q1,{own},,,,44,,,\n").encode())

    assert [(e.row, e.column) for e in refused.errors] == [(2, "comment")]
    assert "median 40" in refused.errors[0].message
    assert explained.ok and "far from" in explained.plans[0].warnings[0]
    assert usual.ok and not usual.plans[0].warnings


def test_the_database_keeps_one_current_value_per_key_blanks_included(framework):
    from django.db import IntegrityError, transaction

    run(admin(framework), good_file(framework))
    total = DataValue.objects.get(indicator__code="enrolled", period="SY2023-24", categories={})
    total.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        total.save()


def test_thousands_separators_are_read_and_decimal_commas_refused(framework):
    data = (HEADER + 'enrolled,2024,,,,,"1,250",,,\n' + 'enrolled,2023,,,,,"1,5",,,\n').encode()

    result = run(admin(framework), data)

    assert [(e.row, e.column) for e in result.errors] == [(3, "value")]
    assert result.plans[0].fields["value"] == Decimal("1250")
