"""Searching the directory: full text, filters, distance and opening hours.

`search_index_refresh` rebuilds the search rows of services (ServiceSearch, its points
and opening hours, and the full-text index) from the HSDS tables; every write path that
changes what a service says calls it. `search_services` is the one search used by the
web pages and the HSDS API.

Full text is FTS5 (porter stemming, bm25 ranking with the name weighted above the
organization and the description) on SQLite, and a weighted tsvector with a GIN index
and `websearch_to_tsquery` (ts_rank) on PostgreSQL.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.expressions import RawSQL
from django.utils import timezone

from backbone.core.access import Access
from backbone.core.bulk import bulk_insert
from backbone.core.models import Area
from backbone.directory.models import (
    MODEL_FOR_TABLE,
    Attribute,
    Language,
    Location,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceFacet,
    ServiceOpening,
    ServiceSearch,
    ServiceSearchPoint,
    TaxonomyTerm,
)

# SQLite: the network is a token of each FTS5 row (`net<id>`, weight 0 in bm25) that the
# MATCH requires, so FTS5 itself returns only the network's rows; `count(*) OVER ()` gives
# the total in the same pass (bm25 cannot sit in a window query, hence the subquery).
# `+rowid` keeps SQLite from driving the FTS5 table by a filter's ids (one MATCH per id,
# seconds at 25,000 services): the match runs once and each filter, materialized once,
# only checks its rows.
RANKED_SQL = (
    "SELECT rowid, r, count(*) OVER () FROM ("
    "SELECT rowid, bm25(directory_service_fts, 0.0, 10.0, 4.0, 1.0) AS r "
    "FROM directory_service_fts WHERE directory_service_fts MATCH %s{filters}"
    ") ORDER BY r, rowid"
)
EARTH_RADIUS_KM = 6371.0088
DEFAULT_RADIUS_KM = 25.0
MAX_PER_PAGE = 100
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?")
WORD_RE = re.compile(r"\w+", re.UNICODE)
CHUNK = 500


def stale_months() -> int:
    """Listings not verified for this many months are flagged stale (setting, default 12)."""
    return int(getattr(settings, "DIRECTORY_STALE_MONTHS", 12))


def stale_cutoff(today: datetime.date | None = None) -> datetime.date:
    """The day before which a verification is too old."""
    today = today or timezone.localdate()
    months = today.year * 12 + today.month - 1 - stale_months()
    year, month = divmod(months, 12)
    day = min(today.day, 28)
    return datetime.date(year, month + 1, day)


def is_stale(verified_on: datetime.date | None, today: datetime.date | None = None) -> bool:
    return verified_on is None or verified_on < stale_cutoff(today)


def token(value) -> str:
    """A facet value as one lower-case token without spaces."""
    return re.sub(r"\s+", "-", str(value).strip().lower())


# Building the index -----------------------------------------------------------------------


def schedule_time(value) -> datetime.time | None:
    match = TIME_RE.match(str(value or ""))
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime.time(hour, minute, second)


def weekly_openings(schedule: dict) -> list[tuple[int, datetime.time, datetime.time]]:
    """(weekday, opens, closes) of a weekly HSDS schedule; others give nothing.

    Hours past midnight (opens 20:00, closes 02:00) become two rows."""
    if (schedule.get("freq") or "WEEKLY").upper() != "WEEKLY":
        return []
    opens, closes = (
        schedule_time(schedule.get("opens_at")),
        schedule_time(schedule.get("closes_at")),
    )
    if opens is None or closes is None:
        return []
    days = [d.strip().upper() for d in str(schedule.get("byday") or "").split(",")]
    out = []
    for day in days:
        if day not in WEEKDAYS:
            continue
        weekday = WEEKDAYS.index(day)
        if closes > opens:
            out.append((weekday, opens, closes))
        elif closes < opens:
            out.append((weekday, opens, datetime.time(23, 59, 59)))
            out.append(((weekday + 1) % 7, datetime.time(0, 0), closes))
    return out


def _coordinate(data: dict) -> tuple[float, float] | None:
    try:
        lat, lon = float(data["latitude"]), float(data["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


def _term_tokens(term_ids: set[str], terms: dict[str, dict]) -> tuple[set[str], list[str]]:
    """Facet tokens (the term, its code and every ancestor) and names of TERM_IDS."""
    tokens, names = set(), []
    for term_id in term_ids:
        seen = set()
        current = terms.get(term_id)
        first = True
        while current and current["hsds_id"] not in seen:
            seen.add(current["hsds_id"])
            tokens.add(f"term:{current['hsds_id']}")
            if current["code"]:
                code = token(current["code"])
                tokens.add(f"term:{code}")
                parts = code.split(".")
                for i in range(1, len(parts)):
                    tokens.add(f"term:{'.'.join(parts[:i])}")
            if first and current["name"]:
                names.append(current["name"])
            first = False
            current = terms.get(str(current["parent_id"] or ""))
    return tokens, names


def _rows_for(network, service_ids):
    services = Service._default_manager.filter(network=network)
    if service_ids is not None:
        services = services.filter(pk__in=service_ids)
    return list(
        services.values(
            "pk",
            "hsds_id",
            "name",
            "data",
            "populations_served",
            "other_criteria",
            "organization__name",
            "program__name",
        )
    )


@transaction.atomic
def search_index_refresh(network, service_ids=None) -> int:
    """Rebuild the search rows of SERVICE_IDS in NETWORK (all its services when None)."""
    services = _rows_for(network, service_ids)
    ids = [row["pk"] for row in services]
    by_hsds = {str(row["hsds_id"]): row["pk"] for row in services}
    in_network = {"network": network}
    scope = {} if service_ids is None else {"service_id__in": ids}

    terms = {
        str(t["hsds_id"]): t
        for t in TaxonomyTerm._default_manager.filter(**in_network).values(
            "hsds_id", "code", "name", "parent_id"
        )
    }
    for t in terms.values():
        t["hsds_id"] = str(t["hsds_id"])
    service_terms: dict[int, set[str]] = defaultdict(set)
    other_tables = [table for table in MODEL_FOR_TABLE if table != "service"]
    attributes = (
        Attribute._default_manager.filter(**in_network)
        .exclude(link_entity__in=other_tables)
        .values_list("link_id", "taxonomy_term__hsds_id")
    )
    if service_ids is not None:
        attributes = attributes.filter(link_id__in=list(by_hsds))
    for link_id, term in attributes:
        pk = by_hsds.get(str(link_id))
        if pk and term:
            service_terms[pk].add(str(term))

    links = list(
        ServiceAtLocation._default_manager.filter(**in_network, **scope).values_list(
            "pk", "service_id", "location_id"
        )
    )
    location_services: dict[int, set[int]] = defaultdict(set)
    service_locations: dict[int, set[int]] = defaultdict(set)
    link_service = {}
    for link_pk, service_pk, location_pk in links:
        link_service[link_pk] = service_pk
        if location_pk:
            location_services[location_pk].add(service_pk)
            service_locations[service_pk].add(location_pk)
    locations = dict(
        Location._default_manager.filter(pk__in=list(location_services)).values_list("pk", "data")
    )

    languages: dict[int, set[str]] = defaultdict(set)
    language_rows = Language._default_manager.filter(**in_network).filter(
        Q(service_id__in=ids) | Q(location_id__in=list(location_services))
        if service_ids is not None
        else Q()
    )
    for service_pk, location_pk, data in language_rows.values_list(
        "service_id", "location_id", "data"
    ):
        code = data.get("code") or data.get("name")
        if not code:
            continue
        targets = {service_pk} if service_pk else location_services.get(location_pk, set())
        for pk in targets:
            languages[pk].add(token(code))

    openings: dict[int, set[tuple]] = defaultdict(set)
    schedules = Schedule._default_manager.filter(**in_network).filter(
        Q(service_id__in=ids)
        | Q(service_at_location_id__in=list(link_service))
        | Q(location_id__in=list(location_services))
        if service_ids is not None
        else Q()
    )
    for service_pk, link_pk, location_pk, data in schedules.values_list(
        "service_id", "service_at_location_id", "location_id", "data"
    ):
        if service_pk:
            targets = {service_pk}
        elif link_pk:
            targets = {link_service[link_pk]} if link_pk in link_service else set()
        else:
            targets = location_services.get(location_pk, set())
        for pk in targets:
            openings[pk].update(weekly_openings(data))

    stages: dict[int, set[int]] = defaultdict(set)
    through = Service.life_stages.through.objects.filter(service__network=network, **scope)
    for service_pk, stage_pk in through.values_list("service_id", "lifestage_id"):
        stages[service_pk].add(stage_pk)
    areas: dict[int, set[int]] = defaultdict(set)
    through = Service.residency_areas.through.objects.filter(service__network=network, **scope)
    for service_pk, area_pk in through.values_list("service_id", "area_id"):
        areas[service_pk].add(area_pk)
    area_by_name = {
        name.strip().lower(): pk
        for pk, name in Area.objects.filter(network=network).values_list("pk", "name")
    }
    for service_pk, data in ServiceArea._default_manager.filter(**in_network, **scope).values_list(
        "service_id", "data"
    ):
        found = area_by_name.get(str(data.get("name") or "").strip().lower())
        if found and service_pk:
            areas[service_pk].add(found)

    entries, points, hours, fts_rows, facet_rows = [], [], [], [], []
    network_id = network.pk  # a property: read once, not once per row
    token_of_network = network_token(network_id)
    for row in services:
        pk, data = row["pk"], row["data"] or {}
        term_facets, term_names = _term_tokens(service_terms.get(pk, set()), terms)
        facets = set(term_facets)
        facets |= {f"lang:{code}" for code in languages.get(pk, ())}
        facets |= {f"pop:{token(p)}" for p in row["populations_served"] or [] if str(p).strip()}
        facets |= {f"stage:{s}" for s in stages.get(pk, ())}
        facets |= {f"area:{a}" for a in areas.get(pk, ())}
        body = " ".join(
            str(part)
            for part in (
                data.get("alternate_name"),
                data.get("description"),
                data.get("eligibility_description"),
                row["other_criteria"],
                row["program__name"],
                " ".join(term_names),
            )
            if part
        )
        verified = data.get("assured_date")
        try:
            verified_on = datetime.date.fromisoformat(str(verified)[:10]) if verified else None
        except ValueError:
            verified_on = None
        entries.append(
            {
                "network_id": network_id,
                "service_id": pk,
                "name": row["name"] or "",
                "organization_name": row["organization__name"] or "",
                "body": body,
                "facets": " " + " ".join(sorted(facets)) + " ",
                "verified_on": verified_on,
            }
        )
        fts_rows.append(
            (pk, token_of_network, row["name"] or "", row["organization__name"] or "", body)
        )
        facet_rows += [
            {"network_id": network_id, "service_id": pk, "token": facet[:200]} for facet in facets
        ]
        for location_pk in service_locations.get(pk, ()):
            point = _coordinate(locations.get(location_pk) or {})
            if point:
                points.append(
                    {
                        "network_id": network_id,
                        "service_id": pk,
                        "latitude": point[0],
                        "longitude": point[1],
                    }
                )
        for weekday, opens, closes in sorted(openings.get(pk, ())):
            hours.append(
                {
                    "network_id": network_id,
                    "service_id": pk,
                    "weekday": weekday,
                    "opens_at": opens,
                    "closes_at": closes,
                }
            )

    for model in (ServiceSearch, ServiceFacet, ServiceSearchPoint, ServiceOpening):
        stale_rows = model._default_manager.filter(network=network)
        if service_ids is not None:
            stale_rows = stale_rows.filter(service_id__in=ids)
        stale_rows.delete()
    # Plain executemany: building ORM instances was most of a 25,000-service rebuild.
    bulk_insert(ServiceSearch, entries)
    bulk_insert(ServiceFacet, facet_rows)
    bulk_insert(ServiceSearchPoint, points)
    bulk_insert(ServiceOpening, hours)
    _write_full_text(network, ids, fts_rows, whole_network=service_ids is None)
    return len(entries)


def network_token(network_pk: int) -> str:
    """The FTS5 token that marks a row as the network's."""
    return f"net{int(network_pk)}"


def _write_full_text(network, ids, fts_rows, *, whole_network: bool) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            if whole_network:
                cursor.execute(
                    "DELETE FROM directory_service_fts WHERE rowid IN (SELECT rowid FROM "
                    "directory_service_fts WHERE directory_service_fts MATCH %s)",
                    [f"network : {network_token(network.pk)}"],
                )
            else:
                for start in range(0, len(ids), CHUNK):
                    chunk = ids[start : start + CHUNK]
                    marks = ",".join(["%s"] * len(chunk))
                    # Only placeholders are formatted in; the ids go as parameters.
                    sql = f"DELETE FROM directory_service_fts WHERE rowid IN ({marks})"  # noqa: S608
                    cursor.execute(sql, chunk)
            cursor.executemany(
                "INSERT INTO directory_service_fts "
                "(rowid, network, name, organization_name, body) VALUES (%s, %s, %s, %s, %s)",
                fts_rows,
            )
    elif connection.vendor == "postgresql":
        entries = ServiceSearch._default_manager.filter(network=network)
        if not whole_network:
            entries = entries.filter(service_id__in=ids)
        entries.update(
            document=SearchVector("name", weight="A", config="english")
            + SearchVector("organization_name", weight="B", config="english")
            + SearchVector("body", weight="C", config="english")
        )


# Searching --------------------------------------------------------------------------------


@dataclass
class Hit:
    service: Service
    rank: float | None
    distance_km: float | None
    open_now: bool
    verified_on: datetime.date | None
    stale: bool


@dataclass
class SearchResults:
    total: int
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def fts5_query(text: str) -> str | None:
    """User words as an FTS5 query, in the spirit of PostgreSQL's websearch syntax: every
    word must match, `or` between two words allows either; the last word is a prefix."""
    words = WORD_RE.findall(text.lower())[:20]
    parts: list[str] = []
    for word in words:
        if word == "or":
            if parts and parts[-1] != "OR":
                parts.append("OR")
            continue
        parts.append(f'"{word}"')
    while parts and parts[-1] == "OR":
        parts.pop()
    if not parts:
        return None
    parts[-1] += "*"
    return " ".join(parts)


def network_match(network_pk: int, text: str) -> str | None:
    """The FTS5 query for TEXT among the services of one network (None: no words)."""
    match = fts5_query(text)
    if match is None:
        return None
    return f"network : {network_token(network_pk)} AND {{name organization_name body}} : ({match})"


def full_text_filter(access: Access, text: str) -> Q:
    """A filter on Service rows: those whose text matches TEXT (for the HSDS API)."""
    text = (text or "").strip()
    if not text:
        return Q()
    if connection.vendor == "sqlite":
        match = network_match(access.network.pk, text)
        if match is None:
            return Q(pk__in=[])
        return Q(
            pk__in=RawSQL(  # noqa: S611 (constant SQL, the query as a parameter)
                "SELECT rowid FROM directory_service_fts WHERE directory_service_fts MATCH %s",
                [match],
            )
        )
    query = SearchQuery(text, search_type="websearch", config="english")
    return Q(pk__in=access.scope(ServiceSearch).filter(document=query).values("service_id"))


def _haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _distances(access: Access, near, radius_km: float) -> dict[int, float]:
    """Service pk -> distance in km to its nearest point within RADIUS_KM of NEAR."""
    lat, lon = near
    dlat = radius_km / 111.0
    dlon = radius_km / max(0.01, 111.320 * math.cos(math.radians(lat)))
    boxed = access.scope(ServiceSearchPoint).filter(
        latitude__range=(lat - dlat, lat + dlat), longitude__range=(lon - dlon, lon + dlon)
    )
    nearest: dict[int, float] = {}
    for service_pk, plat, plon in boxed.values_list("service_id", "latitude", "longitude"):
        distance = _haversine_km(lat, lon, plat, plon)
        if distance <= radius_km and distance < nearest.get(service_pk, math.inf):
            nearest[service_pk] = distance
    return nearest


def _area_tokens(access: Access, area) -> list[str]:
    """The area and every area above it: a service for the county serves its cities."""
    try:
        current = access.scope(Area).filter(pk=int(area)).first()
    except (TypeError, ValueError):
        current = None
    if current is None:
        return []
    found, seen = [], set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        found.append(f"area:{current.pk}")
        current = current.parent
    return found


def _local_moment(moment) -> tuple[int, datetime.time]:
    if moment is True:
        moment = timezone.now()
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.weekday(), moment.time().replace(microsecond=0)


def search_services(
    access: Access,
    *,
    q: str = "",
    taxonomy_term: str | None = None,
    life_stage=None,
    population: str | None = None,
    language: str | None = None,
    area=None,
    open_now: datetime.datetime | bool | None = None,
    near: tuple[float, float] | None = None,
    radius_km: float | None = None,
    stale: bool | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SearchResults:
    """Ranked services of the access's network matching Q and every filter given.

    Ranking: full-text relevance when Q has words, else distance when NEAR is given,
    else name. `taxonomy_term` is a term's code or HSDS id and includes its children;
    `area` is an Area id and includes the areas above it; `open_now` is a moment (or
    True for now) in the site's time zone; `stale` True keeps only stale listings."""
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    results = SearchResults(total=0, page=page, per_page=per_page)
    if not access.allows(Service):
        return results
    # Each filter is a subquery of service ids (for the search entries when there are no
    # words, and PostgreSQL) and, where it helps SQLite, a clause correlated with the
    # FTS5 row: checked by index for each match rather than materialized for the network.
    filters: list[_Filter] = []
    facets = access.scope(ServiceFacet)
    network_pk = access.network.pk
    for kind, value in (
        ("term", taxonomy_term),
        ("stage", life_stage),
        ("pop", population),
        ("lang", language),
    ):
        if value not in (None, ""):
            filters.append(_facet_filter(facets, network_pk, [f"{kind}:{token(value)}"]))
    if area not in (None, ""):
        filters.append(_facet_filter(facets, network_pk, _area_tokens(access, area)))
    moment = None
    if open_now:
        moment = _local_moment(open_now)
        weekday, now = moment
        filters.append(
            _Filter(
                access.scope(ServiceOpening)
                .filter(weekday=weekday, opens_at__lte=now, closes_at__gt=now)
                .values("service_id"),
                OPEN_SQL,
                [weekday, now.isoformat(), now.isoformat()],
            )
        )
    if stale is not None:
        old = Q(verified_on__isnull=True) | Q(verified_on__lt=stale_cutoff())
        entries = access.scope(ServiceSearch)
        chosen = entries.filter(old) if stale else entries.exclude(old)
        filters.append(_Filter(chosen.values("service_id")))
    distances: dict[int, float] | None = None
    if near is not None:
        distances = _distances(access, near, radius_km or DEFAULT_RADIUS_KM)

    text = (q or "").strip()
    start, stop = (page - 1) * per_page, page * per_page
    if text and connection.vendor == "sqlite":
        found = _sqlite_ranked(access, text, filters, distances, per_page, start)
        if found is None:
            return results
        results.total, ranked = found
    else:
        entries = access.scope(ServiceSearch)
        for condition in filters:
            entries = entries.filter(service_id__in=condition.ids)
        if distances is not None:
            entries = entries.filter(service_id__in=list(distances))
        if text:
            results.total, ranked = _postgresql_ranked(entries, text, start, stop)
        elif distances is not None:
            nearest = sorted(
                entries.values_list("service_id", flat=True), key=lambda pk: (distances[pk], pk)
            )
            results.total = len(nearest)
            ranked = [(pk, None) for pk in nearest[start:stop]]
        else:
            ordered = entries.order_by("name", "service_id")
            results.total = ordered.count()
            ranked = [(pk, None) for pk in ordered.values_list("service_id", flat=True)[start:stop]]
    results.hits = _hits(access, ranked, distances or {}, moment)
    return results


@dataclass
class _Filter:
    ids: object  # a queryset of service ids: `values("service_id")`
    sqlite: str | None = None  # the same as an SQL condition on the FTS5 row, if any
    params: list = field(default_factory=list)


FACET_SQL = (
    "EXISTS (SELECT 1 FROM directory_servicefacet f WHERE f.network_id = %s "
    "AND f.token IN ({marks}) AND f.service_id = directory_service_fts.rowid)"
)
OPEN_SQL = (
    "EXISTS (SELECT 1 FROM directory_serviceopening o "
    "WHERE o.service_id = directory_service_fts.rowid AND o.weekday = %s "
    "AND o.opens_at <= %s AND o.closes_at > %s)"
)


def _facet_filter(facets, network_pk: int, tokens: list[str]) -> _Filter:
    """Services with any of the facet TOKENS ("" as SQL when there are none)."""
    sql = FACET_SQL.format(marks=", ".join(["%s"] * len(tokens))) if tokens else ""
    return _Filter(facets.filter(token__in=tokens).values("service_id"), sql, [network_pk, *tokens])


def _sqlite_ranked(access: Access, text: str, filters, distances, per_page: int, start: int):
    """(total, [(service pk, rank)] of the page) from FTS5, or None when nothing can match."""
    match = network_match(access.network.pk, text)
    if match is None:
        return None
    conditions, params = [], [match]
    for condition in filters:
        if condition.sqlite is not None:
            if condition.sqlite == "":  # can match nothing, e.g. an area that is not there
                return None
            conditions.append(f" AND {condition.sqlite}")
            params += condition.params
            continue
        try:
            sub_sql, sub_params = condition.ids.query.sql_with_params()
        except EmptyResultSet:
            return None
        conditions.append(f" AND +rowid IN ({sub_sql})")
        params += sub_params
    if distances is not None:
        if not distances:
            return None
        conditions.append(" AND +rowid IN (SELECT value FROM json_each(%s))")
        params.append(json.dumps(list(distances)))
    sql = RANKED_SQL.format(filters="".join(conditions))
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT %s OFFSET %s", [*params, per_page, start])
        rows = cursor.fetchall()
        if rows:
            return rows[0][2], [(pk, -score) for pk, score, _ in rows]
        if start == 0:
            return 0, []
        # A page past the end: count on its own.
        cursor.execute(f"SELECT count(*) FROM ({sql})", params)  # noqa: S608 (see above)
        return cursor.fetchone()[0], []


def _postgresql_ranked(entries, text: str, start: int, stop: int):
    """(total, [(service pk, rank)] of the page): tsvector match, count in the same query."""
    query = SearchQuery(text, search_type="websearch", config="english")
    matching = (
        entries.filter(document=query)
        .annotate(rank=SearchRank(F("document"), query), total=Window(Count("*")))
        .order_by("-rank", "service_id")
    )
    rows = list(matching.values_list("service_id", "rank", "total")[start:stop])
    if rows:
        return rows[0][2], [(pk, rank) for pk, rank, _ in rows]
    return (matching.count() if start else 0), []


def _hits(access: Access, ranked, distances, moment) -> list[Hit]:
    """The page's services with their verification date and whether they are open now.

    One query: the scoped services joined to their search entries, with "open now" as
    a correlated EXISTS on the service's own opening hours (by its index, not a scan of
    the network's opening hours or search entries)."""
    ids = [pk for pk, _ in ranked]
    weekday, now = moment or _local_moment(True)
    opening = ServiceOpening._default_manager.filter(
        service=OuterRef("pk"), weekday=weekday, opens_at__lte=now, closes_at__gt=now
    )
    services = (
        access.scope(Service)
        .select_related("organization")
        .annotate(verified=F("search_entry__verified_on"), is_open=Exists(opening))
        .in_bulk(ids)
    )
    today = timezone.localdate()
    return [
        Hit(
            service=services[pk],
            rank=rank,
            distance_km=distances.get(pk),
            open_now=services[pk].is_open,
            verified_on=services[pk].verified,
            stale=is_stale(services[pk].verified, today),
        )
        for pk, rank in ranked
        if pk in services
    ]


def service_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
