"""Writes for partner organizations, memberships and assessments."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from backbone.core import audit, services
from backbone.core.access import Access
from backbone.core.models import AuditEvent, Membership, Organization
from backbone.partners import readiness
from backbone.partners.models import ReadinessAssessment


def unique_slug(name: str) -> str:
    base = slugify(name)[:100] or "organization"
    slug, n = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def organization_create(
    *, access: Access, fields: dict, membership: dict | None = None, via: str = "web"
) -> Organization:
    """Create an organization and its membership of the access's network."""
    access.require_add(Organization)
    fields = {**fields}
    fields.setdefault("slug", unique_slug(fields.get("name", "")))
    organization = services.object_create(
        access=access, model=Organization, fields=fields, via=via, check=False
    )
    services.object_create(
        access=access,
        model=Membership,
        via=via,
        fields={
            "organization": organization,
            **(membership or {}),
        },
    )
    return organization


@transaction.atomic
def membership_update(
    *, access: Access, membership: Membership, fields: dict, via: str = "web"
) -> Membership:
    new_status = fields.get("status", membership.status)
    if new_status != membership.status and (
        new_status not in Membership.TRANSITIONS[membership.status]
    ):
        raise ValidationError(
            {"status": f"A membership cannot move from {membership.status} to {new_status}."}
        )
    return services.object_update(access=access, instance=membership, fields=fields, via=via)


@transaction.atomic
def readiness_submit(
    *, access: Access, organization: Organization, answers: dict, via: str = "web"
) -> ReadinessAssessment:
    """Score a readiness questionnaire and keep it; earlier assessments stay as history."""
    errors = readiness.validate_answers(answers)
    if errors:
        raise ValidationError(errors)
    access.require_add(ReadinessAssessment, organization_id=organization.pk)
    clean = {code: int(answers[code]) for code in readiness.QUESTION_CODES}
    percent, level = readiness.score(clean)
    assessment = ReadinessAssessment.objects.create(
        network=access.network,
        organization=organization,
        answers=clean,
        score=percent,
        level=level,
        submitted_by=access.actor,
    )
    audit.record_for(
        access,
        action=AuditEvent.Action.CREATE,
        obj=assessment,
        after=audit.snapshot(assessment),
        via=via,
    )
    return assessment


@transaction.atomic
def membership_remove(*, access: Access, membership: Membership, via: str = "web") -> None:
    """Take an organization out of the network; an organization left in no network and
    with nobody attached is deleted with it (its profile belonged to this network only)."""
    organization = membership.organization
    orphan = not organization.memberships.exclude(pk=membership.pk).exists()
    if orphan:
        access.require("delete", organization)  # checked while it is still in the network
    services.object_delete(access=access, instance=membership, via=via)
    if orphan:
        services.object_delete(access=access, instance=organization, via=via, check=False)


@transaction.atomic
def organization_delete(*, access: Access, organization: Organization, via: str = "web"):
    """Delete an organization that belongs to this network only; one that other networks
    share would vanish from theirs, so its membership here is ended instead."""
    if organization.memberships.exclude(network=access.network).exists():
        raise ValidationError(
            f"{organization} also belongs to other networks; end its membership of this "
            "network instead."
        )
    services.object_delete(access=access, instance=organization, via=via)
