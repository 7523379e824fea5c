"""Reads for the core pages. Each takes the access and returns scoped data."""

from __future__ import annotations

from django.db.models import Count, Q

from backbone.core.access import Access
from backbone.core.models import AuditEvent, Membership, Sector


def partners_by_sector(access: Access) -> list[dict]:
    """How many active partners each sector has (an organization may be in several)."""
    active = access.scope(Membership).filter(status=Membership.Status.ACTIVE)
    sectors = Sector.objects.annotate(
        count=Count(
            "organizations",
            filter=Q(organizations__in=active.values("organization_id")),
            distinct=True,
        )
    ).filter(count__gt=0)
    return [{"sector": sector, "count": sector.count} for sector in sectors]


def membership_counts(access: Access) -> dict[str, int]:
    # order_by() drops the default ordering, whose joins would enter the GROUP BY.
    rows = access.scope(Membership).order_by().values("status").annotate(n=Count("pk"))
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
