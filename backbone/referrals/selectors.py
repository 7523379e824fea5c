"""Reads of client data, checked against consent at read time.

Who sees a person's `information` ("identity", "demographics", "referrals", "outcomes",
"notes"):
- the organization that holds the record (an open care relationship it recorded or
  imported): it is the source of the data, consent governs disclosure to others;
- an organization an active consent allows: the disclosing organization, a named
  recipient, or (recipients = treating) an organization with an open care relationship
  or a referral in progress to it.

Acting organizations: an organization role's own organization; for network admins, the
network's backbone organization(s) (Membership role `backbone`), so backbone staff see
identity only when a consent names the backbone organization. Funders, viewers and the
public act for no organization and see nobody.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from backbone.core.access import NETWORK_ADMIN, ORG_ADMIN, ORG_MEMBER
from backbone.core.models import Membership
from backbone.referrals.models import CareRelationship, Consent, Person, PersonAccess, Referral

# Referrals that make the receiving organization a treating participant before the
# care relationship exists (it must see who is referred to accept or decline).
OPEN_REFERRAL_STATUSES = (
    Referral.Status.SENT,
    Referral.Status.ACCEPTED,
    Referral.Status.IN_SERVICE,
)
HOLDER_SOURCES = (CareRelationship.Source.RECORDED, CareRelationship.Source.IMPORT)


def acting_organization_ids(access) -> list[int]:
    """The organizations on whose behalf this access reads client data."""
    if access.role in (ORG_ADMIN, ORG_MEMBER) and access.organization_id:
        ids = {access.organization_id}
    elif access.role == NETWORK_ADMIN:
        ids = set(
            Membership.objects.filter(
                network=access.network, role=Membership.Role.BACKBONE
            ).values_list("organization_id", flat=True)
        )
        if access.organization_id:
            ids.add(access.organization_id)
    else:
        return []
    # An organization that left the network reads nothing of it any more.
    return sorted(
        Membership.objects.filter(
            network=access.network, organization_id__in=ids, status=Membership.Status.ACTIVE
        )
        .order_by()  # the default ordering would join network and organization for nothing
        .values_list("organization_id", flat=True)
    )


def _active_q(on: datetime.date | None) -> Q:
    if on is None:
        return Q(
            revoked_at__isnull=True,
            expired_by_event_at__isnull=True,
        ) & (Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate()))
    # As of a past or future day: signed by then, not yet revoked or ended by the event.
    return (
        Q(signed_at__date__lte=on)
        & (Q(revoked_at__isnull=True) | Q(revoked_at__date__gt=on))
        & (Q(expired_by_event_at__isnull=True) | Q(expired_by_event_at__date__gt=on))
        & (Q(expires_on__isnull=True) | Q(expires_on__gte=on))
    )


def _covers(information: str) -> Q:
    if information not in Consent.INFORMATION:
        raise ValueError(f"Unknown kind of information: {information!r}.")
    # `information` is a JSON list of keys; the quoted key matches one element on both
    # SQLite and PostgreSQL (JSON `contains` is PostgreSQL-only).
    return Q(information__icontains=f'"{information}"')


def active_consents(person, *, on: datetime.date | None = None) -> QuerySet[Consent]:
    """The person's consents in force today (or on ON): not revoked, not expired."""
    return Consent.objects.filter(person=person).filter(_active_q(on)).order_by("-signed_at", "-pk")


def _recipient_q(organization_ids, person_id: int | None = None) -> Q:
    """Consents whose recipients include ORGANIZATION_IDS. With PERSON_ID (consents of
    one person), the treating-participant subqueries are kept to that person: unbounded,
    they hold every person a busy organization treats or is referred."""
    one = {} if person_id is None else {"person_id": person_id}
    treating = CareRelationship.objects.filter(
        organization_id__in=organization_ids, ended_on__isnull=True, **one
    ).values("person_id")
    referred = Referral.objects.filter(
        to_organization_id__in=organization_ids, status__in=OPEN_REFERRAL_STATUSES, **one
    ).values("person_id")
    return (
        Q(disclosing_organization_id__in=organization_ids)
        | Q(
            recipients=Consent.Recipients.NAMED,
            recipient_organizations__in=organization_ids,
        )
        | Q(recipients=Consent.Recipients.TREATING, person_id__in=treating)
        | Q(recipients=Consent.Recipients.TREATING, person_id__in=referred)
    )


def consent_allows(
    person, organization_id: int, information: str = "identity", *, on=None
) -> Consent | None:
    """The active consent under which ORGANIZATION_ID may see INFORMATION of PERSON,
    or None."""
    return (
        active_consents(person, on=on)
        .filter(_covers(information))
        .filter(_recipient_q([organization_id], person.pk))
        .distinct()
        .first()
    )


def holds_record(person, organization_ids) -> bool:
    return CareRelationship.objects.filter(
        person=person,
        organization_id__in=organization_ids,
        ended_on__isnull=True,
        source__in=HOLDER_SOURCES,
    ).exists()


def visible_people(access, information: str = "identity") -> QuerySet[Person]:
    """People whose INFORMATION the access's organization may see right now."""
    organization_ids = acting_organization_ids(access)
    if not organization_ids:
        return Person.objects.none()
    sql, params = _visible_ids_sql(access.network.pk, organization_ids, information)
    return Person.objects.filter(network=access.network, merged_into__isnull=True).filter(
        pk__in=RawSQL(sql, params)  # noqa: S611 (names from the models, values as parameters)
    )


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _visible_ids_sql(
    network_id: int, organization_ids: list[int], information: str, ids: list[int] | None = None
) -> tuple[str, list]:
    """SQL (and its parameters) of the ids of the people whose INFORMATION the
    ORGANIZATION_IDS may see now, restricted to IDS when given: the rule in the module's
    docstring as a UNION of branches that each start from an index (the organizations'
    care relationships, consents naming or disclosed by them, referrals to them, or the
    people IDS), so no branch reads every consent or person of the network.

    Plain SQL because composing the same rule as querysets cost 8 ms of CPU per page
    (subqueries compiled each time), and an OR of subqueries made the database build
    each subquery for the whole network, about 1.5 s per check at 2 million people."""
    if information not in Consent.INFORMATION:
        raise ValueError(f"Unknown kind of information: {information!r}.")
    quote = connection.ops.quote_name
    care = quote(CareRelationship._meta.db_table)
    consent = quote(Consent._meta.db_table)
    referral = quote(Referral._meta.db_table)
    named = quote(Consent.recipient_organizations.through._meta.db_table)
    organizations = _marks(organization_ids)
    among, among_params = ("", [])
    if ids is not None:
        among, among_params = f"AND person_id IN ({_marks(ids)}) ", list(ids)
    c_among = among.replace("person_id", "c.person_id")
    active = (
        "c.network_id = %s AND c.revoked_at IS NULL AND c.expired_by_event_at IS NULL "
        "AND (c.expires_on IS NULL OR c.expires_on >= %s) "
        "AND CAST(c.information AS TEXT) LIKE %s "
    )
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    active_params = [network_id, today, f'%"{information}"%']
    # "+ 0" keeps the planner on the person index when IDS are given: statistics average
    # over every organization, so it would take the (organization, status) index, which
    # for a busy receiver holds tens of thousands of open referrals against a few per
    # person.
    receiver = "to_organization_id + 0" if ids is not None else "to_organization_id"
    sql = (
        # The record's holder: an open care relationship it recorded or imported.
        f"SELECT person_id FROM {care} WHERE organization_id IN ({organizations}) "  # noqa: S608 (names from the models, values as parameters)
        f"AND ended_on IS NULL AND source IN ({_marks(HOLDER_SOURCES)}) {among}"
        # An active consent disclosed by the organization...
        f"UNION SELECT c.person_id FROM {consent} c WHERE "
        f"c.disclosing_organization_id IN ({organizations}) AND {active}{c_among}"
        # ... naming it as a recipient...
        f"UNION SELECT c.person_id FROM {named} r JOIN {consent} c ON c.id = r.consent_id "
        f"WHERE r.organization_id IN ({organizations}) AND c.recipients = %s "
        f"AND {active}{c_among}"
        # ... or for the treating participants, when it treats the person or a referral
        # to it is in progress.
        f"UNION SELECT c.person_id FROM {consent} c WHERE c.recipients = %s AND {active}"
        f"AND c.person_id IN (SELECT person_id FROM {care} WHERE organization_id IN "
        f"({organizations}) AND ended_on IS NULL {among}UNION SELECT person_id FROM "
        f"{referral} WHERE {receiver} IN ({organizations}) "
        f"AND status IN ({_marks(OPEN_REFERRAL_STATUSES)}) {among})"
    )
    params = [
        *organization_ids,
        *HOLDER_SOURCES,
        *among_params,
        *organization_ids,
        *active_params,
        *among_params,
        *organization_ids,
        Consent.Recipients.NAMED,
        *active_params,
        *among_params,
        Consent.Recipients.TREATING,
        *active_params,
        *organization_ids,
        *among_params,
        *organization_ids,
        *OPEN_REFERRAL_STATUSES,
        *among_params,
    ]
    return sql, params


def _visible_among_rows(access, ids, information: str, columns: str) -> list[tuple]:
    """Rows of COLUMNS (of referrals_person, aliased p) for the people among IDS whose
    INFORMATION the access may see now, in one statement."""
    if information not in Consent.INFORMATION:
        raise ValueError(f"Unknown kind of information: {information!r}.")
    organization_ids = acting_organization_ids(access) if ids else []
    if not organization_ids:
        return []
    visible, params = _visible_ids_sql(access.network.pk, organization_ids, information, ids)
    person = connection.ops.quote_name(Person._meta.db_table)
    sql = (
        f"SELECT {columns} FROM {person} p WHERE p.id IN ({_marks(ids)}) "  # noqa: S608
        f"AND p.network_id = %s AND p.merged_into_id IS NULL AND p.id IN ({visible})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, access.network.pk, *params])
        return cursor.fetchall()


def visible_among(access, person_ids, information: str = "identity") -> set[int]:
    """Which of PERSON_IDS `visible_people(access, information)` holds, checked for
    those ids only (filtering the network-wide selector by id makes PostgreSQL build its
    consent subqueries for every person of the network first). For list pages, which
    check the people of one page at read time."""
    ids = sorted({int(pk) for pk in person_ids})
    return {pk for (pk,) in _visible_among_rows(access, ids, information, "p.id")}


def visible_names_among(access, person_ids) -> dict[int, str]:
    """person id -> name for those of PERSON_IDS whose identity the access may see now.
    Only those names are decrypted."""
    ids = sorted({int(pk) for pk in person_ids})
    rows = _visible_among_rows(access, ids, "identity", "p.id, p.given_name, p.family_name")
    plain = Person._meta.get_field("given_name").from_db_value  # decrypts; '' stays ''
    return {
        pk: f"{plain(given, None, connection)} {plain(family, None, connection)}".strip()
        for pk, given, family in rows
    }


def may_see(access, person, information: str = "identity") -> bool:
    return bool(visible_among(access, [person.pk], information))


def _reader_organization_id(access) -> int | None:
    if access.organization_id:
        return access.organization_id
    ids = acting_organization_ids(access)
    return ids[0] if ids else None


def person_for_read(access, pk: int, *, what: str, route: str) -> Person:
    """The person if the access may see their identity now (else 404), with the read
    written to the person's access log."""
    try:
        pk = int(pk)
    except (ValueError, TypeError) as exc:
        raise Http404("No person found.") from exc
    if not visible_among(access, [pk]):
        raise Http404("No person found.")
    person = Person.objects.get(pk=pk, network=access.network)
    record_reads(access, [person.pk], what=what, route=route)
    return person


def record_reads(access, person_ids, *, what: str, route: str) -> None:
    """One PersonAccess row per person shown (list pages, exports)."""
    ids = sorted({int(pk) for pk in person_ids})
    if not ids:
        return
    user = access.actor
    organization_id = _reader_organization_id(access)
    now = timezone.now()
    PersonAccess.objects.bulk_create(
        [
            PersonAccess(
                network=access.network,
                person_id=pk,
                user=user,
                user_email=user.email if user else "",
                organization_id=organization_id,
                what=what[:40],
                route=route[:200],
                at=now,
            )
            for pk in ids
        ],
        batch_size=1000,
    )


def serving_organization_ids(person) -> list[int]:
    """Organizations serving the person now: open care relationships."""
    return list(
        CareRelationship.objects.filter(person=person, ended_on__isnull=True).values_list(
            "organization_id", flat=True
        )
    )


# -- pages about one person ---------------------------------------------------------------

# Partial and given-name search decrypts the organization's list when it is this small;
# beyond it, search goes through the family-name sound index or the date of birth only.
SEARCH_SCAN_LIMIT = 2000
# At most this many sound-alike candidates are decrypted and checked per search.
SEARCH_CANDIDATE_LIMIT = 1000
SEARCH_CHUNK = 500  # ids per visibility check


def _matches(person, tokens) -> bool:
    from backbone.referrals.crypto import normalize
    from backbone.referrals.people import soundex

    parts = [normalize(person.given_name), normalize(person.family_name)]
    sounds = {soundex(part) for part in parts}
    full = normalize(person.display_name)
    return all(token in full or soundex(token) in sounds for token in tokens)


def search_people(access, query: str) -> list[Person]:
    """People the access may see whose name sounds like or contains QUERY, or whose date
    of birth is QUERY (YYYY-MM-DD). Names are encrypted, so candidates come from the
    blind indexes (or a scan of a small list) and are checked decrypted.

    Candidates are taken from the network's blind index first and checked for
    visibility a chunk of ids at a time: filtering the visible set instead makes the
    database build it whole, over a second for a partner serving 200,000 people."""
    from backbone.referrals.crypto import normalize
    from backbone.referrals.people import birth_date_index, name_index

    query = (query or "").strip()
    everyone = Person.objects.filter(network=access.network, merged_into__isnull=True)
    newest = everyone.order_by("-created_at", "-pk")
    try:
        born = datetime.date.fromisoformat(query)
    except ValueError:
        born = None
    if born:
        return _visible_candidates(access, newest.filter(birth_date_index=birth_date_index(born)))
    tokens = [normalize(token) for token in query.split() if normalize(token)]
    if not tokens:
        return []
    indexed = newest.filter(name_index__in=[name_index(token) for token in tokens])
    candidates = _visible_candidates(access, indexed, limit=SEARCH_CANDIDATE_LIMIT)
    found = {person.pk: person for person in candidates if _matches(person, tokens)}
    if _few_visible(access):
        for person in visible_people(access).order_by("-created_at", "-pk"):
            if person.pk not in found and _matches(person, tokens):
                found[person.pk] = person
    return sorted(found.values(), key=lambda p: (-p.created_at.timestamp(), -p.pk))


def _visible_candidates(access, candidates, *, limit: int | None = None) -> list[Person]:
    """The people of CANDIDATES (in their order) the access may see, at most LIMIT;
    only those are loaded (and their names decrypted)."""
    chosen: list[int] = []
    ids = list(candidates.values_list("pk", flat=True))
    for start in range(0, len(ids), SEARCH_CHUNK):
        chunk = ids[start : start + SEARCH_CHUNK]
        visible = visible_among(access, chunk)
        chosen += [pk for pk in chunk if pk in visible]
        if limit is not None and len(chosen) >= limit:
            chosen = chosen[:limit]
            break
    loaded = Person.objects.in_bulk(chosen)
    return [loaded[pk] for pk in chosen]


def _few_visible(access) -> bool:
    """Whether the access sees at most SEARCH_SCAN_LIMIT people (then a search also scans
    them all for names the blind index cannot match, such as a part of a name). The
    organization's open care relationships are counted first (on their index): when they
    alone are more, the list counts as large and the visible set is not built at all."""
    organization_ids = acting_organization_ids(access)
    serving = CareRelationship.objects.filter(
        organization_id__in=organization_ids, ended_on__isnull=True
    ).values("person_id")
    if serving[: SEARCH_SCAN_LIMIT + 1].count() > SEARCH_SCAN_LIMIT:
        return False
    return visible_people(access)[: SEARCH_SCAN_LIMIT + 1].count() <= SEARCH_SCAN_LIMIT


def consents_for(access, person) -> list[Consent]:
    """The person's consents this access may see: all of them for the record's holder,
    else those that concern the access's organization."""
    organization_ids = acting_organization_ids(access)
    consents = Consent.objects.filter(person=person).order_by("-signed_at", "-pk")
    if not holds_record(person, organization_ids):
        consents = consents.filter(_recipient_q(organization_ids, person.pk)).distinct()
    return list(consents.prefetch_related("recipient_organizations"))


def relationships_for(access, person) -> list[CareRelationship]:
    organization_ids = acting_organization_ids(access)
    relationships = CareRelationship.objects.filter(person=person).select_related("organization")
    if not may_see(access, person, "referrals"):
        relationships = relationships.filter(organization_id__in=organization_ids)
    return list(relationships.order_by("started_on", "pk"))


def referrals_for(access, person) -> list[Referral]:
    """The person's referrals: all when a consent covers referrals, else those the
    access's organization sent or received."""
    organization_ids = acting_organization_ids(access)
    referrals = Referral.objects.filter(person=person).select_related(
        "from_organization", "to_organization", "to_service"
    )
    if not may_see(access, person, "referrals"):
        referrals = referrals.filter(
            Q(from_organization_id__in=organization_ids)
            | Q(to_organization_id__in=organization_ids)
        )
    return list(referrals.order_by("-sent_at", "-pk"))


def milestones_for(access, person) -> list:
    from backbone.referrals.models import Milestone

    if not may_see(access, person, "outcomes"):
        return []
    return list(
        Milestone.objects.filter(person=person).select_related("life_stage", "organization")
    )


def serves(access, person) -> bool:
    """Whether the access's organization serves the person now (reviews its access log)."""
    return CareRelationship.objects.filter(
        person=person,
        organization_id__in=acting_organization_ids(access),
        ended_on__isnull=True,
    ).exists()


def person_access_log(access, person) -> QuerySet[PersonAccess]:
    return PersonAccess.objects.filter(person=person).select_related("organization")


def network_people_summary(access) -> dict:
    """Aggregates for backbone staff: counts only, no one identified."""
    people = Person.objects.filter(network=access.network, merged_into__isnull=True)
    consents = Consent.objects.filter(network=access.network)
    return {
        "people": people.count(),
        "active_consents": consents.filter(_active_q(None)).count(),
        "revoked_consents": consents.filter(revoked_at__isnull=False).count(),
        "organizations": CareRelationship.objects.filter(
            network=access.network, ended_on__isnull=True
        )
        .values("organization_id")
        .distinct()
        .count(),
    }
