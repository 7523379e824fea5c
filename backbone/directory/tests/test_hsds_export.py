import json

import pytest

from backbone.core.access import access_for
from backbone.directory.hsds.exporter import ExportInvalid, flat_records
from backbone.directory.hsds.reading import read
from backbone.directory.hsds.schema import compiled_validator, tables
from backbone.directory.models import Service
from backbone.directory.services import directory_export, directory_import


def without_change_log(records):
    return {table: rows for table, rows in records.items() if table != "metadata"}


@pytest.fixture
def imported(world, admin_access, hsds):
    for name in ("service_full.json", "location.json", "taxonomy_term_list.json"):
        assert directory_import(access=admin_access, path=hsds / "examples" / name).ok
    return admin_access


def test_export_validates_against_the_official_schemas(world, imported, tmp_path):
    directory_export(access=imported, folder=tmp_path)

    services = json.loads((tmp_path / "services.json").read_text())
    organizations = json.loads((tmp_path / "organizations.json").read_text())
    assert len(services) == 1 and len(organizations) == 1
    for document in services:
        assert not [e.message for e in compiled_validator("service").iter_errors(document)]
    for document in organizations:
        assert not [e.message for e in compiled_validator("organization").iter_errors(document)]
    records, form = read(tmp_path / "csv")
    assert form == "csv" and records
    specs = tables()
    for record in records:
        assert not list(specs[record.table].errors(record.values)), record


def test_import_of_the_export_gives_back_the_directory(world, imported, tmp_path):
    directory_export(access=imported, folder=tmp_path)
    other = access_for(world.outsider, world.other_network)

    result = directory_import(access=other, path=tmp_path / "csv")

    assert result.ok, result.errors
    assert without_change_log(flat_records(world.other_network)) == without_change_log(
        flat_records(world.network)
    )


def test_reimporting_the_export_into_the_same_network_changes_nothing(imported, tmp_path):
    directory_export(access=imported, folder=tmp_path)

    result = directory_import(access=imported, path=tmp_path / "csv")

    assert result.ok and not result.changed


def test_json_export_round_trips(world, imported, tmp_path):
    directory_export(access=imported, folder=tmp_path)
    other = access_for(world.outsider, world.other_network)

    result = directory_import(access=other, path=tmp_path / "services.json")

    assert result.ok, result.errors
    ours, theirs = flat_records(world.network), flat_records(world.other_network)
    for table in ("service", "organization", "service_at_location", "attribute", "taxonomy"):
        assert theirs[table] == ours[table], table


def test_a_record_that_breaks_the_schema_stops_the_export_and_writes_nothing(
    world, imported, tmp_path
):
    Service.objects.filter(network=world.network).update(status="sometimes")

    with pytest.raises(ExportInvalid) as raised:
        directory_export(access=imported, folder=tmp_path / "out")

    assert any("service" in problem and "sometimes" in problem for problem in raised.value.problems)
    assert not (tmp_path / "out").exists()
