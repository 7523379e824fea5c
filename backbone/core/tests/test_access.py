"""The permission layer: outsiders get 404, members without the right get 403."""

import pytest
from django.urls import reverse

from backbone.core.access import PUBLIC, Access, access_for, registered_models
from backbone.core.models import AuditEvent, LifeStage, Membership, NetworkRole, Organization
from backbone.governance.models import WorkingGroup
from backbone.partners.models import ProspectAssessment, ReadinessAssessment
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def nonprofit() -> int:
    from backbone.core.models import Sector

    return Sector.objects.get(code="nonprofit").pk


def url(name, *args):
    return reverse(name, args=args)


def test_outsider_gets_404_on_every_network_page(world, client_for):
    client = client_for("outsider")
    slug = world.network.slug
    for path in [
        url("framework:network-home", slug),
        url("partners:partner-list", slug),
        url("partners:organization-detail", slug, world.organization.slug),
        url("core:audit-log", slug),
        url("core:people", slug),
    ]:
        assert client.get(path).status_code == 404, path


def test_anonymous_is_sent_to_login_for_a_private_network(world, client):
    response = client.get(url("framework:network-home", world.network.slug))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    # the same for a slug that does not exist: a redirect reveals nothing
    missing = client.get(url("framework:network-home", "no-such-network"))
    assert missing.status_code == 302


def test_public_sees_active_partners_only(world, client):
    world.network.is_public = True
    world.network.save()
    home = client.get(url("partners:partner-list", world.network.slug))
    assert home.status_code == 200
    body = home.content.decode()
    assert world.organization.name in body
    assert world.prospect.name not in body
    prospect = client.get(
        url("partners:organization-detail", world.network.slug, world.prospect.slug)
    )
    assert prospect.status_code == 404
    assert client.get(url("core:people", world.network.slug)).status_code == 302


@pytest.mark.parametrize("role", ["org_admin", "org_member", "funder", "viewer"])
def test_prospects_are_private_to_the_backbone(world, client_for, role):
    client = client_for(role)
    slug = world.network.slug
    assert (
        client.get(url("partners:organization-detail", slug, world.prospect.slug)).status_code
        == 404
    )
    assert (
        world.prospect.name not in client.get(url("partners:partner-list", slug)).content.decode()
    )
    assert client.get(url("partners:stakeholder-matrix", slug)).status_code == 403


@pytest.mark.parametrize("role", ["org_admin", "org_member", "funder", "viewer"])
def test_members_without_the_right_get_403(world, client_for, role):
    client = client_for(role)
    slug = world.network.slug
    assert client.get(url("core:network-edit", slug)).status_code == 403
    assert client.get(url("core:area-create", slug)).status_code == 403
    assert client.get(url("core:audit-log", slug)).status_code == 403
    assert (
        client.post(url("partners:organization-create", slug), {"org-name": "Sneaky"}).status_code
        == 403
    )
    assert not Organization.objects.filter(name="Sneaky").exists()


def test_org_admin_edits_own_organization_only(world, client_for):
    client = client_for("org_admin")
    slug = world.network.slug
    own = url("partners:organization-edit", slug, world.organization.slug)
    response = client.post(
        own, {"name": "Renamed Partner", "sectors": [nonprofit()], "populations_served": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    world.organization.refresh_from_db()
    assert world.organization.name == "Renamed Partner"
    other = url("partners:organization-edit", slug, world.second_organization.slug)
    assert client.post(other, {"name": "Hijacked", "sectors": [nonprofit()]}).status_code == 403
    world.second_organization.refresh_from_db()
    assert world.second_organization.name != "Hijacked"


def test_org_member_cannot_edit_own_organization(world, client_for):
    response = client_for("org_member").get(
        url("partners:organization-edit", world.network.slug, world.organization.slug)
    )
    assert response.status_code == 403


def test_readiness_is_seen_by_the_organization_and_the_backbone_only(world, client_for):
    slug = world.network.slug
    answers = {
        "leadership": 3,
        "data_capacity": 1,
        "staff_time": 2,
        "alignment": 3,
        "collaboration": 0,
    }
    member = client_for("org_member")
    response = member.post(url("partners:readiness-create", slug, world.organization.slug), answers)
    assert response.status_code == 302
    assessment = ReadinessAssessment.objects.get()
    assert assessment.score == round(100 * 9 / 15)
    detail = url("partners:readiness-detail", slug, assessment.pk)
    assert member.get(detail).status_code == 200
    assert client_for("network_admin").get(detail).status_code == 200
    assert client_for("viewer").get(detail).status_code == 404
    assert client_for("funder").get(detail).status_code == 404
    assert client_for("outsider").get(detail).status_code == 404
    # a member may not assess another organization
    assert (
        member.post(
            url("partners:readiness-create", slug, world.second_organization.slug), answers
        ).status_code
        == 403
    )


def test_forms_refuse_rows_of_another_network(world, client_for):
    foreign_stage = f.LifeStageFactory(network=world.other_network)
    response = client_for("network_admin").post(
        url("governance:working-group-create", world.network.slug),
        {"name": "Early learning", "charter": "Ready kids", "life_stage": foreign_stage.pk},
    )
    assert response.status_code == 400
    assert "life_stage" in response.context["form"].errors
    assert not WorkingGroup.objects.exists()


SCOPED_MODELS_NETWORK_PATH = {
    Organization: "memberships__network",
}


@pytest.mark.parametrize(
    "role", [PUBLIC, "network_admin", "org_admin", "org_member", "funder", "viewer"]
)
def test_scopes_never_cross_networks(world, role):
    """Every registered policy, for every role, returns rows of the access's network only."""
    f.WorkingGroupFactory(network=world.other_network)
    f.ProspectAssessmentFactory(network=world.other_network, organization=world.other_organization)
    f.LifeStageFactory(network=world.other_network)
    f.AreaFactory(network=world.other_network)
    user = world.users.get(role)
    organization_id = world.organization.pk if role in ("org_admin", "org_member") else None
    access = Access(user=user, network=world.network, role=role, organization_id=organization_id)
    for model in registered_models():
        for action in ("view", "change", "delete"):
            rows = access.scope(model, action)
            if model is Organization:
                foreign = rows.filter(pk=world.other_organization.pk)
            elif model._meta.model_name == "network":
                foreign = rows.filter(pk=world.other_network.pk)
            elif model._meta.model_name == "organizationidentifier":
                foreign = rows.filter(organization=world.other_organization)
            else:
                foreign = rows.filter(network=world.other_network)
            assert not foreign.exists(), (model, action, role)


def test_access_for_outsider_is_none(world):
    assert access_for(world.outsider, world.network) is None
    world.network.is_public = True
    assert access_for(world.outsider, world.network).role == PUBLIC


def test_unregistered_model_is_refused(world):
    access = Access(user=world.users["viewer"], network=world.network, role="viewer")
    from django.contrib.sessions.models import Session

    with pytest.raises(LookupError):
        access.scope(Session)


def test_role_scoping_of_people(world):
    org_admin = Access(
        user=world.users["org_admin"],
        network=world.network,
        role="org_admin",
        organization_id=world.organization.pk,
    )
    visible = set(org_admin.scope(NetworkRole).values_list("user__email", flat=True))
    assert visible == {"org-admin@river.example", "org-member@river.example"}
    assert not org_admin.can_add(
        NetworkRole, role="network_admin", organization_id=world.organization.pk
    )
    assert not org_admin.can_add(
        NetworkRole, role="org_member", organization_id=world.second_organization.pk
    )
    viewer = Access(user=world.users["viewer"], network=world.network, role="viewer")
    assert list(viewer.scope(NetworkRole).values_list("user__email", flat=True)) == [
        "viewer@river.example"
    ]
    assert not viewer.allows(AuditEvent)
    assert not viewer.allows(ProspectAssessment)
    assert viewer.scope(Membership).filter(status="prospect").count() == 0
    assert viewer.scope(LifeStage, "change").count() == 0
