"""Publishing writes, by network admins: which indicators are public, the suppression
threshold k, and the story behind the curve of each result and year."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from backbone.core import audit
from backbone.core.access import Access
from backbone.core.models import AuditEvent
from backbone.measurement.models import Framework, Indicator, Result, ResultNarrative

K_MIN, K_MAX = 2, 100
YEAR_MIN, YEAR_MAX = 1990, 2100


def framework_for(network) -> Framework | None:
    """The network's framework settings row, if it has one yet."""
    return Framework.objects.filter(network=network).first()


@transaction.atomic
def publishing_update(*, access: Access, public_codes: list[str], k: int) -> None:
    """Make exactly the indicators with PUBLIC_CODES public and set the threshold k."""
    access.require_allowed(Indicator, "change", "Only network admins choose what is public.")
    if isinstance(k, bool) or not isinstance(k, int) or not K_MIN <= k <= K_MAX:
        raise ValidationError({"k": f"k must be a whole number from {K_MIN} to {K_MAX}."})
    indicators = {ind.code: ind for ind in access.scope(Indicator, "change")}
    unknown = sorted(set(public_codes) - set(indicators))
    if unknown:
        raise ValidationError(
            {"public": f"No indicator with the code {', '.join(unknown)} in this network."}
        )
    framework = framework_for(access.network)
    if framework is None:
        framework = Framework.objects.create(network=access.network, suppression_k=k)
        audit.record_for(
            access, action=AuditEvent.Action.CREATE, obj=framework, after=audit.snapshot(framework)
        )
    else:
        access.require("change", framework)
        before = audit.snapshot(framework)
        framework.suppression_k = k
        framework.save(update_fields=["suppression_k"])
        audit.record_for(
            access,
            action=AuditEvent.Action.UPDATE,
            obj=framework,
            before=before,
            after=audit.snapshot(framework),
        )
    for code, indicator in indicators.items():
        wanted = code in public_codes
        if indicator.is_public != wanted:
            before = audit.snapshot(indicator)
            indicator.is_public = wanted
            indicator.save(update_fields=["is_public"])
            audit.record_for(
                access,
                action=AuditEvent.Action.UPDATE,
                obj=indicator,
                before=before,
                after=audit.snapshot(indicator),
            )


@transaction.atomic
def narrative_save(
    *,
    access: Access,
    result: Result,
    year: int,
    story: str,
    partners: str = "",
    what_works: str = "",
    action_plan: str = "",
) -> ResultNarrative:
    """Create or change the story behind the curve of RESULT for YEAR."""
    access.require_allowed(ResultNarrative, "change")
    access.require("view", result)
    errors = {}
    if not YEAR_MIN <= year <= YEAR_MAX:
        errors["year"] = f"The year must be from {YEAR_MIN} to {YEAR_MAX}."
    if not story.strip():
        errors["story"] = f"Write the story behind the curve of “{result.name}”."
    if errors:
        raise ValidationError(errors)
    fields = {
        "story": story.strip(),
        "partners": partners.strip(),
        "what_works": what_works.strip(),
        "action_plan": action_plan.strip(),
    }
    narrative = ResultNarrative.objects.filter(result=result, year=year).first()
    if narrative is None:
        narrative = ResultNarrative.objects.create(
            network=access.network, result=result, year=year, updated_by=access.actor, **fields
        )
        audit.record_for(
            access, action=AuditEvent.Action.CREATE, obj=narrative, after=audit.snapshot(narrative)
        )
        return narrative
    access.require("change", narrative)
    before = audit.snapshot(narrative)
    for name, value in fields.items():
        setattr(narrative, name, value)
    if audit.snapshot(narrative) != before:
        narrative.updated_by = access.actor
        narrative.save()
        audit.record_for(
            access,
            action=AuditEvent.Action.UPDATE,
            obj=narrative,
            before=before,
            after=audit.snapshot(narrative),
        )
    return narrative
