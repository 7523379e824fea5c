"""The de-identified referral export for evaluators: one CSV row per referral.

No names, dates of birth, contact details or free text (reasons, notes, messages) leave
the system. A person is a pseudonymous key, an HMAC of their id under a per-network
secret (per organization for an organization admin's export), so the same person has
the same key in every export of the same audience and cannot be traced back without the
server's secret. Quasi-identifiers are coarsened: the birth year to a five-year band,
the area to its county, dates to the day; and where the combination of birth-year band,
county and demographic categories is shared by fewer than k people of the export (k is
the framework's small-cell threshold), the demographics are written `suppressed`, and if
the band and county alone are still shared by fewer than k, those too.

Rows are produced by a generator reading the database in chunks, so an export of
millions of referrals streams in constant memory.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from backbone.core.access import NETWORK_ADMIN, ORG_ADMIN, Access, dangerously_unscoped
from backbone.core.audit import record
from backbone.core.models import Area, AuditEvent, Membership, Organization
from backbone.directory.models import Service
from backbone.ecosystem.models import Pathway, PathwayStep
from backbone.measurement.models import Dimension
from backbone.referrals.crypto import _derived_key
from backbone.referrals.models import Person, Referral

SUPPRESSED = "suppressed"
CHUNK = 5000
# The age bands of the cradle-to-career framework's age dimension.
AGE_BANDS = [(0, 4, "0-4"), (5, 10, "5-10"), (11, 14, "11-14"), (15, 18, "15-18")]
AGE_BANDS += [(19, 24, "19-24"), (25, 200, "25-plus")]
LEADING_COLUMNS = ["person_key", "referral_key", "forwarded_from_key"]
QUASI_COLUMNS = ["birth_year_band", "age_band", "county"]
REFERRAL_COLUMNS = [
    "from_organization",
    "to_organization",
    "self_referral",
    "service",
    "service_name",
    "pathway",
    "pathway_step",
    "status",
    "decline_reason",
    "outcome",
    "sent_on",
    "responded_on",
    "started_on",
    "closed_on",
]
# Without the network's demographic dimensions, which come between the two.
EXPORT_COLUMNS = [*LEADING_COLUMNS, *QUASI_COLUMNS, *REFERRAL_COLUMNS]


def may_export(access: Access) -> int | None:
    """The organization whose referrals ACCESS may export (None: the whole network).

    Network admins export the whole network (the evaluator's file); organization admins
    the referrals their organization sent or received; everyone else is refused."""
    if access.role == NETWORK_ADMIN:
        return None
    if access.role == ORG_ADMIN and access.organization_id:
        return access.organization_id
    if not access.is_member:
        raise Http404("No page found.")
    raise PermissionDenied(
        "Only network admins and organization admins may export referrals for evaluation."
    )


def pseudonym_key(network_id: int, organization_id: int | None = None) -> bytes:
    """The secret of one audience's exports: the network's evaluators, or one organization."""
    secret = getattr(settings, "BACKBONE_PSEUDONYM_KEY", "") or _derived_key("pseudonym").decode()
    audience = f"org{organization_id}" if organization_id else "network"
    return hashlib.sha256(f"{secret}:{network_id}:{audience}".encode()).digest()


def pseudonym(network_id: int, kind: str, pk: int, organization_id: int | None = None) -> str:
    """A stable, non-reversible key for row PK of KIND ("person", "referral") in exports of
    this network (or of one organization's export): an HMAC-SHA256 under a secret derived
    from BACKBONE_PSEUDONYM_KEY (else SECRET_KEY), the network and the audience."""
    return _keyed(pseudonym_key(network_id, organization_id), kind, pk)


def _keyed(key: bytes, kind: str, pk: int) -> str:
    return hmac.digest(key, f"{kind}:{pk}".encode(), "sha256").hex()[:20]


def _scope(access: Access, organization_id: int | None):
    # Network admins see de-identified data of the whole network (issue 5, access), which
    # the referral policy (rows of the sending and receiving organizations) does not give.
    referrals = dangerously_unscoped(Referral).filter(network=access.network)
    if organization_id is not None:
        referrals = referrals.filter(
            Q(from_organization_id=organization_id) | Q(to_organization_id=organization_id)
        )
    return referrals


def _dimensions(network) -> list[str]:
    return list(
        Dimension.objects.filter(network=network, kind=Dimension.Kind.CATEGORICAL)
        .exclude(code="age-band")
        .order_by("position", "code")
        .values_list("code", flat=True)
    )


def _counties(network) -> dict[int, str]:
    """Area id -> the code of its county (itself when it is a county or larger)."""
    areas = {
        pk: (code, kind, parent)
        for pk, code, kind, parent in Area.objects.filter(network=network).values_list(
            "pk", "code", "kind", "parent_id"
        )
    }
    above = {Area.Kind.STATE, Area.Kind.COUNTY}
    counties = {}
    for pk, (code, kind, _parent) in areas.items():
        found, current, hops = code, pk, 0
        while current is not None and hops < 20:
            current_code, current_kind, parent = areas[current]
            if current_kind in above:
                found = current_code
                break
            current, hops = parent, hops + 1
        else:
            found = code if kind in above else ""
        counties[pk] = found
    return counties


def _band(year: int | None) -> str:
    if not year:
        return ""
    start = year - year % 5
    return f"{start}-{start + 4}"


def _age_band(birth_year: int | None, year: int) -> str:
    if not birth_year:
        return ""
    age = year - birth_year
    for low, high, code in AGE_BANDS:
        if low <= age <= high:
            return code
    return ""


def _day(value, zone) -> str:
    return value.astimezone(zone).date().isoformat() if value else ""


def _suppression_k(network) -> int:
    from backbone.insights.public.selectors import suppression_k

    return suppression_k(network)


def export_rows(access: Access, *, via: str = "web") -> Iterator[list[str]]:
    """The header, then one row per referral ACCESS may export (see `may_export`). The
    access is checked and the export recorded in the audit log at once; the rows are read
    as they are consumed."""
    organization_id = may_export(access)
    referrals = _scope(access, organization_id)
    record(
        actor=access.actor,
        action=AuditEvent.Action.CREATE,
        obj=access.network,
        network=access.network,
        object_id="referrals-export",
        after={
            "export": "de-identified referrals",
            "organization": organization_id,
            "referrals": referrals.count(),
        },
        via=via,
    )
    return _rows(access.network, referrals, organization_id)


def _rows(network, referrals, organization_id: int | None) -> Iterator[list[str]]:
    dimensions = _dimensions(network)
    counties = _counties(network)
    k = _suppression_k(network)

    def quasi(birth_year, area_id, demographics) -> tuple:
        demographics = demographics or {}
        return (
            _band(birth_year),
            counties.get(area_id, ""),
            *(demographics.get(code, "") for code in dimensions),
        )

    people = Counter()
    coarse = Counter()
    rows = (
        Person.objects.filter(pk__in=referrals.values("person_id"))
        .values_list("birth_year", "area_id", "demographics")
        .iterator(chunk_size=CHUNK)
    )
    for birth_year, area_id, demographics in rows:
        key = quasi(birth_year, area_id, demographics)
        people[key] += 1
        coarse[key[:2]] += 1

    organizations = dict(
        Membership.objects.filter(network=network).values_list(
            "organization_id", "organization__slug"
        )
    )
    services = {
        pk: (str(hsds_id), name or "")
        for pk, hsds_id, name in Service.objects.filter(network=network).values_list(
            "pk", "hsds_id", "name"
        )
    }
    pathways = dict(Pathway.objects.filter(network=network).values_list("pk", "name"))
    steps = dict(PathwayStep.objects.filter(network=network).values_list("pk", "name"))
    blank_demographics = [SUPPRESSED] * len(dimensions)
    secret = pseudonym_key(network.pk, organization_id)
    zone = timezone.get_current_timezone()

    def slug(organization: int | None) -> str:
        if organization is None:
            return ""
        if organization not in organizations:
            # A former partner: its slug still names it.
            organizations[organization] = Organization.objects.filter(pk=organization).values_list(
                "slug", flat=True
            ).first() or str(organization)
        return organizations[organization]

    yield [*LEADING_COLUMNS, *QUASI_COLUMNS, *dimensions, *REFERRAL_COLUMNS]
    fields = (
        "pk",
        "person_id",
        "forwarded_from_id",
        "person__birth_year",
        "person__area_id",
        "person__demographics",
        "from_organization_id",
        "to_organization_id",
        "to_service_id",
        "pathway_id",
        "pathway_step_id",
        "status",
        "decline_reason",
        "outcome",
        "sent_at",
        "responded_at",
        "started_at",
        "closed_at",
    )
    stream = referrals.order_by("pk").values_list(*fields).iterator(chunk_size=CHUNK)
    for (
        pk,
        person_id,
        forwarded_from_id,
        birth_year,
        area_id,
        demographics,
        from_id,
        to_id,
        service_id,
        pathway_id,
        step_id,
        status,
        decline_reason,
        outcome,
        sent_at,
        responded_at,
        started_at,
        closed_at,
    ) in stream:
        key = quasi(birth_year, area_id, demographics)
        sent_on = sent_at.astimezone(zone).date()
        if people[key] >= k:
            band, county, *groups = key
            age = _age_band(birth_year, sent_on.year)
        elif coarse[key[:2]] >= k:
            band, county, groups = key[0], key[1], blank_demographics
            age = _age_band(birth_year, sent_on.year)
        else:
            band = age = county = SUPPRESSED
            groups = blank_demographics
        service = services.get(service_id, ("", ""))
        yield [
            _keyed(secret, "person", person_id),
            _keyed(secret, "referral", pk),
            _keyed(secret, "referral", forwarded_from_id) if forwarded_from_id else "",
            band,
            age,
            county,
            *groups,
            slug(from_id),
            slug(to_id),
            "yes" if from_id is None else "no",
            service[0],
            service[1],
            pathways.get(pathway_id, ""),
            steps.get(step_id, ""),
            status,
            decline_reason,
            outcome,
            sent_on.isoformat(),
            _day(responded_at, zone),
            _day(started_at, zone),
            _day(closed_at, zone),
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    """Each row as one CSV line (for a StreamingHttpResponse)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    for row in rows:
        yield writer.writerow(row)


def export_referrals(network, path, *, as_email: str | None = None) -> int:
    """`backbone referrals export`: write the network's de-identified referrals to PATH as
    its first network admin (or AS_EMAIL); returns the number of referrals written."""
    access = command_access(network, as_email)
    count = -1
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        for row in export_rows(access, via="command"):
            writer.writerow(row)
            count += 1
    return count


def command_access(network, as_email: str | None = None) -> Access:
    """The access of a network admin of NETWORK (a Network or its slug) for the commands."""
    from backbone.core.management.import_command import ImportCommand

    slug = network if isinstance(network, str) else network.slug
    return ImportCommand().access(slug, as_email)
