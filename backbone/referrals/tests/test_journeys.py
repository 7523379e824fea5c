"""Milestones: from completed referrals to a pathway step, and recorded by partners."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.ecosystem.models import Pathway, PathwayStep
from backbone.referrals.journeys import milestone_from_referral, milestone_record
from backbone.referrals.models import CareRelationship, Milestone
from backbone.referrals.tests.insights_world import insights  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_completed_referral_to_a_step_service_marks_the_milestone(insights):  # noqa: F811
    i = insights
    referral = i.completed(i.person(), i.college_service, days=12)

    milestone = milestone_from_referral(referral)

    assert milestone.name == "Enrolled in college"
    assert milestone.pathway_step == i.college and milestone.life_stage == i.postsecondary
    assert milestone.source == Milestone.Source.REFERRAL and milestone.referral == referral
    assert milestone.organization == i.a
    assert milestone.achieved_on == datetime.date(2026, 1, 17)  # the day it was completed
    assert milestone_from_referral(referral) == milestone  # once only
    assert Milestone.objects.filter(referral=referral).count() == 1
    assert AuditEvent.objects.filter(object_type="referrals.milestone").count() == 1


def test_the_referrals_own_step_wins(insights):  # noqa: F811
    i = insights
    referral = i.completed(i.person(), i.other_service, step=i.job)
    assert milestone_from_referral(referral).name == "Employed"


def test_no_milestone_for_open_referrals_or_services_off_the_pathways(insights):  # noqa: F811
    i = insights
    assert milestone_from_referral(i.referral(i.person(), i.college_service)) is None
    assert milestone_from_referral(i.completed(i.person(), i.other_service)) is None
    assert not Milestone.objects.exists()


def _served_by_a(i):
    person = i.person()
    CareRelationship.objects.create(
        network=i.network, person=person, organization=i.a, source="recorded"
    )
    return person


def test_a_partner_records_a_milestone_of_a_person_it_serves(insights):  # noqa: F811
    i = insights
    person = _served_by_a(i)
    access = access_for(i.world.users["org_member"], i.network)

    milestone = milestone_record(
        access=access,
        person=person.pk,
        name="",
        pathway_step=i.fafsa,
        achieved_on=datetime.date(2026, 2, 1),
    )

    assert milestone.name == "FAFSA filed" and milestone.life_stage == i.high_school
    assert milestone.source == Milestone.Source.RECORDED and milestone.organization == i.a
    assert milestone.recorded_by == i.world.users["org_member"]
    event = AuditEvent.objects.get(object_type="referrals.milestone")
    assert event.actor == i.world.users["org_member"] and "Given" not in str(event.after)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": ""}, "name"),
        ({"achieved_on": timezone.localdate() + datetime.timedelta(days=2)}, "achieved_on"),
        ({"person": "someone else's"}, "person"),
        ({"pathway_step": "another network's"}, "pathway_step"),
    ],
)
def test_bad_milestones_are_refused_and_nothing_is_written(insights, change, field):  # noqa: F811
    i = insights
    values = {
        "person": _served_by_a(i).pk,
        "name": "Enrolled in college",
        "achieved_on": datetime.date(2026, 2, 1),
        "pathway_step": None,
    }
    values.update(change)
    if values["person"] == "someone else's":
        values["person"] = i.person().pk  # nobody at A serves them
    if values["pathway_step"] == "another network's":
        theirs = Pathway.objects.create(network=i.world.other_network, name="Theirs")
        values["pathway_step"] = PathwayStep.objects.create(
            network=i.world.other_network, pathway=theirs, name="Their step"
        )
    access = access_for(i.world.users["org_admin"], i.network)
    with pytest.raises(ValidationError) as caught:
        milestone_record(access=access, **values)
    assert field in caught.value.message_dict
    assert not Milestone.objects.exists()


def test_roles_without_an_organization_cannot_record(insights):  # noqa: F811
    i = insights
    person = _served_by_a(i)
    for role in ("network_admin", "funder", "viewer"):
        with pytest.raises(PermissionDenied):
            milestone_record(
                access=access_for(i.world.users[role], i.network),
                person=person.pk,
                name="Employed",
                achieved_on=datetime.date(2026, 2, 1),
            )
    assert not Milestone.objects.exists()


def test_the_milestone_page(insights, client_for):  # noqa: F811
    i = insights
    person = _served_by_a(i)
    url = reverse("referrals:milestone-add", args=[i.network.slug])
    page = client_for("org_member").get(url)
    assert page.status_code == 200 and "Given" not in page.content.decode()
    response = client_for("org_member").post(
        url, {"person": person.pk, "name": "Employed", "achieved_on": "2026-03-01"}
    )
    assert response.status_code == 302
    assert Milestone.objects.get().name == "Employed"
    refused = client_for("org_member").post(
        url, {"person": i.person().pk, "name": "Employed", "achieved_on": "2026-03-01"}
    )
    assert refused.status_code == 400
    assert "No person with this number" in refused.content.decode()
    assert client_for("funder").get(url).status_code == 403
    assert client_for("outsider").get(url).status_code == 404
