"""Reads for the core pages. Each takes the access and returns scoped data."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Prefetch

from backbone.core.access import Access
from backbone.core.models import AuditEvent, Membership, Organization, Sector


def partners_by_sector(access: Access) -> list[dict]:
    """Active partner organizations grouped by sector (an organization may be in several)."""
    memberships = access.scope(Membership).filter(status=Membership.Status.ACTIVE)
    organizations = (
        access.scope(Organization)
        .filter(pk__in=memberships.values("organization_id"))
        .prefetch_related(Prefetch("sectors", queryset=Sector.objects.only("pk")))
        .only("pk", "name", "slug")
    )
    groups: dict[int, list] = defaultdict(list)
    for organization in organizations:
        for sector in organization.sectors.all():
            groups[sector.pk].append(organization)
    return [
        {"sector": sector, "organizations": groups[sector.pk], "count": len(groups[sector.pk])}
        for sector in Sector.objects.all()
        if groups[sector.pk]
    ]


def membership_counts(access: Access) -> dict[str, int]:
    rows = access.scope(Membership).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def recent_activity(access: Access, limit: int = 8) -> list[dict]:
    """What changed lately, in plain words, limited to what this access may see."""
    items = []
    joined = (
        access.scope(Membership)
        .filter(status=Membership.Status.ACTIVE, joined_on__isnull=False)
        .select_related("organization")
        .order_by("-joined_on")[:limit]
    )
    for membership in joined:
        items.append(
            {
                "when": membership.joined_on,
                "text": f"{membership.organization.name} joined as "
                f"{membership.get_role_display().lower()}",
                "organization": membership.organization,
            }
        )
    if access.allows(AuditEvent):
        for event in access.scope(AuditEvent).select_related("actor")[:limit]:
            items.append(
                {
                    "when": event.created_at.date(),
                    "text": f"{event.actor_email or 'System'} "
                    f"{event.get_action_display().lower()} "
                    f"{event.object_type.split('.')[-1]} “{event.object_repr}”",
                }
            )
    items.sort(key=lambda item: item["when"], reverse=True)
    return items[:limit]
