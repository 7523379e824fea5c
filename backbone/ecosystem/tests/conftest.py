"""A hand-built directory whose cells are known, for the map, gap and pathway tests.

Geography of `world.network`: the state of Riverland (RL) with two counties,
Harbor (population 10,000) and Mill (20,000); Harbor has the city of Riverton and ZIP
60101 inside it. Life stages: High school, Postsecondary.
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from dataclasses import dataclass

import pytest

from backbone.core.access import access_for
from backbone.directory import models as d
from backbone.directory.services import starter_taxonomy_install
from backbone.directory.taxonomy import TAXONOMY_ID
from backbone.testing import factories as f

_counter = itertools.count()


@dataclass
class Directory:
    network: object
    state: object
    harbor: object
    mill: object
    riverton: object
    zip_code: object
    high_school: object
    postsecondary: object
    terms: dict
    providers: dict

    def service(
        self,
        name,
        *,
        provider="Harbor Youth",
        term="education.postsecondary",
        stages=("high_school",),
        areas=(),
        populations=(),
        status="active",
        zip_location=False,
        capacity=None,
    ):
        org = self.providers.get(provider)
        if org is None:
            org = d.DirectoryOrganization.objects.create(
                network=self.network,
                hsds_id=uuid.uuid4(),
                name=provider,
                data={"description": provider},
            )
            self.providers[provider] = org
        service = d.Service.objects.create(
            network=self.network,
            hsds_id=uuid.uuid4(),
            organization=org,
            name=name,
            status=status,
            populations_served=list(populations),
        )
        service.life_stages.set([getattr(self, stage) for stage in stages])
        service.residency_areas.set(list(areas))
        if term:
            d.Attribute.objects.create(
                network=self.network,
                hsds_id=uuid.uuid4(),
                taxonomy_term=self.terms[term],
                link_id=str(service.hsds_id),
                link_entity="service",
            )
        if zip_location:
            location = d.Location.objects.create(
                network=self.network, hsds_id=uuid.uuid4(), location_type="physical"
            )
            d.Address.objects.create(
                network=self.network,
                hsds_id=uuid.uuid4(),
                location=location,
                data={"postal_code": self.zip_code.code, "city": "Riverton"},
            )
            d.ServiceAtLocation.objects.create(
                network=self.network, hsds_id=uuid.uuid4(), service=service, location=location
            )
        for n, (available, unit) in enumerate(capacity or []):
            d.ServiceCapacity.objects.create(
                network=self.network,
                hsds_id=uuid.uuid4(),
                service=service,
                available=available,
                unit=unit,
                updated=datetime.datetime(2026, 10, 1 + n, tzinfo=datetime.UTC),
            )
        return service


@pytest.fixture
def directory(world):
    network = world.network
    network.is_public = True
    network.save()
    state = f.AreaFactory(network=network, code="RL", name="Riverland", kind="state")
    harbor = f.AreaFactory(
        network=network,
        code="RL-001",
        name="Harbor County",
        kind="county",
        parent=state,
        population=10_000,
    )
    mill = f.AreaFactory(
        network=network, code="RL-003", name="Mill County", kind="county", parent=state,
        population=20_000,
    )  # fmt: skip
    riverton = f.AreaFactory(
        network=network, code="RL-001-C01", name="Riverton", kind="city", parent=harbor,
        population=8_000,
    )  # fmt: skip
    zip_code = f.AreaFactory(
        network=network, code="60101", name="ZIP 60101", kind="zip", parent=riverton
    )
    high_school = f.LifeStageFactory(network=network, name="High school", position=3)
    postsecondary = f.LifeStageFactory(network=network, name="Postsecondary", position=4)
    admin = access_for(world.users["network_admin"], network)
    starter_taxonomy_install(access=admin, via="test")
    terms = {
        t.code: t
        for t in d.TaxonomyTerm.objects.filter(network=network, taxonomy__hsds_id=TAXONOMY_ID)
    }
    return Directory(
        network, state, harbor, mill, riverton, zip_code, high_school, postsecondary, terms, {}
    )
