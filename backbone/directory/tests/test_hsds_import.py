import csv
import json
import shutil

import pytest
from django.core.exceptions import PermissionDenied

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.directory.models import (
    Attribute,
    Location,
    Metadata,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from backbone.directory.services import directory_import, starter_taxonomy_install
from backbone.directory.taxonomy import CATEGORIES

UUID = "00000000-0000-4000-8000-{:012d}"


def counts(network):
    return {
        model.__name__: model.objects.filter(network=network).count()
        for model in (Service, Location, ServiceAtLocation, Schedule, Attribute, TaxonomyTerm)
    }


@pytest.mark.parametrize(
    ("name", "services", "locations"),
    [
        ("service_full.json", 1, 1),
        ("organization_full.json", 1, 1),
        ("service_at_location_full.json", 1, 1),
        ("service_list.json", 1, 0),
        ("location.json", 0, 1),
    ],
)
def test_official_json_examples_import(world, admin_access, hsds, name, services, locations):
    result = directory_import(access=admin_access, path=hsds / "examples" / name)

    assert result.ok, result.errors
    assert Service.objects.filter(network=world.network).count() == services
    assert Location.objects.filter(network=world.network).count() == locations
    assert not Service.objects.filter(network=world.other_network).exists()


def test_service_full_counts_every_table(world, admin_access, hsds):
    result = directory_import(access=admin_access, path=hsds / "examples" / "service_full.json")

    # The example repeats shared records (one schedule, one location) under several parents.
    assert result.created["schedule"] == 1
    assert result.created["phone"] == 1
    assert result.created["attribute"] == 1
    assert result.created["taxonomy_term"] == 1
    assert ServiceAtLocation.objects.get(network=world.network).location.location_type
    service = Service.objects.get(network=world.network)
    assert service.organization.name == "Example Organization Inc."
    assert service.data["minimum_age"] == 12


def test_importing_twice_changes_nothing(world, admin_access, hsds):
    path = hsds / "examples" / "service_full.json"
    directory_import(access=admin_access, path=path)
    before = (counts(world.network), Metadata.objects.count(), AuditEvent.objects.count())

    again = directory_import(access=admin_access, path=path)

    assert not again.changed and not again.committed
    assert (counts(world.network), Metadata.objects.count(), AuditEvent.objects.count()) == before


def test_one_audit_event_and_a_change_log_per_import(world, admin_access, hsds):
    directory_import(access=admin_access, path=hsds / "examples" / "service_full.json")

    event = AuditEvent.objects.get(network=world.network, via="import")
    assert event.after["hsds_import"] == "service_full.json"
    assert event.after["created"]["service"] == 1
    created = Metadata.objects.filter(
        network=world.network, resource_type="service", data__last_action_type="create"
    )
    assert created.count() == 1


def test_change_log_ids_are_distinct_version_7_uuids_in_record_order(world, admin_access, hsds):
    directory_import(access=admin_access, path=hsds / "examples" / "service_full.json")

    # The import's own change log (the example brings metadata records of its own).
    logged = Metadata.objects.filter(
        network=world.network, data__updated_by="network-admin@river.example"
    )
    rows = list(logged.values_list("resource_type", "resource_id", "hsds_id"))
    assert len(rows) > 5
    ids = [hsds_id for _, _, hsds_id in rows]
    assert len(set(ids)) == len(ids)
    assert {hsds_id.version for hsds_id in ids} == {7}
    in_record_order = [hsds_id for *_, hsds_id in sorted(rows, key=lambda r: (r[0], r[1]))]
    assert in_record_order == sorted(ids)


def test_text_orjson_refuses_is_stored_and_read_back(world, admin_access, hsds, tmp_path):
    document = json.loads((hsds / "examples" / "service_full.json").read_text())
    document["name"] = "Café für alle"
    document["fees_description"] = "Ünïcödé ✓"
    directory_import(access=admin_access, path=_write(tmp_path, "service_full.json", document))

    service = Service.objects.get(network=world.network)
    assert service.name == "Café für alle"
    assert service.data["fees_description"] == "Ünïcödé ✓"
    again = directory_import(access=admin_access, path=tmp_path / "service_full.json")
    assert not again.changed


def test_json_text_falls_back_to_json_for_what_orjson_refuses():
    from backbone.core.bulk import json_text

    assert json.loads(json_text({"big": 2**70, "name": "é"})) == {"big": 2**70, "name": "é"}
    assert json.loads(json_text({"n": 1.5, "list": [1, None]})) == {"n": 1.5, "list": [1, None]}


def test_a_changed_record_is_updated_and_logged(world, admin_access, hsds, tmp_path):
    document = json.loads((hsds / "examples" / "service_full.json").read_text())
    directory_import(access=admin_access, path=_write(tmp_path, "service_full.json", document))
    document["name"] = "Community Counselling and Support"

    result = directory_import(
        access=admin_access, path=_write(tmp_path, "service_full.json", document)
    )

    assert dict(result.updated) == {"service": 1}
    assert Service.objects.get(network=world.network).name == document["name"]
    log = Metadata.objects.get(
        network=world.network, resource_type="service", data__last_action_type="update"
    )
    assert log.data["field_name"] == "name"
    assert log.data["previous_value"] == "Community Counselling"
    assert log.data["updated_by"] == "network-admin@river.example"


def test_the_same_ids_live_in_two_networks(world, admin_access, hsds):
    other_admin = access_for(world.outsider, world.other_network)
    directory_import(access=admin_access, path=hsds / "examples" / "service_full.json")
    directory_import(access=other_admin, path=hsds / "examples" / "service_full.json")

    assert Service.objects.filter(hsds_id="ac148810-d857-441c-9679-408f346de14b").count() == 2


def test_official_csv_example_reports_its_dangling_links_and_repair_drops_them(
    world, admin_access, hsds
):
    path = hsds / "examples" / "csv"
    strict = directory_import(access=admin_access, path=path)

    assert {(p.file, p.row, p.field) for p in strict.errors} == {
        ("locations.csv", "2", "organization_id"),
        ("contacts.csv", "2", "organization_id"),
        ("contacts.csv", "2", "service_at_location_id"),
        ("taxonomy_terms.csv", "2", "taxonomy_id"),
    }
    assert counts(world.network)["Service"] == 0

    repaired = directory_import(access=admin_access, path=path, repair=True)

    assert repaired.ok
    assert len([r for r in repaired.repairs if r.after is None]) == 4
    assert sum(repaired.created.values()) == 21


def test_dry_run_writes_nothing(world, admin_access, hsds):
    result = directory_import(
        access=admin_access, path=hsds / "examples" / "service_full.json", dry_run=True
    )

    assert result.created["service"] == 1
    assert counts(world.network)["Service"] == 0
    assert not AuditEvent.objects.filter(network=world.network, via="import").exists()


# A small broken datapackage -------------------------------------------------------------

ORG, SERVICE, LOCATION, LINK, SCHEDULE, TERM, ATTRIBUTE = (UUID.format(n) for n in range(1, 8))
MISSING = UUID.format(99)


def broken_package(folder, hsds):
    shutil.copy(hsds / "examples" / "csv" / "datapackage.json", folder)
    tables = {
        "organizations.csv": [{"id": ORG, "name": "Harbor Food Bank", "description": "Food"}],
        "services.csv": [
            {"id": SERVICE, "organization_id": ORG, "name": " Pantry ", "status": "active"},
            {"id": UUID.format(8), "organization_id": ORG, "status": "active"},  # no name
        ],
        "locations.csv": [{"id": LOCATION, "location_type": "physical", "name": "Main St"}],
        "service_at_location.csv": [
            {"id": LINK, "service_id": SERVICE, "location_id": MISSING},  # broken link
            {"id": UUID.format(9), "service_id": SERVICE, "location_id": LOCATION},
        ],
        "schedules.csv": [{"id": SCHEDULE, "service_id": SERVICE, "opens_at": "9:00am"}],
        "attributes.csv": [
            {
                "id": ATTRIBUTE,
                "link_id": SERVICE,
                "link_entity": "service",
                "link_type": "need",
                "taxonomy_term_id": TERM,  # not in the data
            }
        ],
    }
    for filename, rows in tables.items():
        with (folder / filename).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=sorted({k for r in rows for k in r}))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def test_strict_lists_every_problem_and_writes_nothing(world, admin_access, hsds, tmp_path):
    result = directory_import(access=admin_access, path=broken_package(tmp_path, hsds))

    found = {(p.file, p.row, p.field): p.message for p in result.errors}
    assert "required" in found[("services.csv", "3", "name")]
    assert "spaces" in found[("services.csv", "2", "name")]
    assert MISSING in found[("service_at_location.csv", "2", "location_id")]
    assert "24-hour time" in found[("schedules.csv", "2", "opens_at")]
    assert "unknown taxonomy term" in found[("attributes.csv", "2", "taxonomy_term_id")]
    assert len(result.errors) == 5
    assert all(str(p).startswith(p.file) for p in result.errors)
    assert counts(world.network) == dict.fromkeys(counts(world.network), 0)
    assert not AuditEvent.objects.filter(network=world.network, via="import").exists()


def test_repair_fixes_what_it_safely_can(world, admin_access, hsds, tmp_path):
    result = directory_import(access=admin_access, path=broken_package(tmp_path, hsds), repair=True)

    assert {(r.field, r.before, r.after) for r in result.repairs} == {
        ("name", " Pantry ", "Pantry"),
        ("opens_at", "9:00am", "09:00"),
    }
    assert {(p.file, p.field) for p in result.errors} == {
        ("services.csv", "name"),
        ("service_at_location.csv", "location_id"),
        ("attributes.csv", "taxonomy_term_id"),
    }
    assert counts(world.network)["Service"] == 0


def test_skip_invalid_imports_the_rest_and_lists_what_it_left_out(
    world, admin_access, hsds, tmp_path
):
    result = directory_import(
        access=admin_access, path=broken_package(tmp_path, hsds), repair=True, skip_invalid=True
    )

    assert result.ok and result.committed
    assert {(p.table, p.record_id) for p in result.skipped} == {
        ("service", UUID.format(8)),
        ("service_at_location", LINK),
        ("attribute", ATTRIBUTE),
    }
    assert Service.objects.get(network=world.network).name == "Pantry"
    assert Schedule.objects.get(network=world.network).data["opens_at"] == "09:00"
    assert ServiceAtLocation.objects.filter(network=world.network).count() == 1


def test_a_term_of_the_starter_taxonomy_resolves(world, admin_access, hsds, tmp_path):
    from backbone.directory.taxonomy import term_id

    starter_taxonomy_install(access=admin_access)
    folder = broken_package(tmp_path, hsds)
    rows = (folder / "attributes.csv").read_text().replace(TERM, term_id("food.pantry"))
    (folder / "attributes.csv").write_text(rows)

    result = directory_import(access=admin_access, path=folder, repair=True, skip_invalid=True)

    assert ("attribute", ATTRIBUTE) not in {(p.table, p.record_id) for p in result.skipped}
    attribute = Attribute.objects.get(network=world.network)
    assert attribute.taxonomy_term.code == "food.pantry"


def test_starter_taxonomy_installs_once(world, admin_access):
    first = starter_taxonomy_install(access=admin_access)
    second = starter_taxonomy_install(access=admin_access)

    assert first.created["taxonomy_term"] == len(CATEGORIES)
    assert not second.changed
    pantry = TaxonomyTerm.objects.get(network=world.network, code="food.pantry")
    assert pantry.parent_id == str(
        TaxonomyTerm.objects.get(network=world.network, code="food").hsds_id
    )


@pytest.mark.parametrize("role", ["org_admin", "org_member", "funder", "viewer"])
def test_only_network_admins_import(world, hsds, role):
    access = access_for(world.users[role], world.network)

    with pytest.raises(PermissionDenied):
        directory_import(access=access, path=hsds / "examples" / "service_full.json")
    assert counts(world.network)["Service"] == 0


def _write(folder, name, document):
    path = folder / name
    path.write_text(json.dumps(document))
    return path
