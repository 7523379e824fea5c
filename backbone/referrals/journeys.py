"""A person's journey across life stages, recorded as milestones: from completed referrals
to a step of a designed pathway, and from partners' own records.

A completed referral marks a milestone when it names a pathway step, or when its service
is one of the services chosen for a step (the step of the referral's pathway first, else
the lowest step of any pathway by name and order). The milestone is named after the step,
takes its life stage, and is dated the day the referral was completed.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backbone.core import audit
from backbone.core.access import Access
from backbone.core.models import AuditEvent, LifeStage
from backbone.ecosystem.models import PathwayStep
from backbone.referrals.models import Milestone, Person, Referral


def _step_of(referral: Referral) -> PathwayStep | None:
    if referral.pathway_step_id:
        return referral.pathway_step
    steps = PathwayStep.objects.filter(
        network_id=referral.network_id, services=referral.to_service_id
    ).select_related("life_stage")
    if referral.pathway_id:
        same = steps.filter(pathway_id=referral.pathway_id).order_by("position", "name").first()
        if same is not None:
            return same
    return steps.order_by("pathway__name", "position", "name").first()


@transaction.atomic
def milestone_from_referral(referral: Referral) -> Milestone | None:
    """The milestone a completed REFERRAL marks (created once; None when it marks none).
    Called by the workflow when a referral is completed."""
    if referral.status != Referral.Status.COMPLETED:
        return None
    existing = Milestone.objects.filter(referral=referral).first()
    if existing is not None:
        return existing
    step = _step_of(referral)
    if step is None:
        return None
    closed = referral.closed_at or timezone.now()
    milestone = Milestone.objects.create(
        network_id=referral.network_id,
        person_id=referral.person_id,
        name=step.name,
        life_stage_id=step.life_stage_id,
        pathway_step=step,
        referral=referral,
        organization_id=referral.to_organization_id,
        source=Milestone.Source.REFERRAL,
        achieved_on=timezone.localdate(closed),
    )
    audit.record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        obj=milestone,
        network=referral.network,
        after=audit.snapshot(milestone),
        via="referral",
    )
    _changed(referral.network_id)
    return milestone


def _may_see_outcomes(access: Access, person_id: int) -> bool:
    from backbone.referrals import selectors

    return bool(selectors.visible_among(access, [person_id], "outcomes"))


@transaction.atomic
def milestone_record(
    *,
    access: Access,
    person: Person | int,
    name: str,
    life_stage: LifeStage | None = None,
    pathway_step: PathwayStep | None = None,
    achieved_on: datetime.date,
) -> Milestone:
    """A milestone a partner records for a person it may see (e.g. enrolled in college)."""
    access.require_add(Milestone)
    person_id = person.pk if isinstance(person, Person) else person
    errors = {}
    if not _may_see_outcomes(access, person_id):
        errors["person"] = "No person with this number is visible to your organization."
    name = (name or "").strip()
    if not name and pathway_step is not None:
        name = pathway_step.name
    if not name:
        errors["name"] = "Name the milestone, e.g. enrolled in college."
    elif len(name) > 200:
        errors["name"] = "Keep the name under 200 characters."
    if life_stage is not None and life_stage.network_id != access.network.pk:
        errors["life_stage"] = "Choose a life stage of this network."
    if pathway_step is not None and pathway_step.network_id != access.network.pk:
        errors["pathway_step"] = "Choose a pathway step of this network."
    if achieved_on is None:
        errors["achieved_on"] = "Give the day it was reached."
    elif achieved_on > timezone.localdate():
        errors["achieved_on"] = "A milestone is recorded once it is reached, not before."
    if errors:
        raise ValidationError(errors)
    if life_stage is None and pathway_step is not None:
        life_stage = pathway_step.life_stage
    milestone = Milestone.objects.create(
        network=access.network,
        person_id=person_id,
        name=name,
        life_stage=life_stage,
        pathway_step=pathway_step,
        organization_id=access.organization_id,
        source=Milestone.Source.RECORDED,
        achieved_on=achieved_on,
        recorded_by=access.actor,
    )
    audit.record_for(
        access, action=AuditEvent.Action.CREATE, obj=milestone, after=audit.snapshot(milestone)
    )
    _changed(access.network.pk)
    return milestone


def _changed(network_id: int) -> None:
    from backbone.referrals.measurement_feed import referrals_changed

    referrals_changed(network_id)
