"""HSDS 1.1/2.0 CSV exports, the layout real 211 directories still send."""

import pytest

from backbone.core.models import AuditEvent
from backbone.directory.hsds.legacy import stable_id
from backbone.directory.models import (
    Address,
    Attribute,
    DirectoryOrganizationIdentifier,
    Location,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from backbone.directory.services import directory_export, directory_import

# A small 211 export: numeric ids, AIRS taxonomy codes, weekday names, two address files.
EXPORT = {
    "organizations.csv": (
        "id,name,alternate_name,description,email,url,tax_status,tax_id,year_incorporated,"
        "legal_status\n"
        "101,Riverside Food Bank,,Emergency food for families in Harbor County.,"
        "info@riverside.example,https://riverside.example,501(c)(3),12-3456789,1987,"
        "nonprofit\n"
    ),
    "services.csv": (
        "id,organization_id,program_id,name,alternate_name,description,url,email,status,"
        "interpretation_services,application_process,wait_time,fees,accreditations,licenses\n"
        "2001,101,,Weekly food pantry,,Groceries once a week.,,,active,Spanish on site,"
        "Walk in with ID,None,Free,,\n"
        "2002,101,,Senior meal delivery,,Hot meals delivered to homebound seniors.,,,active,,"
        "Call to enroll,2 weeks,,,\n"
    ),
    "locations.csv": (
        "id,organization_id,name,alternate_name,description,transportation,latitude,longitude\n"
        "301,101,Riverside warehouse,,Main pantry,Bus 12,41.501,-81.69\n"
    ),
    "services_at_location.csv": "id,service_id,location_id,description\n401,2001,301,\n",
    "physical_addresses.csv": (
        "id,location_id,attention,address_1,address_2,address_3,address_4,city,region,"
        "state_province,postal_code,country\n"
        "501,301,,12 Mill St,Dock B,Gate 2,,Harbor City,,OH,44101,US\n"
    ),
    "postal_addresses.csv": (
        "id,location_id,attention,address_1,address_2,address_3,address_4,city,region,"
        "state_province,postal_code,country\n"
        "501,301,Intake,PO Box 9,,,,Harbor City,,OH,44101,US\n"
    ),
    "phones.csv": (
        "id,location_id,service_id,organization_id,contact_id,service_at_location_id,number,"
        "extension,type,language,description\n"
        "601,,2001,,,,555-0100,,voice,English,Pantry line\n"
    ),
    "regular_schedules.csv": (
        "id,service_id,location_id,service_at_location_id,weekday,opens_at,closes_at\n"
        "701,2001,,,Monday,09:00,12:00\n"
        "702,2001,,,3,13:00,17:00\n"
    ),
    "holiday_schedules.csv": (
        "id,service_id,location_id,service_at_location_id,closed,opens_at,closes_at,"
        "start_date,end_date\n"
        "801,2001,,,true,,,2024-12-25,2024-12-25\n"
    ),
    "eligibility.csv": "id,service_id,eligibility\n901,2001,Harbor County residents\n",
    "payment_accepted.csv": "id,service_id,payment\n951,2002,Medicaid\n",
    "taxonomy.csv": (
        "id,name,parent_id,parent_name,vocabulary\n"
        "BD,Basic Needs,,,AIRS\n"
        "BD-1800.2000,Food Pantries,BD,Basic Needs,AIRS\n"
    ),
    "services_taxonomy.csv": (
        "id,service_id,taxonomy_id,taxonomy_detail\n1,2001,BD-1800.2000,\n2,2002,BD,\n"
    ),
}


def write_export(folder, **changes):
    for name, text in {**EXPORT, **changes}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def export(tmp_path, hsds):
    return write_export(tmp_path)


def test_legacy_export_imports_as_hsds_3(world, admin_access, export):
    result = directory_import(access=admin_access, path=export)

    assert result.ok, [str(e) for e in result.errors]
    network = world.network
    assert Service.objects.filter(network=network).count() == 2
    pantry = Service.objects.get(network=network, hsds_id=stable_id("service", "2001"))
    assert pantry.data["eligibility_description"] == "Harbor County residents"
    assert pantry.data["fees_description"] == "Free"
    meals = Service.objects.get(network=network, hsds_id=stable_id("service", "2002"))
    assert meals.data["fees_description"] == "Payment accepted: Medicaid"
    assert sorted(
        Address.objects.filter(network=network).values_list("data__address_type", flat=True)
    ) == ["physical", "postal"]
    physical = Address.objects.get(network=network, data__address_type="physical")
    assert physical.data["address_2"] == "Dock B, Gate 2"
    assert Location.objects.get(network=network).location_type == "physical"
    assert ServiceAtLocation.objects.filter(network=network).count() == 1
    days = sorted(
        (row.data.get("byday", ""), row.data.get("opens_at", ""), row.data.get("description", ""))
        for row in Schedule.objects.filter(network=network)
    )
    assert days == [("", "", "Closed"), ("MO", "09:00", ""), ("WE", "13:00", "")]
    term = TaxonomyTerm.objects.get(network=network, code="BD-1800.2000")
    assert term.parent_id == stable_id("taxonomy_term", "BD")
    assert Attribute.objects.filter(network=network, link_id=str(pantry.hsds_id)).exists()
    identifier = DirectoryOrganizationIdentifier.objects.get(network=network)
    assert identifier.data["identifier"] == "12-3456789"


def test_reimporting_the_same_legacy_export_changes_nothing(world, admin_access, export):
    directory_import(access=admin_access, path=export)
    events = AuditEvent.objects.count()

    again = directory_import(access=admin_access, path=export)

    assert again.ok and not again.changed
    assert sum(again.unchanged.values()) > 10
    assert AuditEvent.objects.count() == events


def test_messy_legacy_export_is_reported_and_nothing_is_written(
    world, admin_access, tmp_path, hsds
):
    folder = write_export(
        tmp_path,
        **{
            "regular_schedules.csv": (
                "id,service_id,location_id,service_at_location_id,weekday,opens_at,closes_at\n"
                "701,2001,,,Funday,9:00am,5pm\n"
            ),
            "services_taxonomy.csv": (
                "id,service_id,taxonomy_id,taxonomy_detail\n1,2001,ZZ-9999,\n"
            ),
        },
    )

    result = directory_import(access=admin_access, path=folder)

    messages = [str(error) for error in result.errors]
    assert any(
        "regular_schedules.csv row 2" in m and "opens_at" in m and "9:00am" in m for m in messages
    )
    assert any(
        "regular_schedules.csv row 2" in m and "byday" in m and "Funday" in m for m in messages
    )
    assert any(
        "services_taxonomy.csv row 2" in m and "unknown taxonomy term" in m for m in messages
    )
    assert not Service.objects.filter(network=world.network).exists()


def test_repair_fixes_times_and_skip_invalid_leaves_out_the_rest(
    world, admin_access, tmp_path, hsds
):
    folder = write_export(
        tmp_path,
        **{
            "regular_schedules.csv": (
                "id,service_id,location_id,service_at_location_id,weekday,opens_at,closes_at\n"
                "701,2001,,,Monday,9:00am,5pm\n"
            ),
            "services_taxonomy.csv": (
                "id,service_id,taxonomy_id,taxonomy_detail\n1,2001,ZZ-9999,\n2,2002,BD,\n"
            ),
        },
    )

    result = directory_import(access=admin_access, path=folder, repair=True, skip_invalid=True)

    assert result.ok
    schedule = Schedule.objects.get(network=world.network, data__byday="MO")
    assert (schedule.data["opens_at"], schedule.data["closes_at"]) == ("09:00", "17:00")
    assert [problem.table for problem in result.skipped] == ["attribute"]
    assert Attribute.objects.filter(network=world.network).count() == 1


def test_legacy_import_exports_valid_hsds_3_and_round_trips(world, admin_access, export, tmp_path):
    directory_import(access=admin_access, path=export)
    out = tmp_path / "out"

    directory_export(access=admin_access, folder=out)  # validates against the schemas
    again = directory_import(access=admin_access, path=out / "csv")

    assert again.ok and not again.changed
