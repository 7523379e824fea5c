"""Services for a person's consent (42 CFR §2.31): record, revoke, end by event.

A consent is checked at read time (selectors.consent_allows), so a revocation or an
expiry takes effect on the next request; nothing is cached.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from backbone.core.audit import record_for
from backbone.core.models import AuditEvent, Membership
from backbone.referrals import selectors
from backbone.referrals.models import Consent, Person
from backbone.referrals.people import safe_snapshot

OPTIONAL_FIELDS = {"information_description", "purpose_description", "signed_at"}


def _require_serving(access, person: Person) -> int:
    access.require_add(Consent)
    if not access.organization_id:
        raise PermissionDenied(
            "Consent is recorded by staff of an organization serving the person."
        )
    if person.network_id != access.network.pk or not selectors.may_see(access, person):
        raise PermissionDenied("Your organization may not record consent for this person.")
    # Consent is given to an organization serving the person, which then discloses.
    if not selectors.serves(access, person):
        raise PermissionDenied("Only an organization serving the person records their consent.")
    return access.organization_id


@transaction.atomic
def consent_record(
    *,
    access,
    person: Person,
    recipients,
    recipient_organizations=(),
    information,
    purpose,
    expires_on: datetime.date | None = None,
    expiry_event: str = "",
    signature,
    signed_by,
    **fields,
) -> Consent:
    """Record a person's consent to disclose; the access's organization discloses."""
    unknown = set(fields) - OPTIONAL_FIELDS
    if unknown:
        raise TypeError(f"Unknown consent fields: {', '.join(sorted(unknown))}.")
    organization_id = _require_serving(access, person)
    errors: dict[str, str] = {}
    recipient_ids = sorted({getattr(org, "pk", org) for org in recipient_organizations or ()})
    if recipients not in Consent.Recipients.values:
        errors["recipients"] = "Choose to whom the information may be disclosed."
    elif recipients == Consent.Recipients.NAMED:
        if not recipient_ids:
            errors["recipient_organizations"] = "Name at least one organization."
        else:
            members = set(
                Membership.objects.filter(
                    network=access.network,
                    organization_id__in=recipient_ids,
                    status=Membership.Status.ACTIVE,
                ).values_list("organization_id", flat=True)
            )
            if members != set(recipient_ids):
                errors["recipient_organizations"] = (
                    "Only active partners of this network can be named."
                )
    information = list(dict.fromkeys(information or ()))
    if not information:
        errors["information"] = "Choose what information may be disclosed."
    elif set(information) - set(Consent.INFORMATION):
        errors["information"] = "Unknown kind of information."
    if purpose not in Consent.Purpose.values:
        errors["purpose"] = "Choose the purpose of the disclosure."
    elif purpose == Consent.Purpose.OTHER and not (fields.get("purpose_description") or "").strip():
        errors["purpose_description"] = "Describe the purpose."
    expiry_event = (expiry_event or "").strip()
    if expires_on is None and not expiry_event:
        errors["expires_on"] = "A consent needs an expiry date or an expiry event."
    elif expires_on is not None and expires_on < timezone.localdate():
        errors["expires_on"] = "The expiry date is in the past."
    if signature not in Consent.Signature.values:
        errors["signature"] = "Say how the consent was signed or given."
    signed_by = (signed_by or "").strip()
    if not signed_by:
        errors["signed_by"] = "Enter who signed: the person or their representative."
    signed_at = fields.get("signed_at") or timezone.now()
    if signed_at > timezone.now() + datetime.timedelta(minutes=5):
        errors["signed_at"] = "The consent cannot be signed in the future."
    if errors:
        raise ValidationError(errors)
    consent = Consent.objects.create(
        network=access.network,
        person=person,
        disclosing_organization_id=organization_id,
        recipients=recipients,
        information=information,
        information_description=(fields.get("information_description") or "").strip(),
        purpose=purpose,
        purpose_description=(fields.get("purpose_description") or "").strip(),
        expires_on=expires_on,
        expiry_event=expiry_event,
        signature=signature,
        signed_by=signed_by,
        signed_at=signed_at,
        # For paper and verbal consent this is who recorded it (§2.31 signature).
        recorded_by=access.actor,
    )
    if recipients == Consent.Recipients.NAMED:
        consent.recipient_organizations.set(recipient_ids)
    record_for(access, action=AuditEvent.Action.CREATE, obj=consent, after=safe_snapshot(consent))
    return consent


def _require_manage(access, consent: Consent) -> None:
    access.require_allowed(Consent, "change")
    if consent.network_id != access.network.pk:
        raise PermissionDenied("This consent is not in this network.")
    organization_ids = selectors.acting_organization_ids(access)
    if consent.disclosing_organization_id in organization_ids:
        return
    if selectors.holds_record(consent.person, organization_ids) or selectors.may_see(
        access, consent.person
    ):
        return
    raise PermissionDenied("Your organization may not change this consent.")


@transaction.atomic
def consent_revoke(*, access, consent: Consent, note: str = "") -> Consent:
    """The person withdraws consent; it stops every disclosure from the next request."""
    _require_manage(access, consent)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is not None:
        raise ValidationError({"consent": "This consent was already revoked."})
    before = safe_snapshot(consent)
    consent.revoked_at = timezone.now()
    consent.revoked_by = access.actor
    consent.revocation_note = (note or "").strip()
    consent.save(update_fields=["revoked_at", "revoked_by", "revocation_note"])
    record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=consent,
        before=before,
        after=safe_snapshot(consent),
    )
    return consent


@transaction.atomic
def consent_end_by_event(*, access, consent: Consent) -> Consent:
    """Record that the consent's expiry event happened; the consent ends now."""
    _require_manage(access, consent)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if not consent.expiry_event:
        raise ValidationError({"consent": "This consent has no expiry event."})
    if consent.expired_by_event_at is not None or consent.revoked_at is not None:
        raise ValidationError({"consent": "This consent has already ended."})
    before = safe_snapshot(consent)
    consent.expired_by_event_at = timezone.now()
    consent.save(update_fields=["expired_by_event_at"])
    record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=consent,
        before=before,
        after=safe_snapshot(consent),
    )
    return consent
