"""Reads behind the HSDS 3.0 API: pages of directory rows in the official shapes.

Every query starts from `access.scope(Model)`. A page loads its rows and then, table by
table, only the rows that nest under them, so a page costs the same number of queries
whatever its size. The JSON shapes come from the exporter's `Nester`, so the API and
the export agree on what a service looks like.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, Q, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.dateparse import parse_date, parse_datetime

from backbone.core.access import Access
from backbone.directory.hsds.exporter import JSON_CHILDREN, Nester
from backbone.directory.hsds.store import flat_rows
from backbone.directory.models import (
    HSDS_MODELS,
    MODEL_FOR_TABLE,
    Attribute,
    DirectoryOrganization,
    Location,
    Metadata,
    Program,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from backbone.directory.search import full_text_filter

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 50
MAX_PAGE = 1_000_000


class BadQuery(ValueError):
    """A query parameter the API cannot use; the message says which."""


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def parse(cls, params) -> PageRequest:
        page = _integer(params, "page", 1)
        per_page = _integer(params, "per_page", DEFAULT_PER_PAGE)
        if not 1 <= page <= MAX_PAGE:
            raise BadQuery(f"page must be between 1 and {MAX_PAGE}.")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise BadQuery(f"per_page must be between 1 and {MAX_PER_PAGE}.")
        return cls(page, per_page)


def _integer(params, name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise BadQuery(f"{name} must be an integer.") from None


def flag(params, name: str) -> bool:
    value = (params.get(name) or "").lower()
    if value in ("", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes"):
        return True
    raise BadQuery(f"{name} must be true or false.")


def hsds_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def paginate(queryset, request: PageRequest):
    """(total, primary keys of the page) for an ordered QUERYSET."""
    total = queryset.count()
    start = (request.page - 1) * request.per_page
    return total, list(queryset.values_list("pk", flat=True)[start : start + request.per_page])


def envelope(total: int, request: PageRequest, contents: list) -> dict:
    """The official `Page` object around CONTENTS."""
    total_pages = math.ceil(total / request.per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": request.page,
        "size": len(contents),
        "first_page": request.page == 1,
        "last_page": request.page >= total_pages,
        "empty": total == 0,
        "contents": contents,
    }


# Filters ---------------------------------------------------------------------------------


def _search(queryset, params, *fields: str):
    text = (params.get("search") or "").strip()
    if not text:
        return queryset
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": text})
    return queryset.filter(condition)


def _linked_ids(access: Access, entity: str, terms) -> list[uuid.UUID]:
    """HSDS ids of ENTITY rows that carry any of the taxonomy TERMS as attributes.

    As in the export, an attribute whose `link_entity` names no table counts too."""
    links = (
        access.scope(Attribute)
        .filter(taxonomy_term__in=terms)
        .exclude(link_entity__in=[table for table in MODEL_FOR_TABLE if table != entity])
        .values_list("link_id", flat=True)
    )
    return [u for u in (hsds_uuid(link) for link in links) if u]


def _modified_ids(access: Access, table: str, params) -> list[uuid.UUID] | None:
    """HSDS ids of TABLE rows with a change-log entry on or after `modified_after`."""
    value = (params.get("modified_after") or "").strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value) or parse_date(value)
    except ValueError:
        moment = None
    if moment is None:
        raise BadQuery("modified_after must be an ISO 8601 date or datetime.")
    day = moment.date().isoformat() if hasattr(moment, "date") else moment.isoformat()
    # The change log records days (`last_action_date`), so the whole day counts.
    changed = (
        access.scope(Metadata)
        .filter(resource_type=table)
        .annotate(day=_change_day())
        .filter(day__gte=day)
        .values_list("resource_id", flat=True)
    )
    return [u for u in (hsds_uuid(r) for r in changed) if u]


def _change_day():
    # A plain text column, so comparisons are on text (JSON key lookups would decode it).
    return Cast(KT("data__last_action_date"), output_field=TextField())


def _term_filters(access: Access, entity: str, params) -> list[uuid.UUID] | None:
    term = params.get("taxonomy_term_id")
    taxonomy = params.get("taxonomy_id")
    if not term and not taxonomy:
        return None
    terms = access.scope(TaxonomyTerm)
    if term:
        terms = terms.filter(hsds_id=hsds_uuid(term)) if hsds_uuid(term) else terms.none()
    if taxonomy:
        found = hsds_uuid(taxonomy)
        terms = terms.filter(taxonomy__hsds_id=found) if found else terms.none()
    return _linked_ids(access, entity, terms)


def services_matching(access: Access, params):
    services = access.scope(Service).filter(full_text_filter(access, params.get("search")))
    organization = params.get("organization_id")
    if organization:
        found = hsds_uuid(organization)
        services = services.filter(organization__hsds_id=found) if found else services.none()
    for ids in (
        _term_filters(access, "service", params),
        _modified_ids(access, "service", params),
    ):
        if ids is not None:
            services = services.filter(hsds_id__in=ids)
    return services.order_by("name", "hsds_id")


def service_at_locations_matching(access: Access, params):
    links = access.scope(ServiceAtLocation)
    text = (params.get("search") or "").strip()
    if text:
        matching = access.scope(Service).filter(full_text_filter(access, text))
        links = links.filter(
            Q(service__in=matching.values("pk")) | Q(location__name__icontains=text)
        )
    organization = params.get("organization_id")
    if organization:
        found = hsds_uuid(organization)
        links = links.filter(service__organization__hsds_id=found) if found else links.none()
    terms = _term_filters(access, "service", params)
    if terms is not None:
        links = links.filter(service__hsds_id__in=terms)
    modified = _modified_ids(access, "service_at_location", params)
    if modified is not None:
        links = links.filter(hsds_id__in=modified)
    return links.order_by("service__name", "hsds_id")


def organizations_matching(access: Access, params):
    return _search(
        access.scope(DirectoryOrganization), params, "name", "data__description"
    ).order_by("name", "hsds_id")


def taxonomies_matching(access: Access, params):
    return _search(access.scope(Taxonomy), params, "name", "data__description").order_by(
        "name", "hsds_id"
    )


def taxonomy_terms_matching(access: Access, params):
    terms = _search(access.scope(TaxonomyTerm), params, "name", "code", "data__description")
    taxonomy = params.get("taxonomy_id")
    if taxonomy:
        found = hsds_uuid(taxonomy)
        terms = terms.filter(taxonomy__hsds_id=found) if found else terms.none()
    parent = params.get("parent_id")
    if parent:
        terms = terms.filter(parent_id=parent)
    if flag(params, "top_only"):
        terms = terms.filter(Q(parent_id__isnull=True) | Q(parent_id=""))
    return terms.order_by("name", "hsds_id")


# Shapes ----------------------------------------------------------------------------------


class Loaded:
    """Flat HSDS records of some rows and of what nests under them, for the `Nester`."""

    def __init__(self, access: Access):
        self.access = access
        self.records: dict[str, dict[str, dict]] = {m.hsds_table: {} for m in HSDS_MODELS}

    def add(self, model, queryset) -> list[dict]:
        rows = [record for _, record in flat_rows(queryset).values()]
        for record in rows:
            self.records[model.hsds_table][record["id"]] = record
        return rows

    def rows(self, model, **lookup) -> list[dict]:
        return self.add(model, self.access.scope(model).filter(**lookup))

    def children(self, table: str, records: list[dict]) -> None:
        """Load everything that nests under RECORDS of TABLE, level by level."""
        level = {table: [r["id"] for r in records]}
        while level:
            following: dict[str, list[str]] = defaultdict(list)
            for parent, ids in level.items():
                for child_table, parent_key in JSON_CHILDREN.get(parent, {}).values():
                    model = MODEL_FOR_TABLE[child_table]
                    field = model.hsds_links[parent_key]
                    found = self.rows(model, **{f"{field}__hsds_id__in": ids})
                    following[child_table] += [r["id"] for r in found]
            level = {t: ids for t, ids in following.items() if ids and t in JSON_CHILDREN}

    def one(self, model, records: list[dict], key: str) -> list[dict]:
        ids = {hsds_uuid(r.get(key)) for r in records} - {None}
        return self.rows(model, hsds_id__in=ids) if ids else []

    def nester(self) -> Nester:
        """The Nester, after loading the attributes and change log of every loaded row."""
        ids = {i for rows in self.records.values() for i in rows}
        attributes = self.rows(Attribute, link_id__in=ids)
        terms = self.one(TaxonomyTerm, attributes, "taxonomy_term_id")
        self.one(Taxonomy, terms, "taxonomy_id")
        self.rows(Metadata, resource_id__in=ids)
        return Nester({table: list(rows.values()) for table, rows in self.records.items()})


def _flat(records: dict[str, dict], record: dict, key: str) -> dict | None:
    return records.get(record.get(key, ""))


def services_shaped(access: Access, services, *, full: bool) -> list[dict]:
    """Services as `service_list` records, or as full `service` records when FULL."""
    loaded = Loaded(access)
    rows = loaded.add(Service, services)
    loaded.one(DirectoryOrganization, rows, "organization_id")
    loaded.one(Program, rows, "program_id")
    if not full:
        out = []
        for record in rows:
            item = dict(record)
            for key, table in (("organization", "organization"), ("program", "program")):
                linked = _flat(loaded.records[table], record, f"{key}_id")
                if linked:
                    item[key] = dict(linked)
            out.append(item)
        return out
    loaded.children("service", rows)
    locations = loaded.one(
        Location, list(loaded.records["service_at_location"].values()), "location_id"
    )
    loaded.children("location", locations)
    nester = loaded.nester()
    return [nester.service(record) for record in rows]


def services_minimal(access: Access, services) -> list[dict]:
    """Services as `id` and `modified_date` (the day of their latest change-log entry)."""
    ids = list(services.values_list("hsds_id", flat=True))
    latest = dict(
        access.scope(Metadata)
        .filter(resource_type="service", resource_id__in=[str(i) for i in ids])
        .values("resource_id")
        .annotate(latest=Max(_change_day()))
        .values_list("resource_id", "latest")
    )
    out = []
    for hsds_id in ids:
        item = {"id": str(hsds_id)}
        if latest.get(str(hsds_id)):
            item["modified_date"] = latest[str(hsds_id)]
        out.append(item)
    return out


def service_at_locations_shaped(access: Access, links, *, full: bool) -> list[dict]:
    """`service_at_location_list` records, or nested service_at_location when FULL."""
    loaded = Loaded(access)
    rows = loaded.add(ServiceAtLocation, links)
    services = loaded.one(Service, rows, "service_id")
    locations = loaded.one(Location, rows, "location_id")
    if not full:
        out = []
        for record in rows:
            item = dict(record)
            for key in ("service", "location"):
                linked = _flat(loaded.records[key], record, f"{key}_id")
                if linked:
                    item[key] = dict(linked)
            out.append(item)
        return out
    loaded.children("service_at_location", rows)
    loaded.children("location", locations)
    loaded.one(DirectoryOrganization, services, "organization_id")
    nester = loaded.nester()
    out = []
    for record in rows:
        item = nester.nest("service_at_location", record)
        service = _flat(nester.by_id["service"], record, "service_id")
        if service:
            item["service"] = nester.nest("service", service)
        location = _flat(nester.by_id["location"], record, "location_id")
        if location:
            item["location"] = nester.nest("location", location)
        out.append(item)
    return out


def organizations_shaped(
    access: Access, organizations, *, full: bool, full_service: bool = False
) -> list[dict]:
    """`organization_list` records, or nested `organization` records when FULL.

    A nested organization lists its services as flat records, or fully nested ones
    with FULL_SERVICE."""
    loaded = Loaded(access)
    rows = loaded.add(DirectoryOrganization, organizations)
    if not full:
        return [dict(record) for record in rows]
    loaded.children("organization", rows)
    services = loaded.rows(Service, organization__hsds_id__in=[r["id"] for r in rows])
    if full_service:
        loaded.one(Program, services, "program_id")
        loaded.children("service", services)
        sal = list(loaded.records["service_at_location"].values())
        loaded.children("location", loaded.one(Location, sal, "location_id"))
    nester = loaded.nester()
    out = []
    for record in rows:
        item = nester.nest("organization", record)
        mine = [s for s in services if s.get("organization_id") == record["id"]]
        item["services"] = [nester.service(s) if full_service else dict(s) for s in mine]
        out.append(item)
    return out


def taxonomies_shaped(access: Access, taxonomies) -> list[dict]:
    loaded = Loaded(access)
    rows = loaded.add(Taxonomy, taxonomies)
    loaded.rows(Metadata, resource_id__in=[r["id"] for r in rows])
    nester = Nester({table: list(r.values()) for table, r in loaded.records.items()})
    return [
        {
            **record,
            "metadata": [dict(m) for m in nester.metadata.get(("taxonomy", record["id"]), [])],
        }
        for record in rows
    ]


def taxonomy_terms_shaped(access: Access, terms) -> list[dict]:
    """Taxonomy terms with their taxonomy as `taxonomy_detail`, as the raw schema has it."""
    loaded = Loaded(access)
    rows = loaded.add(TaxonomyTerm, terms)
    loaded.one(Taxonomy, rows, "taxonomy_id")
    loaded.rows(Metadata, resource_id__in=[r["id"] for r in rows])
    nester = Nester({table: list(r.values()) for table, r in loaded.records.items()})
    out = []
    for record in rows:
        item = dict(record)
        taxonomy = _flat(loaded.records["taxonomy"], record, "taxonomy_id")
        if taxonomy:
            item["taxonomy_detail"] = dict(taxonomy)
        item["metadata"] = [
            dict(m) for m in nester.metadata.get(("taxonomy_term", record["id"]), [])
        ]
        out.append(item)
    return out
