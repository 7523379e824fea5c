"""Partners propose changes to their own listings; the backbone approves or rejects."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.directory.models import ListingChangeRequest, Metadata, Service
from backbone.directory.search import search_services
from backbone.directory.services import (
    ListingError,
    listing_change_approve,
    listing_change_propose,
    listing_change_reject,
    service_mark_verified,
)
from backbone.directory.tests.sample import hid, link_partner, sample_directory
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(world, hsds):
    found = sample_directory(world)
    link_partner(world, found, "pantry")
    return found


def access(world, role):
    return access_for(world.users[role], world.network)


def edit_url(world, key):
    return reverse("directory:listing-edit", args=[world.network.slug, hid(key)])


def test_partner_proposes_and_admin_approves(world, services, client_for):
    partner = client_for("org_member")
    response = partner.post(
        edit_url(world, "pantry"),
        {"name": "Harbor Food Pantry", "description": "Fresh produce on Mondays.", "note": "New"},
    )
    assert response.status_code == 302
    change = ListingChangeRequest.objects.get()
    assert change.proposed == {"description": "Fresh produce on Mondays."}
    assert change.organization == world.organization
    services["pantry"].refresh_from_db()
    assert services["pantry"].data["description"] == "Free groceries every week for families."

    admin = client_for("network_admin")
    detail = reverse("directory:change-detail", args=[world.network.slug, change.pk])
    assert "Fresh produce on Mondays." in admin.get(detail).content.decode()
    assert admin.post(detail, {"approve": "1", "comment": "Thanks"}).status_code == 302
    change.refresh_from_db()
    services["pantry"].refresh_from_db()
    assert change.status == "approved" and change.decided_by == world.users["network_admin"]
    assert services["pantry"].data["description"] == "Fresh produce on Mondays."
    log = Metadata.objects.get(resource_id=hid("pantry"), data__field_name="description")
    assert log.data["previous_value"] == "Free groceries every week for families."
    assert log.data["updated_by"] == world.users["network_admin"].email
    assert AuditEvent.objects.filter(object_type="directory.service", action="update").exists()
    # The search index follows the approved change.
    assert search_services(access(world, "viewer"), q="produce").total == 1


def test_admin_rejects_with_a_comment(world, services):
    change = listing_change_propose(
        access=access(world, "org_admin"), service=services["pantry"], values={"email": "a@b.org"}
    )
    admin = access(world, "network_admin")
    with pytest.raises(ListingError, match="Say why"):
        listing_change_reject(access=admin, change=change, comment=" ")
    listing_change_reject(access=admin, change=change, comment="Use the main inbox.")
    change.refresh_from_db()
    assert (change.status, change.comment) == ("rejected", "Use the main inbox.")
    assert "email" not in Service.objects.get(pk=services["pantry"].pk).data
    with pytest.raises(ListingError, match="already rejected"):
        listing_change_approve(access=admin, change=change)


def test_bad_values_are_refused_with_the_field_and_nothing_is_written(world, services, client_for):
    response = client_for("org_admin").post(
        edit_url(world, "pantry"),
        {"name": "Harbor Food Pantry", "email": "not-an-email", "minimum_age": "ten"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Email: &#x27;not-an-email&#x27; is not an email address." in text
    assert "Minimum age: &#x27;ten&#x27; is not a whole number of years." in text
    assert not ListingChangeRequest.objects.exists()
    with pytest.raises(ListingError, match="Maximum age: 5 is below the minimum age 10"):
        listing_change_propose(
            access=access(world, "org_admin"),
            service=services["pantry"],
            values={"minimum_age": "10", "maximum_age": "5"},
        )
    assert not ListingChangeRequest.objects.exists()


def test_partner_cannot_propose_for_another_organizations_listing(world, services, client_for):
    # Riverside Meals belongs to the second partner of the same network.
    link_partner_other = services["meals"].organization
    link_partner_other.organization = world.second_organization
    link_partner_other.save()
    assert client_for("org_admin").get(edit_url(world, "meals")).status_code == 403
    response = client_for("org_admin").post(edit_url(world, "meals"), {"name": "Hijacked"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        listing_change_propose(
            access=access(world, "org_admin"), service=services["meals"], values={"name": "X"}
        )
    for role in ("viewer", "funder"):
        assert client_for(role).get(edit_url(world, "pantry")).status_code == 403
    assert not ListingChangeRequest.objects.exists()


def test_partner_never_sees_another_organizations_change_requests(world, services, client_for):
    ours = listing_change_propose(
        access=access(world, "org_admin"), service=services["pantry"], values={"alert": "Closed"}
    )
    theirs = ListingChangeRequest.objects.create(
        network=world.network,
        service=services["meals"],
        organization=world.second_organization,
        proposed={"alert": "Moving"},
        current={"alert": ""},
    )
    partner = client_for("org_member")
    listing = partner.get(reverse("directory:change-list", args=[world.network.slug]))
    text = listing.content.decode()
    assert "Harbor Food Pantry" in text and "Riverside Meals" not in text
    mine = reverse("directory:change-detail", args=[world.network.slug, ours.pk])
    other = reverse("directory:change-detail", args=[world.network.slug, theirs.pk])
    assert partner.get(mine).status_code == 200
    assert partner.get(other).status_code == 404
    assert partner.post(mine, {"approve": "1"}).status_code == 403
    assert client_for("viewer").get(mine).status_code == 404
    assert client_for("outsider").get(mine).status_code == 404
    admin_text = client_for("network_admin").get(listing.request["PATH_INFO"]).content.decode()
    assert "Harbor Food Pantry" in admin_text and "Riverside Meals" in admin_text


def test_mark_verified_sets_assured_date_and_clears_the_stale_flag(world, services, client_for):
    viewer = access(world, "viewer")
    assert search_services(viewer, q="meals").hits[0].stale
    url = reverse("directory:service-verify", args=[world.network.slug, hid("meals")])
    assert client_for("org_member").post(url).status_code == 403  # not their listing
    assert client_for("network_admin").post(url).status_code == 302
    meals = Service.objects.get(pk=services["meals"].pk)
    assert meals.data["assurer_email"] == world.users["network_admin"].email
    assert not search_services(viewer, q="meals").hits[0].stale
    assert Metadata.objects.filter(resource_id=hid("meals"), data__field_name="assured_date")
    service_mark_verified(access=access(world, "org_member"), service=services["pantry"])
    with pytest.raises(PermissionDenied):
        service_mark_verified(access=viewer, service=services["pantry"])


def test_admin_edits_a_listing_directly(world, services, client_for):
    response = client_for("network_admin").post(
        edit_url(world, "shelter"), {"name": "Night Shelter", "alert": "Full tonight"}
    )
    assert response.status_code == 302
    assert Service.objects.get(pk=services["shelter"].pk).data["alert"] == "Full tonight"
    assert not ListingChangeRequest.objects.exists()


def test_change_request_of_another_network_is_404(world, services, client_for):
    other_service = Service.objects.create(
        network=world.other_network, hsds_id=hid("elsewhere"), name="Elsewhere"
    )
    other = ListingChangeRequest.objects.create(
        network=world.other_network,
        service=other_service,
        organization=f.OrganizationFactory(),
        proposed={"name": "x"},
        current={"name": "Elsewhere"},
    )
    url = reverse("directory:change-detail", args=[world.network.slug, other.pk])
    assert client_for("network_admin").get(url).status_code == 404
