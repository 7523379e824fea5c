"""core.bulk as the directory uses it: executemany on SQLite, COPY on PostgreSQL."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, transaction

from backbone.core.bulk import bulk_insert
from backbone.directory.models import Metadata, Service, ServiceOpening, ServiceSearch

HSDS_ID = "00000000-0000-4000-8000-000000000001"


def test_bulk_insert_stores_uuids_json_dates_and_times(world):
    service = Service.objects.create(network=world.network, hsds_id=HSDS_ID, name="Pantry")
    log_id = uuid.UUID("018f3a2b-0000-7000-8000-000000000001")

    bulk_insert(
        Metadata,
        [
            {
                "network_id": world.network.pk,
                "hsds_id": log_id.hex,  # change-log ids come as 32 hex digits
                "resource_id": HSDS_ID,
                "resource_type": "service",
                "data": {"field_name": "name", "previous_value": "tab\there, é\nline", "n": 1.5},
            }
        ],
    )
    bulk_insert(
        ServiceOpening,
        [
            {
                "network_id": world.network.pk,
                "service_id": service.pk,
                "weekday": 6,
                "opens_at": datetime.time(22, 0),
                "closes_at": datetime.time(23, 59, 59),
            }
        ],
    )
    bulk_insert(
        ServiceSearch,
        [
            {
                "network_id": world.network.pk,
                "service_id": service.pk,
                "name": "Pantry",
                "body": "back\\slash",
                "verified_on": datetime.date(2024, 1, 31),
            }
        ],
    )

    log = Metadata.objects.get(network=world.network)
    assert log.hsds_id == log_id
    assert log.data == {"field_name": "name", "previous_value": "tab\there, é\nline", "n": 1.5}
    opening = ServiceOpening.objects.get(service=service)
    assert (opening.weekday, opening.opens_at, opening.closes_at) == (
        6,
        datetime.time(22, 0),
        datetime.time(23, 59, 59),
    )
    entry = ServiceSearch.objects.get(service=service)
    assert (entry.body, entry.verified_on, entry.facets) == (
        "back\\slash",
        datetime.date(2024, 1, 31),
        "",
    )


def test_bulk_insert_of_a_duplicate_id_raises_and_the_transaction_keeps_nothing(world):
    row = {"network_id": world.network.pk, "hsds_id": HSDS_ID, "name": "Pantry"}

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(Service, [row, {**row, "hsds_id": HSDS_ID.replace("1", "2")}, row])

    assert not Service.objects.filter(network=world.network).exists()
