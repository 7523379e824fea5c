import datetime
import json
import uuid

import pytest
from django.db.models import Q

from backbone.core.access import NETWORK_ADMIN, Access, access_for
from backbone.core.models import Area, AuditEvent
from backbone.demo import directory_seed, measurement_seed, seed
from backbone.directory import models as d
from backbone.directory.hsds.reading import read
from backbone.directory.hsds.schema import compiled_validator, tables
from backbone.directory.services import directory_export, directory_import
from backbone.ecosystem.models import NeedIndicator, Pathway
from backbone.ecosystem.pathways import pathway_analysis
from backbone.ecosystem.selectors import ecosystem_map, ecosystem_redundancy

pytestmark = pytest.mark.django_db

COUNTED = [d.DirectoryOrganization, d.Service, d.Location, d.Attribute, d.ServiceCapacity]


@pytest.fixture
def demo(monkeypatch):
    # The directory does not use the measurement data; leaving it out keeps the test fast.
    monkeypatch.setattr(measurement_seed, "seed_measurement", lambda *a, **k: None)
    return seed.seed("small", log=lambda *a: None)


def counts(network):
    return {m.__name__: m.objects.filter(network=network).count() for m in COUNTED}


def test_small_directory_is_realistic_and_idempotent(demo, monkeypatch):
    network = demo
    first = counts(network)
    assert first["Service"] == directory_seed.SERVICES["small"] == 300
    assert first["Attribute"] == 300 and first["ServiceCapacity"] > 100
    listings = d.DirectoryOrganization.objects.filter(network=network)
    assert listings.filter(organization__isnull=False).count() > 10  # the seeded partners
    assert listings.filter(organization__isnull=True).count() >= 8  # other providers
    service = d.Service.objects.get(
        network=network, hsds_id=directory_seed._id(network.slug, "service", 0)
    )
    assert service.life_stages.exists() and service.populations_served
    for data in d.Location.objects.filter(network=network).values_list("data", flat=True):
        assert 39.5 <= data["latitude"] <= 43.5 and -93 <= data["longitude"] <= -86
    assert NeedIndicator.objects.filter(network=network).count() >= 6
    assert Pathway.objects.filter(network=network).count() == 4
    events = AuditEvent.objects.count()

    seed.seed("small", log=lambda *a: None)

    assert counts(network) == first
    assert AuditEvent.objects.count() == events


def test_the_demo_has_gaps_and_redundancy_by_design(demo):
    public = access_for(None, demo)
    first_city = Area.objects.filter(network=demo, kind="city").order_by("code").first()

    found = ecosystem_redundancy(public, area_kind="city", category="education", minimum=5)

    assert any(r.area == first_city and r.population == "K-12 students" for r in found)
    counties = ecosystem_map(public, area_kind="county")
    second = Area.objects.filter(network=demo, kind="county").order_by("code")[1]
    transport = next(
        c for c in counties.cells if c.area == second and c.category.code == "transportation"
    )
    others = [c for c in counties.cells if c.category.code == "transportation" and c != transport]
    assert transport.services < min(c.services for c in others)
    flagged = {p.name: pathway_analysis(public, p) for p in Pathway.objects.filter(network=demo)}
    senior = flagged["High-school senior to college"]
    assert [r.step.name for r in senior.dead_ends] == ["Summer melt text nudges"]
    assert senior.single_points


def test_map_cells_match_an_independent_count(demo):
    """Harbor County × education, counted with the ORM: active services tagged with an
    education term that reside in the county, a place inside it or the state, or (with no
    residency) have a location whose postal code is a ZIP inside the county."""
    network = demo
    county = Area.objects.get(network=network, code="RL-001")
    inside = Area.objects.filter(Q(pk=county.pk) | Q(parent=county) | Q(parent__parent=county))
    zips = list(inside.filter(kind="zip").values_list("code", flat=True))
    state = Area.objects.get(network=network, kind="state")
    tagged = [
        uuid.UUID(link)
        for link in d.Attribute.objects.filter(
            network=network, taxonomy_term__code__startswith="education"
        ).values_list("link_id", flat=True)
    ]
    services = d.Service.objects.filter(network=network, status="active", hsds_id__in=tagged)
    resident = services.filter(Q(residency_areas__in=inside) | Q(residency_areas=state))
    located = services.filter(
        residency_areas__isnull=True,
        service_at_locations__location__addresses__data__postal_code__in=zips,
    )
    expected = set(resident.values_list("pk", flat=True)) | set(
        located.values_list("pk", flat=True)
    )
    admin = Access(user=None, network=network, role=NETWORK_ADMIN)

    emap = ecosystem_map(admin, area_kind="county")

    cell = next(c for c in emap.cells if c.area == county and c.category.code == "education")
    assert cell.service_ids == expected and len(expected) > 20


def test_the_demo_directory_exports_valid_hsds(demo, tmp_path):
    admin = Access(user=None, network=demo, role=NETWORK_ADMIN)

    counted = directory_export(access=admin, folder=tmp_path)

    assert counted["service"] == 300
    records, form = read(tmp_path / "csv")
    specs = tables()
    problems = [(r.table, e) for r in records for e in specs[r.table].errors(r.values)]
    assert form == "csv" and not problems
    for document in json.loads((tmp_path / "organizations.json").read_text()):
        assert not [e.message for e in compiled_validator("organization").iter_errors(document)]
    # The importer's own checks (foreign keys, times, formats) pass on the export too.
    other = Access(user=None, network=_other_network(), role=NETWORK_ADMIN)
    result = directory_import(access=other, path=tmp_path / "csv", dry_run=True)
    assert result.ok, result.errors[:5]


def test_the_demo_services_json_validates(demo, tmp_path):
    directory_export(access=Access(user=None, network=demo, role=NETWORK_ADMIN), folder=tmp_path)
    for document in json.loads((tmp_path / "services.json").read_text()):
        assert not [e.message for e in compiled_validator("service").iter_errors(document)]


def _other_network():
    from backbone.core.models import Network

    return Network.objects.create(name="Empty", slug="empty-check", purpose="A check.")


def test_most_listings_were_verified_recently_and_some_are_stale(demo):
    """The demo directory looks like a kept directory: most listings checked within the
    stale threshold, a minority flagged stale (not every listing, as before)."""
    from backbone.directory.search import is_stale

    dates = [
        data.get("assured_date")
        for data in d.Service.objects.filter(network=demo).values_list("data", flat=True)
    ]
    assert all(dates)
    stale = sum(is_stale(datetime.date.fromisoformat(day)) for day in dates)
    assert 0.1 * len(dates) < stale < 0.3 * len(dates)
