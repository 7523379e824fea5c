"""The referral state machine: sending, every allowed and refused transition, forwarding,
messages, notifications (never a name) and the audit log (never identity)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backbone.core.models import AuditEvent
from backbone.referrals import workflow
from backbone.referrals.consents import consent_revoke
from backbone.referrals.models import (
    CareRelationship,
    Notification,
    Referral,
    ReferralEvent,
    ReferralMessage,
    ReferralSettings,
)
from backbone.referrals.tests.workflow_world import FAMILY, GIVEN, cast_fixture, record_person  # noqa: F401
from backbone.referrals.workflow import ReferralError

pytestmark = pytest.mark.django_db
TZ = datetime.UTC


def send(cast, **kwargs):
    values = {
        "access": cast.access(cast.a_admin),
        "person": cast.person,
        "service": cast.service_b,
        "consent": cast.consent,
        "reason": f"{GIVEN} needs help with algebra.",
    }
    values.update(kwargs)
    return workflow.referral_send(**values)


def act(cast, referral, action, user=None, **kwargs):
    """Run ACTION as USER (the receiver's admin by default) with the inputs it needs."""
    access = cast.access(user or cast.b_admin)
    defaults = {
        "decline": {"reason": "no_capacity"},
        "complete": {"outcome": "goal_met"},
        "close": {"note": "The family moved away."},
        "forward": {"service": cast.service_c},
    }
    values = {**defaults.get(action, {}), **kwargs}
    return workflow.ACTION_SERVICES[action](access=access, referral=referral, **values)


# --- sending --------------------------------------------------------------------------


def test_send_creates_the_referral_event_and_notifies_the_receiver(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = send(cast)
    assert referral.status == "sent"
    assert referral.from_organization == cast.a and referral.to_organization == cast.b
    assert referral.respond_by == workflow.add_business_days(referral.sent_at, 3)
    assert list(referral.events.values_list("from_status", "to_status")) == [("", "sent")]
    notified = Notification.objects.filter(referral=referral)
    assert {n.user for n in notified} == {cast.b_admin, cast.b_member}
    assert all(n.kind == "received" for n in notified)
    assert all(GIVEN not in n.text and FAMILY not in n.text for n in notified)
    assert "Algebra tutoring" in notified[0].text


def test_notifications_wait_for_the_commit(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(cast)
    assert Notification.objects.count() == 0
    assert len(callbacks) == 2  # the notifications, and queueing the measurement feed


def test_send_refuses_a_revoked_consent_and_writes_nothing(cast):
    consent_revoke(access=cast.access(cast.a_admin), consent=cast.consent, note="Asked to stop.")
    cast.consent.refresh_from_db()
    with pytest.raises(ReferralError, match="no longer in force"):
        send(cast)
    assert Referral.objects.count() == 0 and ReferralEvent.objects.count() == 0


def test_send_refuses_a_consent_that_does_not_name_the_receiver(cast):
    person, consent = record_person(cast.access(cast.a_admin), given="Ana", recipients=[cast.c])
    with pytest.raises(ReferralError, match=f"does not allow {cast.b.name} to see"):
        send(cast, person=person, consent=consent)
    assert Referral.objects.count() == 0


def test_send_refuses_a_consent_without_referrals_information(cast):
    person, consent = record_person(
        cast.access(cast.a_admin), given="Ana", recipients=[cast.b], information=["identity"]
    )
    with pytest.raises(ReferralError, match="see the person's referrals"):
        send(cast, person=person, consent=consent)


def test_send_refuses_another_persons_consent(cast):
    other, _ = record_person(cast.access(cast.a_admin), given="Ana", recipients=[cast.b])
    with pytest.raises(ReferralError, match="Choose a consent given by this person"):
        send(cast, person=other)


def test_send_to_your_own_service_is_refused(cast):
    with pytest.raises(ReferralError, match="does not refer to itself"):
        send(cast, service=cast.service_a)


def test_an_organization_that_cannot_see_the_person_cannot_refer_them(cast):
    person, consent = record_person(cast.access(cast.a_admin), given="Ana", recipients=[cast.b])
    with pytest.raises(ReferralError, match="may not see this person"):
        send(cast, access=cast.access(cast.c_admin), person=person, consent=consent)
    assert Referral.objects.count() == 0


@pytest.mark.parametrize("role", ["network_admin", "funder", "viewer"])
def test_roles_without_an_organization_cannot_send(cast, role):
    with pytest.raises(PermissionDenied):
        send(cast, access=cast.access(cast.world.users[role]))


# --- business days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "days", "due"),
    [
        (datetime.datetime(2026, 3, 6, 10, tzinfo=TZ), 3, datetime.date(2026, 3, 11)),  # Fri
        (datetime.datetime(2026, 3, 7, 10, tzinfo=TZ), 3, datetime.date(2026, 3, 11)),  # Sat
        (datetime.datetime(2026, 3, 2, 10, tzinfo=TZ), 3, datetime.date(2026, 3, 5)),  # Mon
        (datetime.datetime(2026, 3, 6, 10, tzinfo=TZ), 1, datetime.date(2026, 3, 9)),
        (datetime.datetime(2026, 3, 2, 10, tzinfo=TZ), 10, datetime.date(2026, 3, 16)),
    ],
)
def test_business_days_skip_weekends(sent, days, due):
    result = workflow.add_business_days(sent, days)
    assert result.date() == due and result.hour == 10


def test_respond_by_follows_the_network_setting(cast):
    ReferralSettings.objects.create(network=cast.network, response_business_days=1)
    referral = send(cast)
    assert referral.respond_by == workflow.add_business_days(referral.sent_at, 1)


# --- every allowed transition ---------------------------------------------------------

PATHS = {
    "accept": (["accept"], "accepted"),
    "decline": (["decline"], "declined"),
    "start": (["accept", "start"], "in_service"),
    "complete": (["accept", "start", "complete"], "completed"),
    "close accepted": (["accept", "close"], "closed"),
    "close in service": (["accept", "start", "close"], "closed"),
    "forward sent": (["forward"], "forwarded"),
    "forward accepted": (["accept", "forward"], "forwarded"),
    "forward in service": (["accept", "start", "forward"], "forwarded"),
}


@pytest.mark.parametrize("path", PATHS)
def test_every_allowed_transition(cast, path, django_capture_on_commit_callbacks):
    actions, final = PATHS[path]
    referral = send(cast)
    with django_capture_on_commit_callbacks(execute=True):
        for action in actions:
            act(cast, referral, action)
    referral.refresh_from_db()
    assert referral.status == final
    steps = list(referral.events.values_list("to_status", flat=True))
    assert len(steps) == len(actions) + 1 and steps[-1] == final
    assert referral.responded_at is not None
    if final in workflow.FINAL_STATUSES:
        assert referral.closed_at is not None
    # The sender's staff hear of every change; the receiver's staff not of their own.
    updates = Notification.objects.filter(referral=referral, kind="updated")
    assert {n.user for n in updates} == {cast.a_admin, cast.a_member}
    assert updates.count() == 2 * len(actions)


def test_the_sender_may_cancel_a_referral_still_sent(cast, django_capture_on_commit_callbacks):
    referral = send(cast)
    with django_capture_on_commit_callbacks(execute=True):
        act(cast, referral, "close", user=cast.a_member, note="Sent by mistake.")
    referral.refresh_from_db()
    assert referral.status == "closed"
    event = referral.events.last()
    assert event.organization == cast.a and event.note == "Sent by mistake."
    # the receiver is told
    assert set(Notification.objects.filter(kind="updated").values_list("user", flat=True)) == {
        cast.b_admin.pk,
        cast.b_member.pk,
    }


def test_accept_starts_a_care_relationship_for_the_receiver(cast):
    referral = send(cast)
    act(cast, referral, "accept")
    relationship = CareRelationship.objects.get(person=cast.person, organization=cast.b)
    assert relationship.source == "referral" and relationship.ended_on is None


def test_accept_keeps_an_existing_care_relationship(cast):
    CareRelationship.objects.create(
        network=cast.network, person=cast.person, organization=cast.b, source="recorded"
    )
    act(cast, send(cast), "accept")
    assert CareRelationship.objects.get(person=cast.person, organization=cast.b).source == (
        "recorded"
    )


def test_decline_and_complete_store_the_reason_and_outcome(cast):
    declined = act(cast, send(cast), "decline", reason="other", note="Outside our area.")
    assert declined.decline_reason == "other"
    second = send(cast)
    for action in ("accept", "start"):
        act(cast, second, action)
    completed = act(cast, second, "complete", outcome="service_received")
    assert completed.outcome == "service_received"


def test_forward_sends_a_new_referral_linked_to_the_old(cast, django_capture_on_commit_callbacks):
    referral = send(cast)
    with django_capture_on_commit_callbacks(execute=True):
        new = act(cast, referral, "forward", note="Better fit for job coaching.")
    referral.refresh_from_db()
    assert referral.status == "forwarded"
    assert new.forwarded_from == referral and new.status == "sent"
    assert new.from_organization == cast.b and new.to_organization == cast.c
    assert Notification.objects.filter(referral=new, user=cast.c_admin, kind="received").exists()


# --- refused inputs and transitions ----------------------------------------------------


@pytest.mark.parametrize(
    ("action", "kwargs", "message"),
    [
        ("decline", {"reason": ""}, "Choose why the referral is declined"),
        ("decline", {"reason": "other", "note": " "}, "Say why in the note"),
        ("close", {"note": ""}, "Say in a note why"),
        ("forward", {"service": None}, "not linked to a partner organization"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(cast, action, kwargs, message):
    referral = send(cast)
    if action == "close":
        act(cast, referral, "accept")
    before = (Referral.objects.get(pk=referral.pk).status, ReferralEvent.objects.count())
    with pytest.raises(ReferralError, match=message):
        act(cast, referral, action, **kwargs)
    after = (Referral.objects.get(pk=referral.pk).status, ReferralEvent.objects.count())
    assert before == after
    assert Referral.objects.count() == 1


def test_complete_needs_an_outcome(cast):
    referral = send(cast)
    act(cast, referral, "accept")
    act(cast, referral, "start")
    with pytest.raises(ReferralError, match="Choose the outcome"):
        act(cast, referral, "complete", outcome="")
    assert Referral.objects.get(pk=referral.pk).status == "in_service"


def test_forward_with_a_consent_not_covering_the_new_receiver_changes_nothing(cast):
    person, consent = record_person(cast.access(cast.a_admin), given="Ana", recipients=[cast.b])
    referral = send(cast, person=person, consent=consent)
    with pytest.raises(ReferralError, match=f"does not allow {cast.c.name}"):
        act(cast, referral, "forward")
    assert Referral.objects.get(pk=referral.pk).status == "sent"
    assert Referral.objects.count() == 1


def test_forward_to_the_forwarders_own_service_is_refused(cast):
    with pytest.raises(ReferralError, match="does not refer to itself"):
        act(cast, send(cast), "forward", service=cast.service_b)


def test_declined_referral_cannot_be_completed_with_a_clear_message(cast):
    referral = act(cast, send(cast), "decline")
    with pytest.raises(ReferralError) as refused:
        act(cast, referral, "complete")
    assert str(refused.value) == "This referral is declined; it cannot be completed. Allowed: none."


def test_the_sender_cannot_accept(cast):
    referral = send(cast)
    with pytest.raises(ReferralError) as refused:
        act(cast, referral, "accept", user=cast.a_admin)
    assert str(refused.value) == (
        "Only the receiving organization may accept this referral while it is sent. "
        "Allowed for your organization: close."
    )


def test_the_receiver_cannot_cancel_before_answering(cast):
    referral = send(cast)
    with pytest.raises(ReferralError) as refused:
        act(cast, referral, "close")
    assert str(refused.value) == (
        "Only the sending organization may close this referral while it is sent. "
        "Allowed for your organization: accept, decline, forward."
    )


def test_a_third_organization_cannot_act(cast):
    referral = send(cast)
    with pytest.raises(PermissionDenied):
        act(cast, referral, "accept", user=cast.c_admin)
    assert Referral.objects.get(pk=referral.pk).status == "sent"


def _reach(cast, status):
    referral = send(cast)
    steps = {
        "sent": [],
        "accepted": ["accept"],
        "declined": ["decline"],
        "in_service": ["accept", "start"],
        "completed": ["accept", "start", "complete"],
        "closed": ["accept", "close"],
        "forwarded": ["forward"],
    }[status]
    for action in steps:
        act(cast, referral, action)
    referral.refresh_from_db()
    return referral


@pytest.mark.parametrize("status", [s for s, _ in Referral.Status.choices])
def test_every_refused_transition_names_the_state_and_the_allowed_actions(cast, status):
    referral = _reach(cast, status)
    for party, user in (("receiver", cast.b_admin), ("sender", cast.a_admin)):
        allowed = workflow.allowed_actions(referral, party)
        for action in workflow.TRANSITIONS:
            if action in allowed:
                continue
            with pytest.raises(ReferralError) as refused:
                act(cast, referral, action, user=user)
            message = str(refused.value)
            label = referral.get_status_display().lower()
            assert f"is {label}" in message
            assert message.endswith(f"{', '.join(allowed) or 'none'}.")
    assert Referral.objects.get(pk=referral.pk).status == status


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["receiver", "sender"]), st.sampled_from(list(workflow.TRANSITIONS))
        ),
        max_size=6,
    )
)
def test_random_action_sequences_follow_the_transition_table(cast, steps):
    referral = send(cast)
    expected, done = "sent", 0
    users = {"receiver": cast.b_admin, "sender": cast.a_admin}
    for party, action in steps:
        transition = workflow.TRANSITIONS[action]
        if expected in transition.by.get(party, ()):
            act(cast, referral, action, user=users[party])
            expected, done = transition.to_status, done + 1
        else:
            with pytest.raises(ReferralError):
                act(cast, referral, action, user=users[party])
        assert Referral.objects.get(pk=referral.pk).status == expected
    assert referral.events.count() == 1 + done


# --- messages ---------------------------------------------------------------------------


def test_message_is_encrypted_and_notifies_the_other_organization(
    cast, django_capture_on_commit_callbacks
):
    referral = send(cast)
    with django_capture_on_commit_callbacks(execute=True):
        message = workflow.message_send(
            access=cast.access(cast.b_member), referral=referral, body=f"Called {GIVEN} today."
        )
    assert message.organization == cast.b
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM referrals_referralmessage WHERE id = %s", [message.pk])
        raw = cursor.fetchone()[0]
    assert GIVEN not in raw and raw.startswith("enc1:")
    notified = Notification.objects.filter(kind="message")
    assert {n.user for n in notified} == {cast.a_admin, cast.a_member}
    assert all(GIVEN not in n.text for n in notified)


def test_empty_message_is_refused(cast):
    referral = send(cast)
    with pytest.raises(ReferralError, match="Write a message"):
        workflow.message_send(access=cast.access(cast.b_admin), referral=referral, body="  ")
    assert ReferralMessage.objects.count() == 0


def test_a_third_organization_cannot_message(cast):
    referral = send(cast)
    with pytest.raises(PermissionDenied):
        workflow.message_send(access=cast.access(cast.c_admin), referral=referral, body="Hi")
    assert ReferralMessage.objects.count() == 0


def test_messages_need_a_consent_covering_notes(cast):
    person, consent = record_person(
        cast.access(cast.a_admin),
        given="Ana",
        recipients=[cast.b],
        information=["identity", "referrals"],
    )
    referral = send(cast, person=person, consent=consent)
    with pytest.raises(ReferralError, match="does not cover notes"):
        workflow.message_send(access=cast.access(cast.a_admin), referral=referral, body="Hi")


# --- no identity in notifications or the audit log --------------------------------------


def test_a_whole_lifecycle_leaves_no_name_in_notifications_or_audit(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = send(cast)
        workflow.message_send(
            access=cast.access(cast.a_admin), referral=referral, body=f"{GIVEN} {FAMILY} is shy."
        )
        for action in ("accept", "start"):
            act(cast, referral, action, note=f"Met {GIVEN}.")
        act(cast, referral, "complete", note=f"{FAMILY} got the help.")
    texts = list(Notification.objects.values_list("text", flat=True))
    assert texts and not [t for t in texts if GIVEN in t or FAMILY in t]
    audit = AuditEvent.objects.filter(object_type__startswith="referrals.")
    dumped = json.dumps(list(audit.values("before", "after", "object_repr")))
    assert "referrals.referral" in set(audit.values_list("object_type", flat=True))
    assert GIVEN not in dumped and FAMILY not in dumped and "algebra" not in dumped
