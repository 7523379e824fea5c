"""A small directory for search, page and listing tests, imported through the real
importer (so the search index is refreshed by the import path itself).

Four services around River City (41.50, -81.69):
- Harbor Food Pantry: term food.pantry, Spanish, Mon/Wed 09:00-17:00, at the center,
  families; the partner organization of `world.organization`.
- Riverside Meals: term food.meals, English, daily 11:00-13:00, ~18 km east, seniors.
- Night Shelter: term housing.shelter, nightly 20:00-07:00, ~190 km away.
- Tutoring Club: term education.tutoring; "food" only in its description.
"""

from __future__ import annotations

import uuid

from backbone.core.access import access_for
from backbone.directory.hsds.reading import Record
from backbone.directory.services import directory_import_records, starter_taxonomy_install
from backbone.directory.taxonomy import term_id

NS = uuid.UUID("0a4f3c4e-7d7e-4c55-8b0e-1f5a2b9c0d11")
CENTER = (41.50, -81.69)


def hid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def _service_records(
    key,
    *,
    name,
    organization,
    description,
    term,
    lat,
    lon,
    schedule,
    language=None,
    populations=(),
    extra=None,
):
    org_id, service_id, location_id = hid(f"org:{organization}"), hid(key), hid(f"loc:{key}")
    records = [
        Record(
            "organization",
            {
                "id": org_id,
                "name": organization,
                "description": f"{organization} serves River City.",
            },
            "t",
            key,
        ),
        Record(
            "service",
            {
                "id": service_id,
                "name": name,
                "status": "active",
                "organization_id": org_id,
                "description": description,
                **(extra or {}),
            },
            "t",
            key,
        ),
        Record(
            "location",
            {
                "id": location_id,
                "name": f"{name} site",
                "location_type": "physical",
                "organization_id": org_id,
                "latitude": lat,
                "longitude": lon,
            },
            "t",
            key,
        ),
        Record(
            "service_at_location",
            {"id": hid(f"sal:{key}"), "service_id": service_id, "location_id": location_id},
            "t",
            key,
        ),
        Record(
            "address",
            {
                "id": hid(f"addr:{key}"),
                "location_id": location_id,
                "address_1": f"{len(key)} Main Street",
                "city": "River City",
                "region": "Harbor County",
                "state_province": "OH",
                "postal_code": "44101",
                "country": "US",
                "address_type": "physical",
            },
            "t",
            key,
        ),
        Record(
            "phone",
            {"id": hid(f"phone:{key}"), "service_id": service_id, "number": "216-555-0100"},
            "t",
            key,
        ),
        Record(
            "attribute",
            {
                "id": hid(f"attr:{key}"),
                "link_id": service_id,
                "link_entity": "service",
                "link_type": "category",
                "taxonomy_term_id": term_id(term),
            },
            "t",
            key,
        ),
    ]
    byday, opens, closes = schedule
    records.append(
        Record(
            "schedule",
            {
                "id": hid(f"sched:{key}"),
                "service_id": service_id,
                "freq": "WEEKLY",
                "byday": byday,
                "opens_at": opens,
                "closes_at": closes,
            },
            "t",
            key,
        )
    )
    if language:
        records.append(
            Record(
                "language",
                {
                    "id": hid(f"lang:{key}"),
                    "service_id": service_id,
                    "name": language[1],
                    "code": language[0],
                },
                "t",
                key,
            )
        )
    return records, populations


SERVICES = {
    "pantry": dict(
        name="Harbor Food Pantry",
        organization="Harbor Community Services",
        description="Free groceries every week for families.",
        term="food.pantry",
        lat=41.50,
        lon=-81.69,
        schedule=("MO,WE", "09:00", "17:00"),
        language=("es", "Spanish"),
        populations=("families",),
        extra={
            "eligibility_description": "Residents of Harbor County.",
            "assured_date": "2026-10-01",
        },
    ),
    "meals": dict(
        name="Riverside Meals",
        organization="Riverside Senior Center",
        description="Hot meals for seniors; food every day at noon.",
        term="food.meals",
        lat=41.50,
        lon=-81.47,
        schedule=("MO,TU,WE,TH,FR,SA,SU", "11:00", "13:00"),
        language=("en", "English"),
        populations=("seniors",),
    ),
    "shelter": dict(
        name="Night Shelter",
        organization="Lakeside Housing",
        description="Emergency beds for the night.",
        term="housing.shelter",
        lat=40.00,
        lon=-82.50,
        schedule=("MO,TU,WE,TH,FR,SA,SU", "20:00", "07:00"),
    ),
    "tutoring": dict(
        name="Tutoring Club",
        organization="River City Schools Foundation",
        description="Homework help after school, with a snack and food for thought.",
        term="education.tutoring",
        lat=41.51,
        lon=-81.70,
        schedule=("TU,TH", "15:00", "18:00"),
    ),
}


def sample_directory(world):
    """Import the sample services into world.network; returns {key: Service}."""
    from backbone.directory.models import Service
    from backbone.directory.search import search_index_refresh

    access = access_for(world.users["network_admin"], world.network)
    assert starter_taxonomy_install(access=access, via="test").ok
    records, populations = [], {}
    for key, spec in SERVICES.items():
        found, pops = _service_records(key, **spec)
        records += found
        populations[key] = pops
    result = directory_import_records(access=access, records=records, form="json", source="t")
    assert result.ok, [str(e) for e in result.errors]
    services = {
        key: Service.objects.get(network=world.network, hsds_id=hid(key)) for key in SERVICES
    }
    for key, service in services.items():
        service.populations_served = list(populations[key])
        service.save()
    search_index_refresh(world.network)
    return services


def link_partner(world, services, key="pantry"):
    """Make world.organization the partner behind the listing of SERVICES[KEY]."""
    listing = services[key].organization
    listing.organization = world.organization
    listing.save()
    return listing
