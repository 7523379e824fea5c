"""Reads for the directory pages: a service with everything its page shows, and the
choices of the search filters. Every read starts from `access.scope`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Q

from backbone.core.access import Access
from backbone.core.models import Area, LifeStage
from backbone.directory.models import (
    MODEL_FOR_TABLE,
    Address,
    Attribute,
    CostOption,
    Language,
    Phone,
    RequiredDocument,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceFacet,
    ServiceSearch,
    TaxonomyTerm,
)
from backbone.directory.search import WEEKDAYS, is_stale, schedule_time, weekly_openings

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FACET_CACHE_SECONDS = 300
AREA_KINDS = ("state", "county", "city", "school_district", "neighborhood")


@dataclass
class Place:
    name: str
    addresses: list[str]
    latitude: float | None
    longitude: float | None
    phones: list[str] = field(default_factory=list)
    hours: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


@dataclass
class ServiceDetails:
    service: Service
    categories: list[str]
    places: list[Place]
    phones: list[str]
    hours: list[str]
    schedule_notes: list[str]
    languages: list[str]
    costs: list[str]
    documents: list[str]
    capacities: list
    verified_on: object
    stale: bool


def _address(data: dict) -> str:
    parts = [data.get("address_1"), data.get("address_2"), data.get("city")]
    region = " ".join(p for p in (data.get("state_province"), data.get("postal_code")) if p)
    return ", ".join(str(p) for p in (*parts, region) if p)


def _phone(data: dict) -> str:
    number = str(data.get("number") or "").strip('"')
    extension = data.get("extension")
    return f"{number} ext. {extension}" if extension else number


def _hours(data: dict) -> list[str]:
    """A weekly schedule as one line: "Monday, Wednesday 09:00–17:00"."""
    if not weekly_openings(data):
        return []
    days = [d.strip().upper() for d in str(data.get("byday") or "").split(",")]
    names = [DAY_NAMES[WEEKDAYS.index(d)] for d in days if d in WEEKDAYS]
    when = "Every day" if len(set(names)) == 7 else ", ".join(names)
    opens, closes = schedule_time(data.get("opens_at")), schedule_time(data.get("closes_at"))
    overnight = " (overnight)" if closes < opens else ""
    return [f"{when} {opens:%H:%M}–{closes:%H:%M}{overnight}"]


def _language(data: dict) -> str:
    return str(data.get("name") or data.get("code") or "")


def service_details(access: Access, service: Service) -> ServiceDetails:
    """Everything the service page shows about SERVICE (already fetched through ACCESS)."""
    links = list(
        access.scope(ServiceAtLocation)
        .filter(service=service)
        .select_related("location")
        .order_by("location__name")
    )
    location_ids = [link.location_id for link in links if link.location_id]
    link_ids = [link.pk for link in links]
    addresses: dict[int, list[str]] = {}
    for location_id, data in (
        access.scope(Address)
        .filter(location_id__in=location_ids)
        .values_list("location_id", "data")
    ):
        addresses.setdefault(location_id, []).append(_address(data))
    phones = access.scope(Phone).filter(
        Q(service=service)
        | Q(location_id__in=location_ids)
        | Q(service_at_location_id__in=link_ids)
    )
    schedules = access.scope(Schedule).filter(
        Q(service=service)
        | Q(location_id__in=location_ids)
        | Q(service_at_location_id__in=link_ids)
    )
    languages = access.scope(Language).filter(Q(service=service) | Q(location_id__in=location_ids))
    places = []
    for link in links:
        location = link.location
        if location is None:
            continue
        data = location.data
        places.append(
            Place(
                name=location.name or "",
                addresses=addresses.get(location.pk, []),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                phones=[_phone(p.data) for p in phones if p.location_id == location.pk],
                hours=[
                    h for s in schedules if s.location_id == location.pk for h in _hours(s.data)
                ],
                languages=[_language(x.data) for x in languages if x.location_id == location.pk],
            )
        )
    term_ids = (
        access.scope(Attribute)
        .filter(link_id=str(service.hsds_id))
        .exclude(link_entity__in=[t for t in MODEL_FOR_TABLE if t != "service"])
        .values("taxonomy_term")
    )
    categories = list(
        access.scope(TaxonomyTerm)
        .filter(pk__in=term_ids)
        .order_by("name")
        .values_list("name", flat=True)
    )
    entry = access.scope(ServiceSearch).filter(service=service).first()
    verified_on = entry.verified_on if entry else None
    return ServiceDetails(
        service=service,
        categories=[c for c in categories if c],
        places=places,
        phones=[_phone(p.data) for p in phones if p.location_id is None],
        hours=[h for s in schedules if s.location_id is None for h in _hours(s.data)],
        schedule_notes=[
            str(s.data.get("description")) for s in schedules if s.data.get("description")
        ],
        languages=[_language(x.data) for x in languages if x.service_id == service.pk],
        costs=[
            " ".join(
                str(p)
                for p in (
                    c.data.get("option"),
                    c.data.get("amount"),
                    (c.data.get("currency") or "").upper(),
                    c.data.get("amount_description"),
                )
                if p not in (None, "")
            )
            for c in access.scope(CostOption).filter(service=service)
        ],
        documents=[
            str(d.data.get("document"))
            for d in access.scope(RequiredDocument).filter(service=service)
            if d.data.get("document")
        ],
        capacities=list(service.capacities.all()),
        verified_on=verified_on,
        stale=is_stale(verified_on),
    )


def _facet_values(access: Access, prefix: str) -> list[str]:
    key = f"directory-facets:{access.network.pk}:{prefix}"
    found = cache.get(key)
    if found is None:
        tokens = (
            access.scope(ServiceFacet)
            .filter(token__startswith=f"{prefix}:")
            .values_list("token", flat=True)
            .distinct()
        )
        found = sorted(t[len(prefix) + 1 :] for t in tokens)
        cache.set(key, found, FACET_CACHE_SECONDS)
    return found


def filter_choices(access: Access) -> dict:
    """Choices of the search page's filters, from what the network's directory holds."""
    language_names = dict(
        (str(data.get("code") or "").lower(), data.get("name"))
        for data in access.scope(Language)
        .filter(service__isnull=False)
        .values_list("data", flat=True)[:500]
    )
    return {
        "categories": list(
            access.scope(TaxonomyTerm)
            .exclude(code__isnull=True)
            .exclude(code="")
            .order_by("code")
            .values_list("code", "name")
        ),
        "life_stages": list(access.scope(LifeStage).values_list("pk", "name")),
        "populations": _facet_values(access, "pop"),
        "languages": [
            (code, language_names.get(code) or code) for code in _facet_values(access, "lang")
        ],
        "areas": list(
            access.scope(Area)
            .filter(kind__in=AREA_KINDS)
            .order_by("name")
            .values_list("pk", "name")
        ),
    }


__all__ = ["WEEKDAYS", "filter_choices", "service_details"]
