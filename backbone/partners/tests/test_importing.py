import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from backbone.core import tabular
from backbone.core.access import access_for
from backbone.core.area_import import areas_import
from backbone.core.models import AuditEvent, Membership, Organization, OrganizationIdentifier
from backbone.partners.importing import COLUMNS, partners_import, template_csv
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[3] / "docs" / "samples"
HEADER = "name,sectors,status,role,joined_on,ein,website"


@pytest.fixture
def admin(world):
    access = access_for(world.users["network_admin"], world.network)
    # The sample partners serve the sample areas.
    areas_import(
        access=access, data=(SAMPLES / "areas.csv").read_bytes(), filename="areas.csv", commit=True
    )
    return access


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def sample() -> bytes:
    return (SAMPLES / "partners.csv").read_bytes()


def counts():
    return (
        Organization.objects.count(),
        Membership.objects.count(),
        OrganizationIdentifier.objects.count(),
        AuditEvent.objects.count(),
    )


def run(access, text, *, commit=True, filename="partners.csv"):
    data = text.encode() if isinstance(text, str) else text
    return partners_import(access=access, data=data, filename=filename, commit=commit)


def in_network(world, name):
    return Membership.objects.select_related("organization").get(
        network=world.network, organization__name=name
    )


# Happy paths -----------------------------------------------------------------------------


def test_sample_csv_creates_each_partner_with_membership_and_audit(world, admin):
    events = AuditEvent.objects.count()

    result = run(admin, sample())

    assert result.committed and result.errors == []
    assert (result.created, result.updated, result.unchanged) == (8, 0, 0)
    foundation = in_network(world, "Cascadia Community Foundation")
    assert foundation.role == "funder" and foundation.status == "active"
    assert str(foundation.joined_on) == "2021-03-15"
    organization = foundation.organization
    assert organization.website == "https://cascadia-foundation.example.org"
    assert list(organization.sectors.values_list("code", flat=True)) == ["grantmaker"]
    assert list(organization.areas_served.values_list("code", flat=True)) == ["99"]
    assert organization.identifiers.get().value == "99-0100003"
    clinic = in_network(world, "Millbrook Health Clinic").organization
    assert clinic.populations_list == ["Pregnant people", "Children under 5", "Uninsured adults"]
    assert set(clinic.sectors.values_list("code", flat=True)) == {"health_care", "nonprofit"}
    college = in_network(world, "Riverbend Community College").organization
    assert college.sectors.get().code == "higher_education"  # given by its name
    assert in_network(world, "Northside Faith Alliance").status == "prospect"
    new_events = AuditEvent.objects.count() - events
    # organization + membership for 8 rows, and an EIN for 7 of them
    assert new_events == 8 * 2 + 7
    assert set(
        AuditEvent.objects.order_by("-pk")[:new_events].values_list("via", "actor_email")
    ) == {("import", "network-admin@river.example")}


def test_xlsx_file_is_read_from_the_first_sheet(world, admin):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Sectors", "Joined on", "EIN", "Size", "postal_code"])
    sheet.append(
        [
            "Eastside Tutoring Collective",
            "Nonprofit service provider",
            datetime.datetime(2024, 2, 29),
            "98-7654321",
            "1-10",
            99961,
        ]
    )
    sheet.append([None, None, None, None, None, None])
    sheet.append(["Harbor Bank", "business", None, None, None, None])
    workbook.create_sheet("Notes").append(["ignored", "sheet"])
    out = io.BytesIO()
    workbook.save(out)

    result = run(admin, out.getvalue(), filename="partners.xlsx")

    assert result.errors == [] and result.created == 2
    tutoring = in_network(world, "Eastside Tutoring Collective")
    assert str(tutoring.joined_on) == "2024-02-29"
    assert tutoring.organization.size == "1-10"
    assert tutoring.organization.postal_code == "99961"
    assert tutoring.organization.identifiers.get().value == "98-7654321"
    assert in_network(world, "Harbor Bank").status == "active"


def test_csv_with_a_byte_order_mark_is_read(world, admin):
    result = run(admin, "\ufeffname,sectors\nBOM Books,business\n".encode())

    assert result.errors == [] and result.created == 1
    assert in_network(world, "BOM Books").role == "partner"


def test_reimporting_the_same_file_changes_nothing(world, admin):
    run(admin, sample())
    before = counts()

    again = run(admin, sample())

    assert again.committed
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
    assert counts() == before


def test_matching_rows_update_only_what_changed(world, admin):
    world.prospect.name = "Westside Youth League"
    world.prospect.save()
    events = AuditEvent.objects.count()

    result = run(
        admin, f"{HEADER}\nWestside Youth League,nonprofit,invited,,,12-3456789,youth.example.org\n"
    )

    assert result.committed and result.updated == 1
    plan = result.plans[0]
    assert ("status", "prospect", "invited") in plan.changes
    assert ("website", "", "https://youth.example.org") in plan.changes
    membership = in_network(world, "Westside Youth League")
    assert membership.status == "invited" and membership.role == "partner"
    assert membership.organization.website == "https://youth.example.org"
    assert membership.organization.identifiers.get().value == "12-3456789"
    # one row each for the organization, the membership and the new EIN
    assert AuditEvent.objects.count() - events == 3


def test_name_is_matched_ignoring_case_and_the_file_spelling_wins(world, admin):
    world.prospect.name = "Westside Youth League"
    world.prospect.save()

    result = run(admin, f"{HEADER}\nWESTSIDE youth league,nonprofit,,,,,\n")

    assert (result.created, result.updated) == (0, 1)
    assert result.plans[0].changes == [("name", "Westside Youth League", "WESTSIDE youth league")]


def test_organization_is_matched_by_ein_before_name(world, admin):
    OrganizationIdentifier.objects.create(
        organization=world.second_organization, scheme="ein", value="11-2223334"
    )

    result = run(admin, f"{HEADER}\nRenamed Partner,nonprofit,,,,112223334,\n")

    assert result.committed and result.updated == 1 and result.created == 0
    world.second_organization.refresh_from_db()
    assert world.second_organization.name == "Renamed Partner"


def test_organization_of_another_network_joins_when_its_ein_matches(world, admin):
    OrganizationIdentifier.objects.create(
        organization=world.other_organization, scheme="ein", value="22-3334445"
    )
    name = world.other_organization.name

    result = run(admin, f"{HEADER}\n{name},nonprofit,prospect,,,22-3334445,\n")

    assert result.committed and result.updated == 1
    assert ("membership", "", "joins this network as partner, prospect") in result.plans[0].changes
    assert in_network(world, name).status == "prospect"
    assert world.other_organization.memberships.count() == 2


def test_joining_by_ein_leaves_the_other_networks_profile_alone(world, admin):
    OrganizationIdentifier.objects.create(
        organization=world.other_organization, scheme="ein", value="22-3334445"
    )
    before = (world.other_organization.name, set(world.other_organization.sectors.all()))

    result = run(admin, f"{HEADER}\nTaken Over Name,business,prospect,,,22-3334445,\n")

    assert result.committed
    world.other_organization.refresh_from_db()
    assert (world.other_organization.name, set(world.other_organization.sectors.all())) == before
    assert world.other_organization.memberships.count() == 2


# Bad input ---------------------------------------------------------------------------------


def test_three_bad_rows_are_each_reported_and_nothing_is_written(world, admin):
    before = counts()
    text = (
        f"{HEADER}\n"
        "Good Row Org,nonprofit,active,partner,2024-01-02,,\n"
        "Bad EIN Org,nonprofit,active,partner,,12-345,\n"
        "Bad Sector Org,bakery,active,partner,,,\n"
        "Bad Date Org,nonprofit,active,partner,2024-02-30,,https://ok.example\n"
    )

    result = run(admin, text)

    assert not result.committed
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "ein", "12-345"),
        (4, "sectors", "bakery"),
        (5, "joined_on", "2024-02-30"),
    ]
    assert result.errors[0].message == "An EIN has the form 12-3456789."
    assert "Unknown sector “bakery”" in result.errors[1].message
    assert "invalid date" in result.errors[2].message
    assert counts() == before


def test_an_ein_and_a_name_that_point_at_different_organizations_are_refused(world, admin):
    OrganizationIdentifier.objects.create(
        organization=world.second_organization, scheme="ein", value="44-5556667"
    )
    OrganizationIdentifier.objects.create(
        organization=world.organization, scheme="ein", value="55-6667778"
    )
    name = world.organization.name

    taken = run(admin, f"{HEADER}\n{name},nonprofit,,,,44-5556667,\n")
    recorded = run(admin, f"{HEADER}\n{name},nonprofit,,,,66-7778889,\n")

    assert [(e.column, e.message) for e in taken.errors] == [
        (
            "ein",
            f"The EIN 44-5556667 belongs to another organization than the “{name}” "
            "already in this network.",
        ),
    ]
    assert [(e.column, e.message) for e in recorded.errors] == [
        ("ein", f"“{name}” is recorded with the EIN 55-6667778."),
    ]


def test_unknown_columns_are_named(world, admin):
    result = run(admin, "name,sectors,colour,Favourite Food\nA,nonprofit,red,soup\n")

    assert [(e.row, e.column) for e in result.errors] == [(1, "colour, favourite_food")]
    assert "Unknown columns: colour, favourite_food" in result.errors[0].message


def test_missing_required_column_is_reported(world, admin):
    result = run(admin, "name,status\nA,active\n")

    assert [str(e) for e in result.errors] == [
        "row 1, column sectors: Missing required column: sectors."
    ]


def test_duplicates_within_the_file_are_row_errors(world, admin):
    text = (
        f"{HEADER}\n"
        "Alpha,nonprofit,,,,10-0000001,\n"
        "ALPHA ,nonprofit,,,,,\n"
        "Beta,nonprofit,,,,100000001,\n"
    )

    result = run(admin, text, commit=False)

    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "name", "“ALPHA” is also on row 2."),
        (4, "ein", "The EIN 10-0000001 is also on row 2."),
    ]


def test_impossible_status_move_is_a_row_error(world, admin):
    before = counts()

    result = run(admin, f"{HEADER}\n{world.organization.name},nonprofit,prospect,,,,\n")

    assert [(e.row, e.column) for e in result.errors] == [(2, "status")]
    assert "cannot move to prospect" in result.errors[0].message
    assert counts() == before


def test_field_validators_report_column_and_value(world, admin):
    text = (
        "name,sectors,email,state,size,areas_served,role\n"
        "Checks Org,nonprofit,not-an-email,Oregon,huge,99; 12345,chair\n"
    )

    result = run(admin, text)

    assert {(e.column, e.value) for e in result.errors} == {
        ("email", "not-an-email"),
        ("state", "Oregon"),
        ("size", "huge"),
        ("areas_served", "99; 12345"),
        ("role", "chair"),
    }
    assert any("no area with the code “12345”" in e.message for e in result.errors)


def test_areas_of_another_network_are_unknown(world, admin):
    f.AreaFactory(network=world.other_network, code="LAKE-1")

    result = run(admin, "name,sectors,areas_served\nA,nonprofit,LAKE-1\n")

    assert [(e.row, e.column) for e in result.errors] == [(2, "areas_served")]


def test_file_that_is_not_utf8_or_xlsx_is_refused(world, admin):
    assert (
        "not UTF-8"
        in run(admin, "name,sectors\nCafé,business\n".encode("latin-1")).errors[0].message
    )
    assert "not a readable .xlsx" in run(admin, b"junk", filename="x.xlsx").errors[0].message
    assert "Upload a .csv or .xlsx" in run(admin, b"x", filename="x.txt").errors[0].message


def test_value_outside_the_named_columns_is_a_file_error(world, admin):
    result = run(admin, "name,sectors\nA,nonprofit,stray\n")

    assert [str(e) for e in result.errors] == [
        "file: Row 2 has a value in column C, which has no name in the first row."
    ]


def test_empty_file_and_too_many_rows_are_file_errors(world, admin):
    assert run(admin, b"").errors[0].message == (
        "The first row must name the columns; it is empty."
    )
    with pytest.raises(tabular.TableError, match="more than 2 rows"):
        tabular.read_table(b"name\nA\nB\nC\n", "list.csv", max_rows=2)


def test_only_network_admins_may_import(world):
    access = access_for(world.users["org_admin"], world.network)

    with pytest.raises(PermissionDenied):
        run(access, sample())


def test_template_has_every_column_and_an_example_that_imports(world, admin):
    text = template_csv()

    assert text.splitlines()[0] == ",".join(COLUMNS)
    result = run(admin, text, commit=False)
    assert result.errors == [] and result.created == 1


# Web ----------------------------------------------------------------------------------------


def url(world, name="partners:partner-import"):
    return reverse(name, args=[world.network.slug])


def upload(client, world, data: bytes, filename="partners.csv"):
    return client.post(url(world), {"file": SimpleUploadedFile(filename, data)})


def test_admin_previews_then_confirms(world, admin, client_for, tmp_path):
    client = client_for("network_admin")
    before = counts()

    preview = upload(client, world, sample())

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Preview of partners.csv: Would create 8, update 0; 0 unchanged." in page
    assert "Millbrook Health Clinic" in page and "Confirm import" in page
    assert counts() == before
    token = preview.context["token"]

    confirm = client.post(url(world), {"token": token})

    assert confirm.status_code == 302 and confirm.url == url(world, "partners:partner-list")
    assert Membership.objects.filter(network=world.network).count() == 3 + 8
    assert list((tmp_path / "imports").iterdir()) == []  # the upload is gone
    again = client.post(url(world), {"token": token})
    assert again.status_code == 302 and again.url == url(world)


def test_preview_with_errors_shows_them_and_no_confirm_button(world, admin, client_for):
    client = client_for("network_admin")

    response = upload(client, world, f"{HEADER}\nNo Sector Org,,,,,,\n".encode())

    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "At least one sector is required" in page
    assert "Confirm import" not in page
    assert response.context["token"] is None


def test_confirm_checks_the_file_again(world, admin, client_for):
    client = client_for("network_admin")
    text = f"{HEADER}\nNew Org,nonprofit,,,,,\n{world.prospect.name},nonprofit,invited,,,,\n"
    token = upload(client, world, text.encode()).context["token"]
    # Someone else makes the prospect an active partner in the meantime.
    Membership.objects.filter(organization=world.prospect).update(status="active")
    before = counts()

    response = client.post(url(world), {"token": token})

    assert response.status_code == 400
    assert [(e.row, e.column) for e in response.context["result"].errors] == [(3, "status")]
    assert counts() == before


def test_token_of_another_session_is_refused(world, admin, client_for):
    token = upload(client_for("network_admin"), world, sample()).context["token"]
    other = client_for("network_admin")

    response = other.post(url(world), {"token": token})

    assert response.status_code == 302
    assert not Organization.objects.filter(name="Millbrook Health Clinic").exists()


def test_upload_form_refuses_other_files(world, admin, client_for):
    response = upload(client_for("network_admin"), world, b"x", filename="list.pdf")

    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file." in response.content.decode()


def test_template_download(world, client_for):
    response = client_for("network_admin").get(url(world, "partners:partner-import-template"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("name,sectors,status")


def test_partner_list_links_to_the_import_for_admins_only(world, client_for):
    link = url(world)
    assert (
        link
        in client_for("network_admin").get(url(world, "partners:partner-list")).content.decode()
    )
    assert (
        link
        not in client_for("org_admin").get(url(world, "partners:partner-list")).content.decode()
    )


@pytest.mark.parametrize("name", ["partners:partner-import", "partners:partner-import-template"])
def test_org_member_gets_403(world, client_for, name):
    assert client_for("org_member").get(url(world, name)).status_code == 403
    assert client_for("org_admin").post(url(world, name)).status_code == 403


@pytest.mark.parametrize("name", ["partners:partner-import", "partners:partner-import-template"])
def test_outsider_gets_404(world, client_for, name):
    assert client_for("outsider").get(url(world, name)).status_code == 404


def test_anonymous_is_sent_to_log_in(world, client_for):
    world.network.is_public = True
    world.network.save()

    response = client_for(None).get(url(world))

    assert response.status_code == 302 and "/accounts/login/" in response.url


# Command line -------------------------------------------------------------------------------


def test_cli_dry_run_reports_and_writes_nothing(world, admin, capsys):
    before = counts()

    call_command(
        "partners",
        "import",
        str(SAMPLES / "partners.csv"),
        "--network",
        world.network.slug,
        "--dry-run",
    )

    assert "Would create 8, update 0; 0 unchanged. Dry run: nothing was written." in (
        capsys.readouterr().out
    )
    assert counts() == before


def test_cli_errors_exit_non_zero_and_name_row_and_column(world, admin, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nGood,nonprofit,,,,,\nBad,nonprofit,sleeping,,,,\n")
    before = counts()

    with pytest.raises(CommandError) as raised:
        call_command("partners", "import", str(bad), "--network", world.network.slug)

    assert raised.value.returncode == 1
    assert "1 problem in bad.csv; nothing was imported." in str(raised.value)
    assert capsys.readouterr().err.startswith("row 3, column status: Unknown status.")
    assert counts() == before


def test_cli_acts_as_the_given_admin(world, admin, capsys):
    second_admin = f.UserFactory(email="second-admin@river.example")
    f.NetworkRoleFactory(user=second_admin, network=world.network, role="network_admin")

    call_command(
        "partners",
        "import",
        str(SAMPLES / "partners.csv"),
        "--network",
        world.network.slug,
        "--as",
        "Second-Admin@river.example",
    )

    assert "Created 8, updated 0, unchanged 0." in capsys.readouterr().out
    assert (
        AuditEvent.objects.filter(
            object_type="core.organization", action="create", actor=second_admin, via="import"
        ).count()
        == 8
    )


def test_cli_refuses_someone_who_is_not_a_network_admin(world, admin):
    with pytest.raises(CommandError, match="is not a network admin"):
        call_command(
            "partners",
            "import",
            str(SAMPLES / "partners.csv"),
            "--network",
            world.network.slug,
            "--as",
            world.users["org_admin"].email,
        )
    with pytest.raises(CommandError, match="no network admin"):
        call_command(
            "partners",
            "import",
            str(SAMPLES / "partners.csv"),
            "--network",
            f.NetworkFactory().slug,
        )
