"""Importing people, their consents and their referrals from a partner's CSV, all or nothing.

One row per referral (or per person, with the service left blank). The person's columns
repeat on each of their rows; `person_ref` (the organization's own id for the person)
ties the rows of one person together. Every row is checked before anything is written:
unknown organizations, services, areas and categories, bad dates, missing consent fields,
invalid statuses, duplicates in the file, and referrals that no active consent covers
are reported with their row, column and value, and nothing is written.

Importing the same file again changes nothing. Rows are matched by natural keys:
a person by the importing organization and their name and date of birth among the
people it serves; a consent by its person, disclosing organization and terms; a
referral by its person, sending organization, service and the moment it was sent.
A recorded referral is never changed by an import (its state moves through the referral
pages), so a row that differs from the recorded referral is an error.

Identifying fields are encrypted by the model fields as the rows are bulk-inserted; the
audit log gets one record for the import with counts, never identity.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from backbone.core import tabular
from backbone.core.access import Access
from backbone.core.audit import record
from backbone.core.models import AuditEvent
from backbone.core.tabular import ImportResult, RowError, RowPlan, TableError
from backbone.referrals.exchange.columns import (
    IMPORT_COLUMNS,
    RECEIVED,
    REQUIRED_COLUMNS,
    S,
    import_columns,
    may_import,
    read_referral_table,
    template_csv,
)
from backbone.referrals.exchange.planning import Planner, ReferralRow
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Person,
    Referral,
    ReferralEvent,
)
from backbone.referrals.people import person_indexes

__all__ = ["IMPORT_COLUMNS", "import_columns", "import_file", "referrals_import", "template_csv"]


# Writing ---------------------------------------------------------------------------------


def _events(referral: dict) -> list[tuple[str, str, datetime.datetime, int | None]]:
    """The steps that led to the referral's status, at its recorded moments."""
    sender, receiver = referral["from_organization_id"], referral["to_organization_id"]
    events = [("", S.SENT, referral["sent_at"], sender)]
    status = referral["status"]
    last = S.SENT
    if status in (S.ACCEPTED, S.IN_SERVICE, S.COMPLETED) or (
        status == S.CLOSED and referral["responded_at"]
    ):
        events.append((last, S.ACCEPTED, referral["responded_at"], receiver))
        last = S.ACCEPTED
    if status == S.DECLINED:
        events.append((last, S.DECLINED, referral["responded_at"], receiver))
    if status in (S.IN_SERVICE, S.COMPLETED) or (status == S.CLOSED and referral["started_at"]):
        events.append((last, S.IN_SERVICE, referral["started_at"], receiver))
        last = S.IN_SERVICE
    if status == S.COMPLETED:
        events.append((last, S.COMPLETED, referral["closed_at"], receiver))
    if status == S.CLOSED:
        closer = receiver if last != S.SENT else sender
        events.append((last, S.CLOSED, referral["closed_at"], closer))
    return events


def _apply(access: Access, plans: list[ReferralRow], filename: str, via: str) -> None:
    network = access.network
    actor = access.actor
    now = timezone.now()
    people = {}
    for plan in plans:
        person = plan.person
        if person.pk is None and person.key not in people:
            birth = datetime.date.fromisoformat(person.fields["birth_date"])
            person.instance = Person(
                network=network,
                created_by_organization_id=person.organization_id,
                created_at=now,
                **person.fields,
                **person_indexes(family_name=person.fields["family_name"], birth_date=birth),
            )
            people[person.key] = person
    Person.objects.bulk_create([p.instance for p in people.values()], batch_size=1000)
    for person in people.values():
        person.pk = person.instance.pk
    relationships = {
        (plan.person.pk, plan.person.organization_id): CareRelationship(
            network=network,
            person_id=plan.person.pk,
            organization_id=plan.person.organization_id,
            source=CareRelationship.Source.IMPORT,
            started_on=timezone.localdate(),
        )
        for plan in plans
    }
    consents = {}
    for plan in plans:
        consent = plan.consent
        if consent is not None and consent.pk is None and consent.key not in consents:
            fields = dict(consent.fields)
            signed_on = fields.pop("signed_on")
            consent.instance = Consent(
                network=network,
                person_id=consent.person.pk,
                signed_at=timezone.make_aware(
                    datetime.datetime.combine(signed_on, datetime.time(9))
                ),
                recorded_by=actor,
                created_at=now,
                **fields,
            )
            consents[consent.key] = consent
    Consent.objects.bulk_create([c.instance for c in consents.values()], batch_size=1000)
    through = Consent.recipient_organizations.through
    links = []
    for consent in consents.values():
        consent.pk = consent.instance.pk
        links += [
            through(consent_id=consent.pk, organization_id=organization_id)
            for organization_id in sorted(consent.recipient_ids)
        ]
    through.objects.bulk_create(links, batch_size=2000)
    referrals, events = [], []
    for plan in plans:
        if plan.referral is None:
            continue
        fields = {k: v for k, v in plan.referral.items() if k != "service_name"}
        consent_id = plan.consent.pk if plan.consent is not None else plan.consent_pk
        referral = Referral(
            person_id=plan.person.pk, consent_id=consent_id, created_by=actor, **fields
        )
        referrals.append(referral)
        events.append(_events(fields))
        if fields["status"] in RECEIVED:
            key = (plan.person.pk, fields["to_organization_id"])
            relationships.setdefault(
                key,
                CareRelationship(
                    network=network,
                    person_id=plan.person.pk,
                    organization_id=fields["to_organization_id"],
                    source=CareRelationship.Source.REFERRAL,
                    started_on=timezone.localtime(fields["responded_at"]).date(),
                ),
            )
    Referral.objects.bulk_create(referrals, batch_size=1000)
    ReferralEvent.objects.bulk_create(
        [
            ReferralEvent(
                network=network,
                referral_id=referral.pk,
                from_status=before,
                to_status=after,
                actor=actor,
                organization_id=organization_id,
                at=at,
            )
            for referral, steps in zip(referrals, events, strict=True)
            for before, after, at, organization_id in steps
        ],
        batch_size=2000,
    )
    CareRelationship.objects.bulk_create(
        list(relationships.values()), batch_size=2000, ignore_conflicts=True
    )
    record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=network,
        network=network,
        object_id="referrals-import",
        after={
            "file": filename,
            "people": len(people),
            "consents": len(consents),
            "referrals": len(referrals),
        },
        via=via,
    )


# The doors -------------------------------------------------------------------------------


def referrals_import(
    *, access: Access, data: bytes, filename: str, commit: bool = False, via: str = "import"
) -> ImportResult:
    """Check every row of a people-and-referrals file; with COMMIT, write all of it or
    nothing (re-checked inside the transaction)."""
    may_import(access)
    try:
        table = read_referral_table(data, filename)
    except TableError as exc:
        return ImportResult(errors=[RowError(row=0, column="", value="", message=str(exc))])
    errors = tabular.check_columns(
        table, allowed=import_columns(access.network), required=REQUIRED_COLUMNS
    )
    if errors:
        return ImportResult(errors=errors)
    if not commit:
        plans, errors = Planner(access).plan(table)
        return ImportResult(plans=plans, errors=errors)
    try:
        with transaction.atomic():
            plans, errors = Planner(access).plan(table)
            if errors:
                raise tabular.ImportFailed(errors)
            _apply(access, [p for p in plans if p.action == RowPlan.CREATE], filename, via)
    except tabular.ImportFailed as exc:
        return ImportResult(plans=plans, errors=exc.errors)
    return ImportResult(plans=plans, committed=True)


def import_file(
    network, path, dry_run: bool = False, *, as_email: str | None = None
) -> ImportResult:
    """`backbone referrals import FILE`: import as the network's first network admin (or
    AS_EMAIL); with DRY_RUN only check. The result lists the errors or the plans."""
    from backbone.referrals.exchange.export import command_access

    access = command_access(network, as_email)
    path = Path(path)
    return referrals_import(
        access=access, data=path.read_bytes(), filename=path.name, commit=not dry_run, via="command"
    )
