from __future__ import annotations

from django.db.models import Q, QuerySet

from backbone.core.access import Access
from backbone.core.models import Area, Membership, Organization
from backbone.partners.models import ProspectAssessment

PARTNER_FILTERS = ("q", "sector", "status", "role", "area")


def partner_list(access: Access, params) -> QuerySet[Membership]:
    """Memberships (with their organizations) matching the partner-list filters."""
    memberships = (
        access.scope(Membership)
        .select_related("organization")
        .prefetch_related("organization__sectors")
    )
    if query := (params.get("q") or "").strip():
        memberships = memberships.filter(
            Q(organization__name__icontains=query) | Q(organization__mission__icontains=query)
        )
    if sector := params.get("sector"):
        # A subquery, not a join, so that no row comes twice and no DISTINCT is needed.
        memberships = memberships.filter(
            organization__in=Organization.objects.filter(sectors__code=sector)
        )
    if (status := params.get("status")) in Membership.Status.values:
        memberships = memberships.filter(status=status)
    if (role := params.get("role")) in Membership.Role.values:
        memberships = memberships.filter(role=role)
    if area := params.get("area"):
        areas = access.scope(Area).filter(code=area)
        memberships = memberships.filter(
            organization__in=Organization.objects.filter(areas_served__in=areas)
        )
    return memberships.order_by("organization__name")


def stakeholder_matrix(access: Access) -> list[list[dict]]:
    """A 5×5 grid (influence rows from 5 down to 1, alignment columns 1 to 5) of the
    latest assessment of each organization."""
    latest: dict[int, ProspectAssessment] = {}
    for assessment in access.scope(ProspectAssessment).select_related("organization"):
        latest.setdefault(assessment.organization_id, assessment)  # ordered newest first
    grid = [
        [{"influence": i, "alignment": a, "items": []} for a in range(1, 6)]
        for i in range(5, 0, -1)
    ]
    for assessment in latest.values():
        grid[5 - assessment.influence][assessment.alignment - 1]["items"].append(assessment)
    return grid


def organization_membership(access: Access, organization: Organization) -> Membership:
    return access.scope(Membership).get(organization=organization)
