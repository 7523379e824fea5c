"""Writes of the ecosystem app: pathways, their steps and onward edges, need indicators.

Each write checks the access's policy, writes, and records the audit row in one
transaction (through backbone.core.services).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from backbone.core import services as core
from backbone.core.access import Access
from backbone.ecosystem.models import NeedIndicator, Pathway, PathwayEdge, PathwayStep


def pathway_create(*, access: Access, fields: dict, via: str = "web") -> Pathway:
    """A new pathway; an organization admin may only create one its organization owns."""
    return core.object_create(access=access, model=Pathway, fields=fields, via=via)


def pathway_update(*, access: Access, pathway: Pathway, fields: dict, via: str = "web") -> Pathway:
    owner = fields.get("owner_organization", pathway.owner_organization)
    if not access.is_admin and getattr(owner, "pk", None) != access.organization_id:
        raise ValidationError(
            {"owner_organization": "You may only keep pathways your organization owns."}
        )
    return core.object_update(access=access, instance=pathway, fields=fields, via=via)


@transaction.atomic
def pathway_delete(*, access: Access, pathway: Pathway, via: str = "web") -> None:
    access.require("delete", pathway)
    for step in access.scope(PathwayStep, "delete").filter(pathway=pathway):
        step_delete(access=access, step=step, via=via)
    core.object_delete(access=access, instance=pathway, via=via)


@transaction.atomic
def step_save(
    *,
    access: Access,
    pathway: Pathway,
    fields: dict,
    next_steps: list[PathwayStep],
    step: PathwayStep | None = None,
    via: str = "web",
) -> PathwayStep:
    """Create or change a step of PATHWAY and set its onward steps to NEXT_STEPS."""
    access.require("change", pathway)
    for target in next_steps:
        if target.pathway_id != pathway.pk or (step and target.pk == step.pk):
            raise ValidationError(
                {"next_steps": f"“{target}” is not another step of this pathway."}
            )
    if step is None:
        step = core.object_create(
            access=access, model=PathwayStep, fields={**fields, "pathway": pathway}, via=via
        )
    else:
        step = core.object_update(access=access, instance=step, fields=fields, via=via)
    wanted = {t.pk for t in next_steps}
    current = {e.to_step_id: e for e in access.scope(PathwayEdge).filter(from_step=step)}
    for target_id, edge in current.items():
        if target_id not in wanted:
            core.object_delete(access=access, instance=edge, via=via)
    for target in next_steps:
        if target.pk not in current:
            core.object_create(
                access=access,
                model=PathwayEdge,
                fields={"pathway": pathway, "from_step": step, "to_step": target},
                via=via,
            )
    return step


@transaction.atomic
def step_delete(*, access: Access, step: PathwayStep, via: str = "web") -> None:
    """Delete STEP and, first, the edges into and out of it (each audited)."""
    access.require("delete", step)
    edges = access.scope(PathwayEdge).filter(from_step=step) | access.scope(PathwayEdge).filter(
        to_step=step
    )
    for edge in edges.distinct():
        core.object_delete(access=access, instance=edge, via=via)
    core.object_delete(access=access, instance=step, via=via)


def need_indicator_set(
    *, access: Access, category: str, life_stage, indicator, via: str = "web"
) -> NeedIndicator:
    """Map CATEGORY (× LIFE_STAGE) to INDICATOR, replacing an earlier mapping."""
    existing = (
        access.scope(NeedIndicator, "change")
        .filter(category=category, life_stage=life_stage)
        .first()
    )
    if existing:
        return core.object_update(
            access=access, instance=existing, fields={"indicator": indicator}, via=via
        )
    return core.object_create(
        access=access,
        model=NeedIndicator,
        fields={"category": category, "life_stage": life_stage, "indicator": indicator},
        via=via,
    )
