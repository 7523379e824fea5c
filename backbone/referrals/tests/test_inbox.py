"""The referral pages: inbox, detail, actions, messages, new referral, notifications and
settings, seen by the sender, the receiver, a third organization, the backbone, the
public and the other network."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backbone.referrals import workflow
from backbone.referrals.consents import consent_revoke
from backbone.referrals.models import (
    Notification,
    PersonAccess,
    Referral,
    ReferralMessage,
    ReferralSettings,
)
from backbone.referrals.tests.workflow_world import FAMILY, GIVEN, cast_fixture, record_person  # noqa: F401

pytestmark = pytest.mark.django_db
NAME = f"{GIVEN} {FAMILY}"


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def url(cast, name, *args):
    return reverse(f"referrals:{name}", args=[cast.network.slug, *args])


def send(cast, **kwargs):
    values = {
        "access": cast.access(cast.a_admin),
        "person": cast.person,
        "service": cast.service_b,
        "consent": cast.consent,
        "reason": "Needs help with algebra.",
    }
    values.update(kwargs)
    return workflow.referral_send(**values)


@pytest.fixture
def referral(cast):
    return send(cast)


# --- the inbox --------------------------------------------------------------------------


def test_receiver_sees_the_name_and_the_read_is_logged(cast, referral):
    response = client(cast.b_member).get(url(cast, "inbox"))
    assert response.status_code == 200
    assert NAME in response.content.decode()
    assert "Algebra tutoring" in response.content.decode()
    read = PersonAccess.objects.get(person=cast.person)
    assert (read.user, read.organization, read.route) == (cast.b_member, cast.b, "referrals:inbox")


def test_sender_sees_it_in_the_sent_tab_not_in_received(cast, referral):
    sent = client(cast.a_member).get(url(cast, "inbox") + "?tab=sent").content.decode()
    received = client(cast.a_member).get(url(cast, "inbox")).content.decode()
    assert NAME in sent and f"Referral {referral.pk}" in sent
    assert f"Referral {referral.pk}<" not in received and "No referrals here." in received


def test_third_organization_sees_nothing(cast, referral):
    for tab in ("received", "sent", "overdue"):
        body = client(cast.c_admin).get(url(cast, "inbox") + f"?tab={tab}").content.decode()
        assert NAME not in body and "No referrals here." in body
    assert client(cast.c_admin).get(url(cast, "referral-detail", referral.pk)).status_code == 404
    assert PersonAccess.objects.count() == 0


def test_network_admin_sees_no_referral_and_no_identity(cast, referral):
    admin = client(cast.world.users["network_admin"])
    inbox = admin.get(url(cast, "inbox"))
    assert inbox.status_code == 200 and inbox.context["rows"] == []
    assert NAME not in inbox.content.decode()
    assert admin.get(url(cast, "referral-detail", referral.pk)).status_code == 404
    assert PersonAccess.objects.count() == 0


@pytest.mark.parametrize("role", ["funder", "viewer"])
def test_roles_without_an_organization_are_refused(cast, referral, role):
    user = cast.world.users[role]
    for name, args in (("inbox", ()), ("referral-detail", (referral.pk,))):
        response = client(user).get(url(cast, name, *args))
        assert response.status_code == 403
        assert NAME not in response.content.decode()
    assert PersonAccess.objects.count() == 0


def test_public_and_the_other_network(cast, referral):
    for name, args in (("inbox", ()), ("referral-detail", (referral.pk,))):
        anonymous = client().get(url(cast, name, *args))
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        assert client(cast.world.outsider).get(url(cast, name, *args)).status_code == 404


def test_public_of_a_public_network_gets_404(cast, referral):
    cast.network.is_public = True
    cast.network.save()
    assert client().get(url(cast, "inbox")).status_code in (302, 404)
    assert client().get(url(cast, "referral-detail", referral.pk)).status_code in (302, 404)


def test_revoked_consent_hides_the_name_on_the_next_request(cast, referral):
    assert NAME in client(cast.b_admin).get(url(cast, "inbox")).content.decode()
    consent_revoke(access=cast.access(cast.a_admin), consent=cast.consent, note="Withdrawn.")
    inbox = client(cast.b_admin).get(url(cast, "inbox")).content.decode()
    assert NAME not in inbox
    assert f"Person {cast.person.pk} (no consent to show identity)" in inbox
    detail = client(cast.b_admin).get(url(cast, "referral-detail", referral.pk)).content.decode()
    assert NAME not in detail and "no consent to show identity" in detail
    assert "Needs help with algebra" not in detail
    # the sender holds the record itself and still sees the person
    assert NAME in client(cast.a_admin).get(url(cast, "inbox") + "?tab=sent").content.decode()


def test_inbox_pages_with_a_cursor_and_filters_by_status(cast):
    referrals = [send(cast) for _ in range(30)]
    base = timezone.now() - datetime.timedelta(days=40)
    for number, r in enumerate(referrals):
        sent_at = base + datetime.timedelta(hours=number)
        Referral.objects.filter(pk=r.pk).update(
            sent_at=sent_at, respond_by=workflow.add_business_days(sent_at, 3)
        )
    workflow.referral_accept(access=cast.access(cast.b_admin), referral=referrals[0])
    first = client(cast.b_admin).get(url(cast, "inbox"))
    rows = first.context["rows"]
    assert [row["pk"] for row in rows] == [r.pk for r in referrals[::-1][:25]]
    cursor = first.context["cursor"]
    assert cursor
    second = client(cast.b_admin).get(url(cast, "inbox"), {"after": cursor})
    assert [row["pk"] for row in second.context["rows"]] == [r.pk for r in referrals[4::-1]]
    assert second.context["cursor"] == ""
    accepted = client(cast.b_admin).get(url(cast, "inbox"), {"status": "accepted"})
    assert [row["pk"] for row in accepted.context["rows"]] == [referrals[0].pk]
    # all 29 still "sent" are past the 3 business days: the overdue tab, oldest first
    overdue = client(cast.b_admin).get(url(cast, "inbox"), {"tab": "overdue"})
    assert [row["pk"] for row in overdue.context["rows"]] == [r.pk for r in referrals[1:26]]
    assert overdue.context["overdue_count"] == 29


def test_a_bad_cursor_or_status_falls_back_to_the_first_page(cast, referral):
    response = client(cast.b_admin).get(url(cast, "inbox"), {"after": "x", "status": "nope"})
    assert response.status_code == 200
    assert [row["pk"] for row in response.context["rows"]] == [referral.pk]


def test_inbox_queries_do_not_grow_with_the_page(cast, django_assert_max_num_queries):
    for _ in range(25):
        send(cast)
    b = client(cast.b_admin)
    # session, user, 2 account checks, network, role; the page (one statement for the
    # status scans, the referrals, their service and organizations); the acting
    # organizations and the visible names; the read log (savepoint, insert, release);
    # the overdue count: the same for 1 row or 25
    with django_assert_max_num_queries(14):
        response = b.get(url(cast, "inbox"))
    assert len(response.context["rows"]) == 25


# --- the detail page and its actions ----------------------------------------------------


def test_detail_for_the_receiver_shows_name_timeline_and_actions(cast, referral):
    response = client(cast.b_admin).get(url(cast, "referral-detail", referral.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert NAME in body and "Needs help with algebra" in body
    assert [a for a, _ in response.context["actions"]] == ["accept", "decline", "forward"]
    assert PersonAccess.objects.filter(
        person=cast.person, user=cast.b_admin, route="referrals:referral-detail"
    ).exists()


def test_detail_for_the_sender_offers_only_cancel(cast, referral):
    response = client(cast.a_member).get(url(cast, "referral-detail", referral.pk))
    assert [a for a, _ in response.context["actions"]] == ["close"]


def test_receiver_accepts_then_completes_through_the_page(
    cast, referral, django_capture_on_commit_callbacks
):
    b = client(cast.b_member)
    with django_capture_on_commit_callbacks(execute=True):
        for data in ({"action": "accept"}, {"action": "start"}):
            response = b.post(url(cast, "referral-update", referral.pk), data)
            assert response.status_code == 302
        b.post(
            url(cast, "referral-update", referral.pk),
            {"action": "complete", "outcome": "goal_met", "note": "Passed algebra."},
        )
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("completed", "goal_met")
    assert Notification.objects.filter(user=cast.a_admin, kind="updated").count() == 3


def test_invalid_transition_through_the_page_says_why(cast, referral):
    workflow.referral_decline(
        access=cast.access(cast.b_admin), referral=referral, reason="no_capacity"
    )
    response = client(cast.b_admin).post(
        url(cast, "referral-update", referral.pk), {"action": "complete", "outcome": "goal_met"}
    )
    assert response.status_code == 400
    assert (
        "This referral is declined; it cannot be completed. Allowed: none."
        in response.content.decode()
    )
    referral.refresh_from_db()
    assert referral.status == "declined" and referral.outcome == ""


def test_decline_without_reason_is_refused_on_the_page(cast, referral):
    response = client(cast.b_admin).post(
        url(cast, "referral-update", referral.pk), {"action": "decline"}
    )
    assert response.status_code == 400
    assert "Choose why the referral is declined" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "sent"


def test_forward_through_the_page(cast, referral):
    response = client(cast.b_admin).post(
        url(cast, "referral-update", referral.pk),
        {"action": "forward", "service": cast.service_c.pk, "note": "Job coaching fits."},
    )
    assert response.status_code == 302
    new = Referral.objects.get(forwarded_from=referral)
    assert new.to_organization == cast.c and new.from_organization == cast.b


def test_third_organization_cannot_post_actions_or_messages(cast, referral):
    c = client(cast.c_admin)
    assert c.post(url(cast, "referral-update", referral.pk), {"action": "accept"}).status_code == (
        404
    )
    assert c.post(url(cast, "referral-message", referral.pk), {"body": "hi"}).status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == "sent"
    assert ReferralMessage.objects.count() == 0


def test_messages_on_the_page(cast, referral, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client(cast.b_admin).post(
            url(cast, "referral-message", referral.pk), {"body": "Can she come Tuesday?"}
        )
    assert response.status_code == 302
    detail = client(cast.a_admin).get(url(cast, "referral-detail", referral.pk)).content.decode()
    assert "Can she come Tuesday?" in detail
    empty = client(cast.b_admin).post(url(cast, "referral-message", referral.pk), {"body": ""})
    assert empty.status_code == 400 and "Write a message" in empty.content.decode()
    assert ReferralMessage.objects.count() == 1
    assert Notification.objects.filter(kind="message", user=cast.a_admin).count() == 1


# --- a new referral ---------------------------------------------------------------------


def test_new_referral_form_sends(cast):
    a = client(cast.a_admin)
    chooser = a.get(url(cast, "referral-add"))
    assert chooser.status_code == 200 and NAME in chooser.content.decode()
    form = a.get(url(cast, "referral-add"), {"person": cast.person.pk})
    assert form.status_code == 200 and "Algebra tutoring" in form.content.decode()
    assert "Family advocacy" not in form.content.decode()  # not to your own service
    response = a.post(
        url(cast, "referral-add"),
        {
            "person": cast.person.pk,
            "service": cast.service_b.pk,
            "consent": cast.consent.pk,
            "reason": "Algebra.",
        },
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(cast, "referral-detail", referral.pk)
    assert referral.to_organization == cast.b


def test_new_referral_with_a_consent_not_naming_the_receiver_is_refused(cast):
    person, consent = record_person(cast.access(cast.a_admin), given="Ana", recipients=[cast.c])
    response = client(cast.a_admin).post(
        url(cast, "referral-add"),
        {"person": person.pk, "service": cast.service_b.pk, "consent": consent.pk},
    )
    assert response.status_code == 400
    assert f"does not allow {cast.b.name} to see" in response.content.decode()
    assert Referral.objects.count() == 0


def test_new_referral_for_a_person_you_cannot_see_is_404(cast):
    person, _ = record_person(cast.access(cast.a_admin), given="Ana", recipients=[cast.b])
    response = client(cast.c_admin).get(url(cast, "referral-add"), {"person": person.pk})
    assert response.status_code == 404
    assert client(cast.world.users["network_admin"]).get(url(cast, "referral-add")).status_code == (
        403
    )


# --- notifications and settings ---------------------------------------------------------


def test_notifications_page_lists_and_marks_read(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        referral = send(cast)
    b = client(cast.b_member)
    page = b.get(url(cast, "notifications"))
    assert page.status_code == 200
    body = page.content.decode()
    assert f"referral {referral.pk} to Algebra tutoring" in body and NAME not in body
    mine = Notification.objects.get(user=cast.b_member)
    assert b.post(url(cast, "notifications"), {"id": mine.pk}).status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    # someone else's notification is not theirs to mark
    other = Notification.objects.get(user=cast.b_admin)
    b.post(url(cast, "notifications"), {"id": other.pk})
    other.refresh_from_db()
    assert other.read_at is None
    assert client().get(url(cast, "notifications")).status_code == 302
    assert client(cast.world.outsider).get(url(cast, "notifications")).status_code == 404


def test_settings_page_for_network_admins(cast):
    admin = client(cast.world.users["network_admin"])
    assert admin.get(url(cast, "settings")).status_code == 200
    response = admin.post(
        url(cast, "settings"),
        {"response_business_days": 5, "escalate_to": cast.b_admin.pk},
    )
    assert response.status_code == 302
    saved = ReferralSettings.objects.get(network=cast.network)
    assert (saved.response_business_days, saved.escalate_to, saved.allow_self_referrals) == (
        5,
        cast.b_admin,
        False,
    )


def test_settings_refuse_bad_input_and_other_roles(cast):
    admin = client(cast.world.users["network_admin"])
    response = admin.post(url(cast, "settings"), {"response_business_days": 0})
    assert response.status_code == 400
    assert not ReferralSettings.objects.exists()
    assert client(cast.a_admin).get(url(cast, "settings")).status_code == 403
    assert client(cast.world.outsider).get(url(cast, "settings")).status_code == 404


def test_visible_among_agrees_with_visible_people(cast, referral):
    """The inbox's per-page visibility check gives the selector's answer in each case:
    held, named, treating through an open referral, revoked, and a stranger's record."""
    from backbone.referrals.consents import consent_record
    from backbone.referrals.selectors import visible_among, visible_people

    a = cast.access(cast.a_admin)
    named_c, _ = record_person(a, given="Ana", recipients=[cast.c])
    treating, _ = record_person(a, given="Teo", recipients=[cast.c])
    consent_record(
        access=a,
        person=treating,
        recipients="treating",
        information=["identity", "referrals"],
        purpose="referral",
        expires_on=timezone.localdate() + datetime.timedelta(days=30),
        signature="verbal",
        signed_by="Teo",
    )
    send(cast, person=treating, consent=treating.consents.get(recipients="treating"))
    revoked, revoked_consent = record_person(a, given="Rui", recipients=[cast.b])
    consent_revoke(access=a, consent=revoked_consent)
    everyone = [cast.person.pk, named_c.pk, treating.pk, revoked.pk]
    for user in (cast.a_admin, cast.b_admin, cast.c_admin, cast.world.users["network_admin"]):
        access = cast.access(user)
        for information in ("identity", "notes"):
            expected = set(
                visible_people(access, information)
                .filter(pk__in=everyone)
                .values_list("pk", flat=True)
            )
            assert visible_among(access, everyone, information) == expected, (user, information)
    assert visible_among(cast.access(cast.b_admin), everyone) == {cast.person.pk, treating.pk}


def test_visible_among_agrees_on_expiry_care_relationships_and_merged_records(cast):
    """More cases of the per-page check against the selector: an expired consent, a
    treating consent honoured through an open care relationship (and not once it
    ended), a merged record, notes not covered by the consent, and no ids at all."""
    from backbone.referrals.models import CareRelationship, Consent, Person
    from backbone.referrals.selectors import visible_among, visible_names_among, visible_people

    a = cast.access(cast.a_admin)
    expired, expired_consent = record_person(a, given="Eve", recipients=[cast.b])
    Consent.objects.filter(pk=expired_consent.pk).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    cared, cared_consent = record_person(a, given="Cal", recipients=[cast.c])
    Consent.objects.filter(pk=cared_consent.pk).update(recipients="treating")
    CareRelationship.objects.create(
        network=cast.network, person=cared, organization=cast.b, source="referral"
    )
    ended, ended_consent = record_person(a, given="End", recipients=[cast.c])
    Consent.objects.filter(pk=ended_consent.pk).update(recipients="treating")
    CareRelationship.objects.create(
        network=cast.network,
        person=ended,
        organization=cast.b,
        source="referral",
        ended_on=timezone.localdate(),
    )
    merged, _ = record_person(a, given="Mo", recipients=[cast.b])
    Person.objects.filter(pk=merged.pk).update(merged_into=cast.person)
    identity_only, _ = record_person(a, given="Ida", recipients=[cast.b], information=["identity"])
    everyone = [cast.person.pk, expired.pk, cared.pk, ended.pk, merged.pk, identity_only.pk]
    for user in (cast.a_admin, cast.b_admin, cast.c_admin):
        access = cast.access(user)
        for information in ("identity", "notes"):
            expected = set(
                visible_people(access, information)
                .filter(pk__in=everyone)
                .values_list("pk", flat=True)
            )
            assert visible_among(access, everyone, information) == expected, (user, information)
    b = cast.access(cast.b_admin)
    assert visible_among(b, everyone) == {cast.person.pk, cared.pk, identity_only.pk}
    assert visible_among(b, everyone, "notes") == {cast.person.pk, cared.pk}
    assert visible_names_among(b, everyone) == {
        cast.person.pk: NAME,
        cared.pk: f"Cal {FAMILY}",
        identity_only.pk: f"Ida {FAMILY}",
    }
    assert visible_among(b, []) == set() and visible_names_among(b, []) == {}
    with pytest.raises(ValueError, match="Unknown kind of information"):
        visible_among(b, everyone, "shoe size")
