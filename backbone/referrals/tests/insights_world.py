"""The cast of the insights tests, built straight with the ORM (no workflow services): a
pathway Senior → FAFSA → College → Job, the services that carry its steps at partners A
(`world.organization`) and B (`world.second_organization`), a race dimension, two
counties, and helpers that make people, referrals and milestones with chosen dates.

The network's small-cell threshold k is 3, so a handful of rows shows suppression."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import uuid
from dataclasses import dataclass

import pytest

from backbone.core.models import Membership
from backbone.directory.models import DirectoryOrganization, Service
from backbone.ecosystem.models import Pathway, PathwayEdge, PathwayStep
from backbone.measurement.models import Category, Dimension, Framework, Result
from backbone.referrals.models import Consent, Milestone, Person, Referral
from backbone.testing import factories as f

K = 3
_numbers = itertools.count(1)
T0 = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)  # a Monday of 2026-Q1


@dataclass
class Insights:
    world: object
    network: object
    a: object
    b: object
    harbor: object
    mill: object
    high_school: object
    postsecondary: object
    pathway: Pathway
    fafsa: PathwayStep
    college: PathwayStep
    job: PathwayStep
    fafsa_service: Service
    college_service: Service
    job_service: Service
    other_service: Service
    result: Result

    def person(self, *, race: str | None = None, area=None) -> Person:
        return make_person(self.network, race=race, area=area)

    def referral(self, person, service, **kwargs) -> Referral:
        return make_referral(person, service, **kwargs)

    def completed(self, person, service, *, sent=T0, days=10, outcome="service_received", **kw):
        return self.referral(
            person, service, status="completed", sent=sent, respond_hours=5, close_days=days,
            outcome=outcome, **kw,
        )  # fmt: skip

    def milestone(self, person, step, day: datetime.date, name="") -> Milestone:
        return Milestone.objects.create(
            network=person.network,
            person=person,
            name=name or step.name,
            pathway_step=step,
            source=Milestone.Source.RECORDED,
            achieved_on=day,
        )


def make_person(network, *, race: str | None = None, area=None) -> Person:
    n = next(_numbers)
    return Person.objects.create(
        network=network,
        given_name=f"Given{n}",
        family_name=f"Family{n}",
        birth_date="2008-01-01",
        demographics={"race": race} if race else {},
        area=area,
        birth_year=2008,
        birth_date_index=f"b{n}",
        name_index=f"n{n}",
    )


def make_referral(
    person,
    service,
    *,
    status="sent",
    sent=T0,
    respond_hours=None,
    close_days=None,
    decline_reason="",
    outcome="",
    step=None,
    area=None,
    on_time=True,
) -> Referral:
    to_org = service.organization.organization
    from_org = (
        Membership.objects.filter(network=person.network)
        .exclude(organization=to_org)
        .order_by("pk")
        .first()
        .organization
    )
    consent = Consent.objects.create(
        network=person.network,
        person=person,
        disclosing_organization=from_org,
        recipients="named",
        information=["identity", "referrals", "outcomes"],
        purpose="referral",
        expires_on=datetime.date(2030, 1, 1),
        signature="electronic",
        signed_by="The person",
    )
    responded = sent + datetime.timedelta(hours=respond_hours) if respond_hours else None
    closed = sent + datetime.timedelta(days=close_days) if close_days is not None else None
    respond_by = sent + datetime.timedelta(days=3)
    if responded and not on_time:
        respond_by = responded - datetime.timedelta(hours=1)
    elif responded:
        respond_by = max(respond_by, responded)
    return Referral.objects.create(
        network=person.network,
        person=person,
        consent=consent,
        from_organization=from_org,
        to_organization=to_org,
        to_service=service,
        status=status,
        decline_reason=decline_reason,
        outcome=outcome,
        sent_at=sent,
        respond_by=respond_by,
        responded_at=responded,
        closed_at=closed,
        pathway_step=step,
        area=area,
    )


def listing(network, organization, name: str, stages=()) -> Service:
    directory_org = DirectoryOrganization.objects.filter(
        network=network, organization=organization
    ).first() or DirectoryOrganization.objects.create(
        network=network,
        hsds_id=uuid.uuid4(),
        name=f"{organization.name} listing",
        organization=organization,
    )
    service = Service.objects.create(
        network=network, hsds_id=uuid.uuid4(), organization=directory_org, name=name,
        status="active",
    )  # fmt: skip
    service.life_stages.set(stages)
    return service


@pytest.fixture
def insights(world) -> Insights:
    network = world.network
    Framework.objects.create(network=network, suppression_k=K)
    harbor = f.AreaFactory(network=network, code="H", name="Harbor County", kind="county")
    mill = f.AreaFactory(network=network, code="M", name="Mill County", kind="county")
    high_school = f.LifeStageFactory(network=network, name="High school", position=3)
    postsecondary = f.LifeStageFactory(network=network, name="Postsecondary", position=4)
    race = Dimension.objects.create(network=network, code="race", name="Race/ethnicity")
    for position, (code, name) in enumerate(
        [("black", "Black"), ("latinx", "Latinx"), ("white", "White")]
    ):
        Category.objects.create(
            network=network, dimension=race, code=code, name=name, position=position
        )
    result = Result.objects.create(
        network=network, code="college-ready", name="Youth go to college", life_stage=postsecondary
    )
    a, b = world.organization, world.second_organization
    fafsa_service = listing(network, b, "FAFSA Nights", [high_school])
    college_service = listing(network, a, "College Coaching", [postsecondary])
    job_service = listing(network, b, "Job Placement", [postsecondary])
    other_service = listing(network, a, "Food Pantry")
    pathway = Pathway.objects.create(network=network, name="Senior to college")
    pathway.life_stages.set([postsecondary])
    fafsa = PathwayStep.objects.create(
        network=network, pathway=pathway, name="FAFSA filed", position=1, life_stage=high_school
    )
    college = PathwayStep.objects.create(
        network=network, pathway=pathway, name="Enrolled in college", position=2,
        life_stage=postsecondary,
    )  # fmt: skip
    job = PathwayStep.objects.create(
        network=network, pathway=pathway, name="Employed", position=3, is_final=True,
        life_stage=postsecondary,
    )  # fmt: skip
    fafsa.services.set([fafsa_service])
    college.services.set([college_service])
    job.services.set([job_service])
    PathwayEdge.objects.create(network=network, pathway=pathway, from_step=fafsa, to_step=college)
    PathwayEdge.objects.create(network=network, pathway=pathway, from_step=college, to_step=job)
    return Insights(
        world, network, a, b, harbor, mill, high_school, postsecondary, pathway, fafsa, college,
        job, fafsa_service, college_service, job_service, other_service, result,
    )  # fmt: skip


def figures(obj):
    """Every Figure inside a tree of dataclasses and lists."""
    from backbone.referrals.network_metrics import Figure

    if isinstance(obj, Figure):
        yield obj
    elif dataclasses.is_dataclass(obj):
        for item in dataclasses.fields(obj):
            yield from figures(getattr(obj, item.name))
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from figures(item)
