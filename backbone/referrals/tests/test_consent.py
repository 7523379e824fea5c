"""Consent (42 CFR §2.31): record with every element, revoke (effective on the next
request), expiry by date and by event."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from backbone.core.access import Access
from backbone.core.models import AuditEvent
from backbone.referrals import consents, selectors
from backbone.referrals.models import Consent
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def staff_of(world, organization, role="org_member"):
    user = f.UserFactory()
    f.NetworkRoleFactory(user=user, network=world.network, role=role, organization=organization)
    return user


def access_of(world, user, organization, role="org_member"):
    return Access(user=user, network=world.network, role=role, organization_id=organization.pk)


def valid(**overrides):
    values = {
        "recipients": "named",
        "information": ["identity", "referrals"],
        "purpose": "referral",
        "expires_on": timezone.localdate() + datetime.timedelta(days=30),
        "signature": "paper",
        "signed_by": "Maria Quintero",
    }
    values.update(overrides)
    return values


def test_consent_record_keeps_every_element_and_who_recorded_it(world):
    built = f.client_world(world, consent_to_second=False)
    consent = consents.consent_record(
        access=built["access_a"],
        person=built["person"],
        recipient_organizations=[world.second_organization],
        information_description="Contact details only",
        **valid(),
    )
    consent.refresh_from_db()
    assert consent.disclosing_organization == world.organization
    assert list(consent.recipient_organizations.all()) == [world.second_organization]
    assert consent.information == ["identity", "referrals"]
    assert consent.signature == "paper" and consent.signed_by == "Maria Quintero"
    assert consent.recorded_by == world.users["org_admin"]
    assert consent.information_description == "Contact details only"
    assert selectors.consent_allows(built["person"], world.second_organization.pk) == consent
    assert selectors.consent_allows(built["person"], world.second_organization.pk, "notes") is None
    assert AuditEvent.objects.filter(object_type="referrals.consent").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipient_organizations": []}, "recipient_organizations"),
        ({"recipients": "everyone"}, "recipients"),
        ({"information": []}, "information"),
        ({"information": ["identity", "bank account"]}, "information"),
        ({"purpose": "marketing"}, "purpose"),
        ({"purpose": "other"}, "purpose_description"),
        ({"expires_on": None}, "expires_on"),
        ({"expires_on": datetime.date(2000, 1, 1)}, "expires_on"),
        ({"signature": "thumbs-up"}, "signature"),
        ({"signed_by": "  "}, "signed_by"),
    ],
)
def test_consent_record_refuses_missing_elements_and_writes_nothing(world, overrides, field):
    built = f.client_world(world, consent_to_second=False)
    values = {"recipient_organizations": [world.second_organization], **valid(), **overrides}
    with pytest.raises(ValidationError) as error:
        consents.consent_record(access=built["access_a"], person=built["person"], **values)
    assert field in error.value.message_dict
    assert not Consent.objects.exists()


def test_consent_cannot_name_an_organization_of_another_network(world):
    built = f.client_world(world, consent_to_second=False)
    with pytest.raises(ValidationError) as error:
        consents.consent_record(
            access=built["access_a"],
            person=built["person"],
            **valid(recipient_organizations=[world.other_organization]),
        )
    assert "recipient_organizations" in error.value.message_dict


def test_an_organization_that_cannot_see_the_person_cannot_record_consent(world):
    built = f.client_world(world, consent_to_second=False)
    b_user = staff_of(world, world.second_organization)
    with pytest.raises(PermissionDenied):
        consents.consent_record(
            access=access_of(world, b_user, world.second_organization),
            person=built["person"],
            **valid(recipient_organizations=[world.second_organization]),
        )
    assert not Consent.objects.exists()


def test_revocation_takes_effect_on_the_next_request(world, client_for):
    built = f.client_world(world)
    b_user = staff_of(world, world.second_organization)
    b_client = client_for(None)
    b_client.force_login(b_user)
    detail = reverse("referrals:person-detail", args=[world.network.slug, built["person"].pk])
    assert b_client.get(detail).status_code == 200

    a_client = client_for("org_admin")
    revoke = reverse("referrals:consent-revoke", args=[world.network.slug, built["consent"].pk])
    page = a_client.get(revoke)
    assert page.status_code == 200 and "takes effect at once" in page.content.decode()
    response = a_client.post(revoke, {"note": "Called to withdraw."})
    assert response.status_code == 302
    built["consent"].refresh_from_db()
    assert built["consent"].revoked_at is not None
    assert built["consent"].revoked_by == world.users["org_admin"]

    assert b_client.get(detail).status_code == 404
    listing = b_client.get(reverse("referrals:person-list", args=[world.network.slug]))
    assert "Quintero" not in listing.content.decode()
    # The organization holding the record still sees it, with the consent marked revoked.
    page = a_client.get(detail).content.decode()
    assert "Quintero" in page and "revoked" in page
    # Revoking twice is refused with a message, nothing changes.
    with pytest.raises(ValidationError, match="already revoked"):
        consents.consent_revoke(access=built["access_a"], consent=built["consent"])


def test_expiry_by_date(world):
    built = f.client_world(world)
    b_user = staff_of(world, world.second_organization)
    access_b = access_of(world, b_user, world.second_organization)
    assert selectors.may_see(access_b, built["person"])
    Consent.objects.filter(pk=built["consent"].pk).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert not selectors.may_see(access_b, built["person"])
    assert selectors.consent_allows(built["person"], world.second_organization.pk) is None
    # As of a day before it expired, it was in force.
    two_days_ago = timezone.localdate() - datetime.timedelta(days=2)
    Consent.objects.filter(pk=built["consent"].pk).update(
        signed_at=timezone.now() - datetime.timedelta(days=10)
    )
    assert selectors.consent_allows(built["person"], world.second_organization.pk, on=two_days_ago)


def test_expiry_by_event_marked_on_the_page(world, client_for):
    built = f.client_world(world, consent_to_second=False)
    consent = consents.consent_record(
        access=built["access_a"],
        person=built["person"],
        **valid(
            recipients="named",
            recipient_organizations=[world.second_organization],
            expires_on=None,
            expiry_event="When the tutoring referral is closed",
        ),
    )
    b_user = staff_of(world, world.second_organization)
    access_b = access_of(world, b_user, world.second_organization)
    assert selectors.may_see(access_b, built["person"])
    client = client_for("org_admin")
    url = reverse("referrals:consent-event", args=[world.network.slug, consent.pk])
    assert "When the tutoring referral is closed" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    consent.refresh_from_db()
    assert consent.expired_by_event_at is not None
    assert not consent.is_active()
    assert not selectors.may_see(access_b, built["person"])
    # A second time: refused with a message.
    again = client.post(url)
    assert again.status_code == 400 and "already ended" in again.content.decode()


def test_a_date_only_consent_has_no_event_to_mark(world, client_for):
    built = f.client_world(world)
    url = reverse("referrals:consent-event", args=[world.network.slug, built["consent"].pk])
    response = client_for("org_admin").post(url)
    assert response.status_code == 400
    assert "no expiry event" in response.content.decode()
    built["consent"].refresh_from_db()
    assert built["consent"].expired_by_event_at is None


def test_treating_consent_covers_organizations_with_a_care_relationship(world):
    built = f.client_world(world, consent_to_second=False)
    consents.consent_record(
        access=built["access_a"], person=built["person"], **valid(recipients="treating")
    )
    b_user = staff_of(world, world.second_organization)
    access_b = access_of(world, b_user, world.second_organization)
    assert not selectors.may_see(access_b, built["person"])
    from backbone.referrals.models import CareRelationship

    CareRelationship.objects.create(
        network=world.network,
        person=built["person"],
        organization=world.second_organization,
        source="referral",
    )
    assert selectors.may_see(access_b, built["person"])
    CareRelationship.objects.filter(organization=world.second_organization).update(
        ended_on=timezone.localdate()
    )
    assert not selectors.may_see(access_b, built["person"])


def test_consent_form_records_all_elements(world, client_for):
    built = f.client_world(world, consent_to_second=False)
    client = client_for("org_admin")
    url = reverse("referrals:consent-add", args=[world.network.slug, built["person"].pk])
    page = client.get(url).content.decode()
    for label in ("To whom", "What information", "Purpose", "Expires on", "Signed or given by"):
        assert label in page
    data = {
        "recipients": "named",
        "recipient_organizations": [world.second_organization.pk],
        "information": ["identity", "notes"],
        "purpose": "referral",
        "expiry_event": "When she turns 18",
        "signature": "verbal",
        "signed_by": "Her mother, Rosa Quintero",
        "told_of_right_to_revoke": "on",
    }
    assert client.post(url, data).status_code == 302
    consent = Consent.objects.get(person=built["person"])
    assert consent.signature == "verbal" and consent.expiry_event == "When she turns 18"
    assert consent.recorded_by == world.users["org_admin"]


def test_consent_form_refuses_without_expiry_or_revocation_notice(world, client_for):
    built = f.client_world(world, consent_to_second=False)
    client = client_for("org_admin")
    url = reverse("referrals:consent-add", args=[world.network.slug, built["person"].pk])
    data = {
        "recipients": "treating",
        "information": ["identity"],
        "purpose": "referral",
        "signature": "electronic",
        "signed_by": "Maria Quintero",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "told_of_right_to_revoke" in response.context["form"].errors
    response = client.post(url, {**data, "told_of_right_to_revoke": "on"})
    assert response.status_code == 400
    assert "expiry date or an expiry event" in response.content.decode()
    assert not Consent.objects.exists()
