import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backbone.core.access import Access
from backbone.core.models import AuditEvent, Membership
from backbone.partners import readiness, services
from backbone.partners.models import ReadinessAssessment

pytestmark = pytest.mark.django_db


def admin_access(world):
    return Access(user=world.users["network_admin"], network=world.network, role="network_admin")


def test_organization_create_makes_membership_and_audits(world):
    organization = services.organization_create(
        access=admin_access(world),
        fields={"name": "Harbor Literacy Project"},
        membership={"status": "invited", "role": "partner"},
    )
    membership = Membership.objects.get(organization=organization)
    assert (membership.network, membership.status) == (world.network, "invited")
    assert organization.slug == "harbor-literacy-project"
    assert AuditEvent.objects.filter(object_type="core.organization", action="create").exists()
    assert AuditEvent.objects.filter(object_type="core.membership", action="create").exists()


def test_membership_refuses_impossible_status_moves(world):
    access = admin_access(world)
    membership = Membership.objects.get(organization=world.organization)
    with pytest.raises(ValidationError) as error:
        services.membership_update(
            access=access, membership=membership, fields={"status": "prospect"}
        )
    assert "cannot move from active to prospect" in str(error.value)
    membership.refresh_from_db()
    assert membership.status == "active"
    services.membership_update(access=access, membership=membership, fields={"status": "inactive"})
    membership.refresh_from_db()
    assert membership.status == "inactive"


def test_readiness_scores_levels_and_next_steps(world):
    answers = {
        "leadership": 3,
        "data_capacity": 0,
        "staff_time": 1,
        "alignment": 3,
        "collaboration": 2,
    }
    access = Access(
        user=world.users["org_admin"],
        network=world.network,
        role="org_admin",
        organization_id=world.organization.pk,
    )
    assessment = services.readiness_submit(
        access=access, organization=world.organization, answers=answers
    )
    assert assessment.score == 60 and assessment.level == "ready"
    result = readiness.result(assessment.answers, assessment.level)
    assert len(result["next_steps"]) == 2  # data capacity (0) and staff time (1)
    assert result["next_steps"][0].startswith("Name a data lead")


def test_readiness_rejects_bad_answers_with_the_question_named(world):
    access = admin_access(world)
    with pytest.raises(ValidationError) as error:
        services.readiness_submit(
            access=access, organization=world.organization, answers={"leadership": 7, "mood": 1}
        )
    messages = error.value.message_dict
    assert messages["leadership"] == ["The answer must be a number from 0 to 3."]
    assert messages["data_capacity"] == ["Choose an answer."]
    assert "mood" in messages
    assert not ReadinessAssessment.objects.exists()


def test_viewer_cannot_submit_readiness(world):
    access = Access(user=world.users["viewer"], network=world.network, role="viewer")
    answers = dict.fromkeys(readiness.QUESTION_CODES, 2)
    with pytest.raises(PermissionDenied):
        services.readiness_submit(access=access, organization=world.organization, answers=answers)


def test_removing_the_only_membership_deletes_the_organization(world, client_for):
    from django.urls import reverse

    from backbone.core.models import Organization

    client = client_for("network_admin")
    url = reverse(
        "partners:membership-remove", args=[world.network.slug, world.second_organization.slug]
    )
    assert client_for("viewer").post(url).status_code == 403
    assert client.post(url).status_code == 302
    assert not Organization.objects.filter(pk=world.second_organization.pk).exists()
    assert AuditEvent.objects.filter(object_type="core.organization", action="delete").exists()


def test_removing_a_shared_organization_keeps_it_for_its_other_network(world, client_for):
    from django.urls import reverse

    from backbone.testing import factories as f

    f.MembershipFactory(network=world.other_network, organization=world.second_organization)
    url = reverse(
        "partners:membership-remove", args=[world.network.slug, world.second_organization.slug]
    )
    assert client_for("network_admin").post(url).status_code == 302
    world.second_organization.refresh_from_db()
    assert list(world.second_organization.memberships.values_list("network", flat=True)) == [
        world.other_network.pk
    ]
    assert client_for("outsider").post(url).status_code == 404
