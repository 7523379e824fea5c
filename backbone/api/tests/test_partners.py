"""Memberships, prospect assessments and readiness assessments over the API."""

import pytest

from backbone.api.tests.conftest import audited, network_path
from backbone.core.models import Membership
from backbone.partners.models import ProspectAssessment, ReadinessAssessment

pytestmark = pytest.mark.django_db

ANSWERS = {
    "leadership": 3,
    "data_capacity": 1,
    "staff_time": 2,
    "alignment": 3,
    "collaboration": 0,
}


# Memberships ------------------------------------------------------------------------------


def test_membership_lifecycle_as_admin(world, admin_api):
    membership = Membership.objects.get(network=world.network, organization=world.prospect)

    changed = admin_api.patch(
        network_path(world, f"/memberships/{membership.pk}"),
        {"status": "invited", "notes": "Met at the convening."},
    )
    assert changed.status_code == 200
    assert changed.json()["status"] == "invited"
    assert changed.json()["notes"] == "Met at the convening."
    assert audited(membership, membership.pk, "update")

    deleted = admin_api.delete(network_path(world, f"/memberships/{membership.pk}"))
    assert deleted.status_code == 204
    assert audited(membership, membership.pk, "delete")


def test_membership_status_transition_is_enforced(world, admin_api):
    membership = Membership.objects.get(network=world.network, organization=world.organization)

    response = admin_api.patch(
        network_path(world, f"/memberships/{membership.pk}"), {"status": "prospect"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "status"]
    membership.refresh_from_db()
    assert membership.status == "active"


def test_members_do_not_see_backbone_notes(world, api_as):
    membership = Membership.objects.get(network=world.network, organization=world.organization)
    membership.notes = "Slow to report."
    membership.save()

    body = api_as("org_admin").get(network_path(world, f"/memberships/{membership.pk}")).json()

    assert body["notes"] == ""


def test_org_admin_cannot_change_memberships(world, api_as):
    membership = Membership.objects.get(network=world.network, organization=world.organization)

    response = api_as("org_admin").patch(
        network_path(world, f"/memberships/{membership.pk}"), {"role": "backbone"}
    )

    assert response.status_code == 403


# Prospect assessments ---------------------------------------------------------------------


def test_prospect_assessment_lifecycle_as_admin(world, admin_api):
    created = admin_api.post(
        network_path(world, "/prospect-assessments"),
        {
            "organization_id": world.prospect.pk,
            "influence": 5,
            "alignment": 2,
            "capacity": 3,
            "reach": 4,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["quadrant"] == "Build alignment"
    assert body["total"] == 14
    assert body["assessed_by_id"] == world.users["network_admin"].pk
    assert audited(ProspectAssessment, body["id"], "create")

    path = network_path(world, f"/prospect-assessments/{body['id']}")
    changed = admin_api.patch(path, {"alignment": 4})
    assert changed.json()["quadrant"] == "Engage closely"
    assert audited(ProspectAssessment, body["id"], "update")

    assert admin_api.delete(path).status_code == 204
    assert audited(ProspectAssessment, body["id"], "delete")


def test_prospect_assessment_of_other_network_organization_gives_422(world, admin_api):
    response = admin_api.post(
        network_path(world, "/prospect-assessments"),
        {
            "organization_id": world.other_organization.pk,
            "influence": 5,
            "alignment": 2,
            "capacity": 3,
            "reach": 4,
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "organization_id"]
    assert not ProspectAssessment.objects.exists()


# Readiness --------------------------------------------------------------------------------


def test_readiness_lifecycle(world, api_as, admin_api):
    created = api_as("org_member").post(
        network_path(world, "/readiness-assessments"),
        {
            "organization_id": world.organization.pk,
            "answers": ANSWERS,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["score"] == 60
    assert body["level"] == "ready"
    assert body["level_label"] == "Ready"
    assert len(body["next_steps"]) == 2  # data capacity and prior collaboration are weakest
    assert audited(ReadinessAssessment, body["id"], "create")

    path = network_path(world, f"/readiness-assessments/{body['id']}")
    assert admin_api.get(path).json()["summary"].startswith("Ready to take part")
    assert api_as("funder").get(path).status_code == 403
    assert admin_api.delete(path).status_code == 204
    assert audited(ReadinessAssessment, body["id"], "delete")


def test_readiness_of_another_organization_is_refused(world, api_as):
    response = api_as("org_member").post(
        network_path(world, "/readiness-assessments"),
        {
            "organization_id": world.second_organization.pk,
            "answers": ANSWERS,
        },
    )

    assert response.status_code == 403
    assert not ReadinessAssessment.objects.exists()


def test_incomplete_readiness_answers_name_the_question(world, admin_api):
    response = admin_api.post(
        network_path(world, "/readiness-assessments"),
        {
            "organization_id": world.organization.pk,
            "answers": {**ANSWERS, "leadership": 7},
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "answers", "leadership"]


def test_readiness_is_private_to_the_organization(world, api_as):
    other = ReadinessAssessment.objects.create(
        network=world.network,
        organization=world.second_organization,
        answers=ANSWERS,
        score=60,
        level="ready",
    )

    org_admin = api_as("org_admin")

    assert org_admin.get(network_path(world, "/readiness-assessments")).json()["count"] == 0
    assert (
        org_admin.get(network_path(world, f"/readiness-assessments/{other.pk}")).status_code == 404
    )
