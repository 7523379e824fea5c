"""A person refers themselves from the public directory: a person record, an electronic
consent naming the receiving organization, and a referral with no sender; nothing is
written without the signature, and nothing reveals who is already recorded."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from backbone.directory.models import DirectoryOrganization, Service
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Notification,
    Person,
    Referral,
    ReferralSettings,
)
from backbone.referrals.tests.workflow_world import FAMILY, GIVEN, cast_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

FORM = {
    "given_name": "Rosa",
    "family_name": "Delgado",
    "birth_date": "1990-02-14",
    "phone": "555-0199",
    "email": "",
    "preferred_language": "es",
    "consent_signed": "on",
    "signed_by": "Rosa Delgado",
}


@pytest.fixture
def public(cast):
    cast.network.is_public = True
    cast.network.save()
    return cast


def url(cast, service=None):
    return reverse(
        "referrals:self-referral", args=[cast.network.slug, (service or cast.service_b).pk]
    )


def counts():
    return (Person.objects.count(), Consent.objects.count(), Referral.objects.count())


def test_happy_path(public, django_capture_on_commit_callbacks):
    page = Client().get(url(public))
    body = page.content.decode()
    assert page.status_code == 200
    # every §2.31 element is on the page
    for element in (
        "What information",
        "Who may share it",
        "With whom",
        "Why",
        "Until when",
        "Your right to revoke",
        "Signature and date",
        public.b.name,
    ):
        assert element in body
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(url(public), FORM)
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    referral = Referral.objects.get()
    person, consent = referral.person, referral.consent
    assert person.display_name == "Rosa Delgado" and person.phone == "555-0199"
    assert referral.from_organization is None and referral.to_organization == public.b
    assert referral.status == "sent" and referral.created_by is None
    assert consent.disclosing_organization == public.b
    assert consent.recipients == "named"
    assert list(consent.recipient_organizations.all()) == [public.b]
    assert consent.signature == "electronic" and consent.signed_by == "Rosa Delgado"
    assert consent.is_active() and "identity" in consent.information
    assert CareRelationship.objects.filter(person=person, organization=public.b).exists()
    notified = Notification.objects.filter(referral=referral)
    assert {n.user for n in notified} == {public.b_admin, public.b_member}
    assert all("Rosa" not in n.text and "Delgado" not in n.text for n in notified)
    done = Client().get(response["Location"])
    assert done.status_code == 200 and "Your request was sent" in done.content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"consent_signed": ""}, "tick the consent box and type your full name"),
        ({"signed_by": "  "}, "tick the consent box and type your full name"),
        ({"phone": "", "email": ""}, "Give a phone number or an email address"),
    ],
)
def test_missing_signature_or_contact_writes_nothing(public, change, message):
    before = counts()
    response = Client().post(url(public), {**FORM, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before


def test_bad_fields_are_refused(public):
    before = counts()
    response = Client().post(url(public), {**FORM, "birth_date": "2999-01-01", "given_name": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in body
    assert counts() == before


def test_future_birth_date_is_refused_by_the_person_rules(public):
    before = counts()
    response = Client().post(url(public), {**FORM, "birth_date": "2999-01-01"})
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert counts() == before


def test_an_existing_person_is_not_revealed(public):
    """The same answer for someone already recorded (the cast's person) as for a stranger."""

    def answer(given, family):
        response = Client().post(
            url(public), {**FORM, "given_name": given, "family_name": family, "signed_by": given}
        )
        location = response["Location"]
        page = Client().get(location).content.decode()
        return response.status_code, location, re.sub(r"[A-Za-z0-9]{64}", "TOKEN", page)

    assert answer(GIVEN, FAMILY) == answer("Zed", "Stranger")
    assert Person.objects.count() == 3  # a new record each time; duplicates are merged later


def test_csrf_is_required(public):
    before = counts()
    response = Client(enforce_csrf_checks=True).post(url(public), FORM)
    assert response.status_code == 403
    assert counts() == before


def test_rate_limited(public):
    visitor = Client()
    for _ in range(5):
        assert visitor.post(url(public), FORM).status_code == 302
    blocked = visitor.post(url(public), FORM)
    assert blocked.status_code == 429
    assert Referral.objects.count() == 5


def test_self_referrals_switched_off_is_404(public):
    ReferralSettings.objects.create(network=public.network, allow_self_referrals=False)
    assert Client().get(url(public)).status_code == 404
    assert Client().post(url(public), FORM).status_code == 404
    assert counts()[2] == 0


def test_service_without_a_partner_is_404(public):
    listing = DirectoryOrganization.objects.create(
        network=public.network, hsds_id="6f1b9b4e-0000-4000-8000-000000000001", name="Unlinked"
    )
    service = Service.objects.create(
        network=public.network,
        hsds_id="6f1b9b4e-0000-4000-8000-000000000002",
        organization=listing,
        name="Food pantry",
    )
    assert Client().get(url(public, service)).status_code == 404


def test_private_network_sends_the_public_to_sign_in(cast):
    response = Client().get(url(cast))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().post(url(cast), FORM).status_code == 302
    assert counts()[2] == 0


def test_a_service_of_another_network_is_404(public):
    """The outsider belongs to the other network: this network's service is not there."""
    other = Client()
    other.force_login(public.world.outsider)
    slug_url = reverse(
        "referrals:self-referral", args=[public.world.other_network.slug, public.service_b.pk]
    )
    assert other.get(slug_url).status_code == 404
    assert other.post(slug_url, FORM).status_code == 404
    assert counts()[2] == 0


def test_directory_service_page_links_to_the_form(public):
    page = Client().get(
        reverse("directory:service-detail", args=[public.network.slug, public.service_b.hsds_id])
    )
    assert page.status_code == 200
    assert url(public) in page.content.decode()
    ReferralSettings.objects.create(network=public.network, allow_self_referrals=False)
    page = Client().get(
        reverse("directory:service-detail", args=[public.network.slug, public.service_b.hsds_id])
    )
    assert url(public) not in page.content.decode()
