"""Closed-loop referrals: the state machine, secure messages and in-app notifications.

Every write is one service (`@transaction.atomic`, keyword-only) that checks the access,
changes the referral, writes a ReferralEvent and an audit record, and queues the
notifications after commit. Audit snapshots leave out the encrypted fields (reason,
notes, message bodies), so the audit log never holds a person's identity; notification
texts name services and organizations, never people.

Who may do what (TRANSITIONS is the one place this is decided):
- the receiving organization accepts, declines, starts, completes, closes (after it
  accepted) and forwards;
- the sending organization may only cancel, that is close a referral still "sent"
  (nobody at the receiver has acted on it yet); after that the receiver owns the loop.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from backbone.core.audit import record, record_for
from backbone.core.models import AuditEvent, Membership, NetworkRole
from backbone.core.models.tenancy import ORGANIZATION_ROLES
from backbone.directory.models import Service
from backbone.referrals import journeys, measurement_feed
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Notification,
    Referral,
    ReferralEvent,
    ReferralMessage,
    ReferralSettings,
)
from backbone.referrals.people import safe_snapshot

S = Referral.Status
SENDER = "sender"
RECEIVER = "receiver"
MESSAGE_MAX = 5000
NOTE_MAX = 2000


class ReferralError(Exception):
    """A refused referral action; the message is shown to the user as is."""


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    past: str  # "This referral is declined; it cannot be <past>."
    to_status: str
    by: dict[str, frozenset[str]]  # party -> the statuses it may do this from


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", "Accept", "accepted", S.ACCEPTED, {RECEIVER: frozenset({S.SENT})}),
        Transition("decline", "Decline", "declined", S.DECLINED, {RECEIVER: frozenset({S.SENT})}),
        Transition(
            "start", "Start service", "started", S.IN_SERVICE, {RECEIVER: frozenset({S.ACCEPTED})}
        ),
        Transition(
            "complete", "Complete", "completed", S.COMPLETED, {RECEIVER: frozenset({S.IN_SERVICE})}
        ),
        Transition(
            "close",
            "Close without service",
            "closed",
            S.CLOSED,
            {
                RECEIVER: frozenset({S.ACCEPTED, S.IN_SERVICE}),
                SENDER: frozenset({S.SENT}),
            },
        ),
        Transition(
            "forward",
            "Forward to another service",
            "forwarded",
            S.FORWARDED,
            {RECEIVER: frozenset({S.SENT, S.ACCEPTED, S.IN_SERVICE})},
        ),
    )
}
FINAL_STATUSES = frozenset({S.DECLINED, S.COMPLETED, S.CLOSED, S.FORWARDED})
DECLINE_REASONS = dict(Referral.DeclineReason.choices)
OUTCOMES = dict(Referral.Outcome.choices)


# --- reads used by the services and the pages -------------------------------------------


def party_of(access, referral: Referral) -> str | None:
    """ "receiver", "sender" or None: the access's side of this referral."""
    if access.organization_id is None:
        return None
    if referral.to_organization_id == access.organization_id:
        return RECEIVER
    if referral.from_organization_id == access.organization_id:
        return SENDER
    return None


def allowed_actions(referral: Referral, party: str | None) -> list[str]:
    """The actions PARTY may take on REFERRAL now, in TRANSITIONS order."""
    return [
        action
        for action, transition in TRANSITIONS.items()
        if referral.status in transition.by.get(party, ())
    ]


def add_business_days(moment: datetime.datetime, days: int) -> datetime.datetime:
    """MOMENT plus DAYS working days (Saturday and Sunday skipped), same time of day."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    added = 0
    while added < days:
        local += datetime.timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local


def respond_by_for(network, sent_at: datetime.datetime) -> datetime.datetime:
    days = (
        ReferralSettings.objects.filter(network=network)
        .values_list("response_business_days", flat=True)
        .first()
    )
    return add_business_days(sent_at, 3 if days is None else days)


def settings_for(network) -> ReferralSettings:
    """The network's referral settings (defaults when never saved; not written)."""
    return ReferralSettings.objects.filter(network=network).first() or ReferralSettings(
        network=network
    )


def consent_covers(consent: Consent, organization_id: int, information: str) -> bool:
    """Whether this consent lets ORGANIZATION_ID see INFORMATION: it discloses, it is
    named, or the consent is for treating participants (a referral makes one)."""
    if information not in (consent.information or []):
        return False
    if consent.disclosing_organization_id == organization_id:
        return True
    if consent.recipients == Consent.Recipients.TREATING:
        return True
    return consent.recipient_organizations.filter(pk=organization_id).exists()


def staff_ids(network, organization_id, *, admins_only: bool = False) -> list[int]:
    roles = {"org_admin"} if admins_only else set(ORGANIZATION_ROLES)
    return list(
        NetworkRole.objects.filter(
            network=network, organization_id=organization_id, role__in=roles
        ).values_list("user_id", flat=True)
    )


def _notify_later(network, user_ids, *, kind: str, referral: Referral | None, text: str):
    """Queue in-app notifications for after the commit: a rolled-back change tells no one."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    referral_id = referral.pk if referral else None

    def deliver():
        Notification.objects.bulk_create(
            [
                Notification(
                    network=network,
                    user_id=user_id,
                    kind=kind,
                    referral_id=referral_id,
                    text=text[:300],
                )
                for user_id in user_ids
            ]
        )

    transaction.on_commit(deliver)


def _describe(referral: Referral) -> str:
    """ "referral 12 to Youth Jobs (Hope House)": never the person."""
    service = referral.to_service.name or f"service {referral.to_service_id}"
    return f"referral {referral.pk} to {service} ({referral.to_organization.name})"


def _check_referral_access(access, referral: Referral) -> str:
    """The party of the access, or 404/403 as the access layer answers."""
    access.require("change", referral)
    party = party_of(access, referral)
    if party is None:
        raise PermissionDenied("Your organization is not a party to this referral.")
    return party


# --- sending ----------------------------------------------------------------------------


def _receiving_organization(network, service: Service):
    organization_id = getattr(service.organization, "organization_id", None) if service else None
    if service is None or service.network_id != network.pk or organization_id is None:
        raise ReferralError(
            "This service is not linked to a partner organization, so it cannot receive referrals."
        )
    if not Membership.objects.filter(
        network=network, organization_id=organization_id, status=Membership.Status.ACTIVE
    ).exists():
        raise ReferralError("The organization offering this service is not an active partner.")
    return service.organization.organization


def _check_consent(consent: Consent, *, person, receiver) -> None:
    if consent is None or consent.person_id != person.pk:
        raise ReferralError("Choose a consent given by this person.")
    if not consent.is_active():
        raise ReferralError(
            f"Consent {consent.pk} is no longer in force (revoked or expired); record a new "
            "consent before referring."
        )
    missing = [
        info for info in ("identity", "referrals") if not consent_covers(consent, receiver.pk, info)
    ]
    if missing:
        raise ReferralError(
            f"Consent {consent.pk} does not allow {receiver.name} to see the person's "
            f"{' and '.join(missing)}; choose or record a consent that names {receiver.name}."
        )


def _create_referral(
    *,
    network,
    actor,
    person,
    service: Service,
    consent: Consent,
    from_organization_id: int | None,
    reason: str = "",
    pathway_step=None,
    forwarded_from: Referral | None = None,
    now: datetime.datetime | None = None,
) -> Referral:
    receiver = _receiving_organization(network, service)
    if from_organization_id == receiver.pk:
        raise ReferralError(
            "This service belongs to your own organization; an organization does not refer "
            "to itself."
        )
    _check_consent(consent, person=person, receiver=receiver)
    if pathway_step is not None and pathway_step.network_id != network.pk:
        raise ReferralError("Choose a pathway step of this network.")
    sent_at = now or timezone.now()
    referral = Referral.objects.create(
        network=network,
        person=person,
        consent=consent,
        from_organization_id=from_organization_id,
        to_organization=receiver,
        to_service=service,
        area=person.area,
        pathway=pathway_step.pathway if pathway_step else None,
        pathway_step=pathway_step,
        forwarded_from=forwarded_from,
        reason=(reason or "").strip()[:NOTE_MAX],
        sent_at=sent_at,
        respond_by=respond_by_for(network, sent_at),
        created_by=actor,
    )
    ReferralEvent.objects.create(
        network=network,
        referral=referral,
        from_status="",
        to_status=S.SENT,
        actor=actor,
        organization_id=from_organization_id,
        at=sent_at,
    )
    origin = "a self-referral" if from_organization_id is None else "a new referral"
    _notify_later(
        network,
        staff_ids(network, receiver.pk),
        kind=Notification.Kind.REFERRAL_RECEIVED,
        referral=referral,
        text=f"You have {origin}: {_describe(referral)}. Please accept or decline it by "
        f"{timezone.localtime(referral.respond_by):%a %b %-d}.",
    )
    measurement_feed.referrals_changed(network.pk)
    return referral


@transaction.atomic
def referral_send(
    *,
    access,
    person,
    service: Service,
    consent: Consent,
    reason: str = "",
    pathway_step=None,
) -> Referral:
    """Refer PERSON from the access's organization to SERVICE under CONSENT."""
    from backbone.referrals.selectors import may_see

    access.require_add(Referral)
    if access.organization_id is None:
        raise PermissionDenied("Only a partner organization's staff send referrals.")
    if not may_see(access, person):
        raise ReferralError("Your organization may not see this person; it cannot refer them.")
    referral = _create_referral(
        network=access.network,
        actor=access.actor,
        person=person,
        service=service,
        consent=consent,
        from_organization_id=access.organization_id,
        reason=reason,
        pathway_step=pathway_step,
    )
    record_for(access, action=AuditEvent.Action.CREATE, obj=referral, after=safe_snapshot(referral))
    return referral


@transaction.atomic
def referral_self_send(*, network, person, service: Service, consent: Consent) -> Referral:
    """A person's own referral from the public directory (no sending organization)."""
    if not settings_for(network).allow_self_referrals:
        raise ReferralError("This network does not take self-referrals.")
    referral = _create_referral(
        network=network,
        actor=None,
        person=person,
        service=service,
        consent=consent,
        from_organization_id=None,
    )
    record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        obj=referral,
        network=network,
        after=safe_snapshot(referral),
        via="self-referral",
    )
    return referral


# --- the state machine ------------------------------------------------------------------


def _refusal(referral: Referral, transition: Transition, party: str | None) -> str:
    status = referral.get_status_display().lower()
    allowed = ", ".join(allowed_actions(referral, party)) or "none"
    others = [
        p for p, statuses in transition.by.items() if p != party and referral.status in statuses
    ]
    if others:
        who = "receiving" if others[0] == RECEIVER else "sending"
        return (
            f"Only the {who} organization may {transition.action} this referral while it "
            f"is {status}. Allowed for your organization: {allowed}."
        )
    return f"This referral is {status}; it cannot be {transition.past}. Allowed: {allowed}."


def _transition(
    *,
    access,
    referral: Referral,
    action: str,
    note: str = "",
    changes: dict | None = None,
    now: datetime.datetime | None = None,
) -> Referral:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ReferralError(f"Unknown action {action!r}.")
    # Lock the row: two people pressing Accept and Decline at once get one answer each.
    referral = Referral.objects.select_for_update().select_related("to_service").get(pk=referral.pk)
    party = _check_referral_access(access, referral)
    if referral.status not in transition.by.get(party, ()):
        raise ReferralError(_refusal(referral, transition, party))
    before = safe_snapshot(referral)
    now = now or timezone.now()
    from_status = referral.status
    referral.status = transition.to_status
    for field, value in (changes or {}).items():
        setattr(referral, field, value)
    if from_status == S.SENT:
        referral.responded_at = now
    if transition.to_status == S.IN_SERVICE:
        referral.started_at = now
    if transition.to_status in FINAL_STATUSES:
        referral.closed_at = now
    referral.save()
    ReferralEvent.objects.create(
        network=referral.network,
        referral=referral,
        from_status=from_status,
        to_status=referral.status,
        actor=access.actor,
        organization_id=access.organization_id,
        note=(note or "").strip()[:NOTE_MAX],
        at=now,
    )
    record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=referral,
        before=before,
        after=safe_snapshot(referral),
    )
    other = referral.from_organization_id if party == RECEIVER else referral.to_organization_id
    if other is not None:
        _notify_later(
            referral.network,
            staff_ids(referral.network, other),
            kind=Notification.Kind.REFERRAL_UPDATED,
            referral=referral,
            text=f"The {_describe(referral)} is now {referral.get_status_display().lower()}.",
        )
    if referral.status == S.COMPLETED:
        # A completed referral to a pathway step is a milestone of the person's journey.
        journeys.milestone_from_referral(referral)
    measurement_feed.referrals_changed(referral.network_id)
    return referral


@transaction.atomic
def referral_accept(*, access, referral: Referral, note: str = "") -> Referral:
    """The receiver takes the person on: a care relationship (source: referral) starts."""
    referral = _transition(access=access, referral=referral, action="accept", note=note)
    relationship, created = CareRelationship.objects.get_or_create(
        person_id=referral.person_id,
        organization_id=referral.to_organization_id,
        defaults={"network": referral.network, "source": CareRelationship.Source.REFERRAL},
    )
    if created:
        record_for(
            access,
            action=AuditEvent.Action.CREATE,
            obj=relationship,
            after=safe_snapshot(relationship),
        )
    elif relationship.ended_on is not None:
        before = safe_snapshot(relationship)
        relationship.ended_on = None
        relationship.save(update_fields=["ended_on"])
        record_for(
            access,
            action=AuditEvent.Action.UPDATE,
            obj=relationship,
            before=before,
            after=safe_snapshot(relationship),
        )
    return referral


@transaction.atomic
def referral_decline(*, access, referral: Referral, reason: str, note: str = "") -> Referral:
    """The receiver says no, with one of the network's decline reasons."""
    if reason not in DECLINE_REASONS:
        raise ReferralError(
            "Choose why the referral is declined: " + ", ".join(DECLINE_REASONS.values()) + "."
        )
    if reason == Referral.DeclineReason.OTHER and not (note or "").strip():
        raise ReferralError("Say why in the note when the reason is “Other”.")
    return _transition(
        access=access,
        referral=referral,
        action="decline",
        note=note,
        changes={"decline_reason": reason},
    )


@transaction.atomic
def referral_start(*, access, referral: Referral, note: str = "") -> Referral:
    """The person is now being served."""
    return _transition(access=access, referral=referral, action="start", note=note)


@transaction.atomic
def referral_complete(*, access, referral: Referral, outcome: str, note: str = "") -> Referral:
    """The loop closes with an outcome: service received, or goal met."""
    if outcome not in OUTCOMES:
        raise ReferralError(
            "Choose the outcome: " + " or ".join(f"“{o}”" for o in OUTCOMES.values()) + "."
        )
    return _transition(
        access=access,
        referral=referral,
        action="complete",
        note=note,
        changes={"outcome": outcome},
    )


@transaction.atomic
def referral_close(*, access, referral: Referral, note: str = "") -> Referral:
    """Closed without service (by the receiver), or cancelled by the sender while sent."""
    if not (note or "").strip():
        raise ReferralError("Say in a note why the referral is closed without service.")
    return _transition(access=access, referral=referral, action="close", note=note)


@transaction.atomic
def referral_forward(
    *,
    access,
    referral: Referral,
    service: Service,
    consent: Consent | None = None,
    note: str = "",
) -> Referral:
    """The receiver passes the person on to another service. The old referral becomes
    "forwarded"; a new one, sent by the receiver, points back to it. Returns the new one."""
    consent = consent or referral.consent
    old = _transition(access=access, referral=referral, action="forward", note=note)
    new = _create_referral(
        network=old.network,
        actor=access.actor,
        person=old.person,
        service=service,
        consent=consent,
        from_organization_id=access.organization_id,
        reason=note,
        pathway_step=None,
        forwarded_from=old,
    )
    record_for(access, action=AuditEvent.Action.CREATE, obj=new, after=safe_snapshot(new))
    return new


ACTION_SERVICES = {
    "accept": referral_accept,
    "decline": referral_decline,
    "start": referral_start,
    "complete": referral_complete,
    "close": referral_close,
    "forward": referral_forward,
}


# --- messages and settings --------------------------------------------------------------


@transaction.atomic
def message_send(*, access, referral: Referral, body: str) -> ReferralMessage:
    """A secure note to the other organization of the referral (stored encrypted)."""
    from backbone.referrals.selectors import consent_allows

    party = _check_referral_access(access, referral)
    body = (body or "").strip()
    if not body:
        raise ReferralError("Write a message before sending it.")
    if len(body) > MESSAGE_MAX:
        raise ReferralError(f"A message holds at most {MESSAGE_MAX} characters.")
    other = referral.from_organization_id if party == RECEIVER else referral.to_organization_id
    if other is not None and consent_allows(referral.person, other, "notes") is None:
        raise ReferralError(
            "The person's consent does not cover notes and messages to the other "
            "organization; record a consent that does."
        )
    message = ReferralMessage.objects.create(
        network=referral.network,
        referral=referral,
        organization_id=access.organization_id,
        author=access.actor,
        body=body,
    )
    record_for(access, action=AuditEvent.Action.CREATE, obj=message, after=safe_snapshot(message))
    if other is not None:
        _notify_later(
            referral.network,
            staff_ids(referral.network, other),
            kind=Notification.Kind.MESSAGE,
            referral=referral,
            text=f"New message on {_describe(referral)}.",
        )
    return message


@transaction.atomic
def notifications_mark_read(*, access, ids=None) -> int:
    """Mark the user's notifications read (all unread ones when IDS is None)."""
    rows = access.scope(Notification, "change").filter(read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


@transaction.atomic
def referral_settings_update(
    *, access, response_business_days: int, escalate_to=None, allow_self_referrals: bool
) -> ReferralSettings:
    """The network's response-time standard, escalation contact and self-referral switch."""
    current = ReferralSettings.objects.filter(network=access.network).first()
    if current is None:
        access.require_add(ReferralSettings)
        current = ReferralSettings(network=access.network)
        before = None
    else:
        access.require("change", current)
        before = safe_snapshot(current)
    if not 1 <= int(response_business_days) <= 30:
        raise ReferralError("The response time is between 1 and 30 business days.")
    if (
        escalate_to is not None
        and not NetworkRole.objects.filter(network=access.network, user=escalate_to).exists()
    ):
        raise ReferralError("The escalation contact must have a role in this network.")
    current.response_business_days = int(response_business_days)
    current.escalate_to = escalate_to
    current.allow_self_referrals = bool(allow_self_referrals)
    current.save()
    record_for(
        access,
        action=AuditEvent.Action.CREATE if before is None else AuditEvent.Action.UPDATE,
        obj=current,
        before=before,
        after=safe_snapshot(current),
    )
    return current


# --- self-referral from the public directory --------------------------------------------

SELF_REFERRAL_INFORMATION = ["identity", "demographics", "referrals", "outcomes", "notes"]
SELF_REFERRAL_CONSENT_DAYS = 365


def self_referral_consent_terms(network, organization) -> dict:
    """The §2.31 elements of the consent a person signs when they refer themselves."""
    expires_on = timezone.localdate() + datetime.timedelta(days=SELF_REFERRAL_CONSENT_DAYS)
    return {
        "information": [Consent.INFORMATION[key] for key in SELF_REFERRAL_INFORMATION],
        "disclosing": f"You, through {organization.name}, which keeps the record of your request",
        "recipients": organization.name,
        "purpose": Consent.Purpose.REFERRAL.label,
        "expires_on": expires_on,
        "network": network.name,
    }


@transaction.atomic
def self_referral_submit(
    *,
    network,
    service: Service,
    given_name: str,
    family_name: str,
    birth_date: datetime.date,
    phone: str = "",
    email: str = "",
    preferred_language: str = "",
    consent_signed: bool,
    signed_by: str,
) -> Referral:
    """A person asks for SERVICE from the public directory: a new person record, their
    electronic consent naming the receiving organization, and a referral with no sender.

    A new record is made every time, whoever the person is, so the public form reveals
    nothing about people already recorded; the receiver's duplicate check finds them.
    The records are made on behalf of the receiving organization (it discloses and
    receives under the consent), with no user as actor."""
    from backbone.core.access import ORG_MEMBER, Access
    from backbone.referrals.consents import consent_record
    from backbone.referrals.people import person_create

    if not settings_for(network).allow_self_referrals:
        raise ReferralError("This network does not take self-referrals.")
    receiver = _receiving_organization(network, service)
    signed_by = (signed_by or "").strip()
    if not consent_signed or not signed_by:
        raise ReferralError(
            "To send your request, tick the consent box and type your full name as your "
            "electronic signature."
        )
    if not (phone or "").strip() and not (email or "").strip():
        raise ReferralError("Give a phone number or an email address so you can be reached.")
    acting = Access(
        user=AnonymousUser(), network=network, role=ORG_MEMBER, organization_id=receiver.pk
    )
    person = person_create(
        access=acting,
        given_name=given_name,
        family_name=family_name,
        birth_date=birth_date,
        phone=phone,
        email=email,
        preferred_language=preferred_language,
    )
    terms = self_referral_consent_terms(network, receiver)
    consent = consent_record(
        access=acting,
        person=person,
        recipients=Consent.Recipients.NAMED,
        recipient_organizations=[receiver.pk],
        information=SELF_REFERRAL_INFORMATION,
        information_description="Given on the public directory's self-referral form.",
        purpose=Consent.Purpose.REFERRAL,
        purpose_description=f"Self-referral to {service.name or 'a service'}"[:300],
        expires_on=terms["expires_on"],
        signature=Consent.Signature.ELECTRONIC,
        signed_by=signed_by,
    )
    return referral_self_send(network=network, person=person, service=service, consent=consent)
