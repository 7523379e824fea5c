"""Services for the people partners serve: create, edit, find duplicates, merge.

Audit records of these writes hold ids and non-identifying fields only (`safe_snapshot`):
the audit log is read by network admins, who do not see identity.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from backbone.core.audit import record_for, snapshot
from backbone.core.models import AuditEvent
from backbone.measurement.models import Dimension
from backbone.referrals import selectors
from backbone.referrals.crypto import EncryptedTextField, blind_index, normalize
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Milestone,
    Person,
    PersonAccess,
    PersonMerge,
    Referral,
)

EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "birth_date",
    "phone",
    "email",
    "street_address",
    "preferred_language",
    "demographics",
    "area",
)
INDEX_FIELDS = {"birth_date_index", "name_index"}
# Free text staff type about a person may name them: never copied into the audit log.
FREE_TEXT_FIELDS = {"reason", "revocation_note", "information_description", "purpose_description"}
DUPLICATE_THRESHOLD = 0.85
# A day/month swap (03/04 for 04/03) is a common entry error; such a match counts a bit less.
TRANSPOSED_DATE_FACTOR = 0.92


def safe_snapshot(obj) -> dict:
    """`snapshot` without encrypted values or blind indexes: safe for the audit log."""
    data = snapshot(obj)
    for field in obj._meta.concrete_fields:
        if isinstance(field, EncryptedTextField):
            data[field.name] = "[encrypted]" if data.get(field.name) else ""
        elif field.name in INDEX_FIELDS:
            data.pop(field.name, None)
        elif field.name in FREE_TEXT_FIELDS and data.get(field.name):
            data[field.name] = "[free text]"
    return data


# -- blind indexes ------------------------------------------------------------------------


def soundex(value: str) -> str:
    """American Soundex of a name ('Robert' and 'Rupert' -> R163); '' for no letters."""
    letters = "".join(ch for ch in normalize(value) if ch.isalpha())
    if not letters:
        return ""
    codes = {
        **dict.fromkeys("bfpv", "1"),
        **dict.fromkeys("cgjkqsxz", "2"),
        **dict.fromkeys("dt", "3"),
        "l": "4",
        **dict.fromkeys("mn", "5"),
        "r": "6",
    }
    result = letters[0].upper()
    previous = codes.get(letters[0], "")
    for ch in letters[1:]:
        code = codes.get(ch, "")
        if code and code != previous:
            result += code
        if ch not in "hw":
            previous = code
    return (result + "000")[:4]


def name_index(name: str) -> str:
    """Blind index of a name's sound: equal for 'Smith' and 'Smyth'."""
    return blind_index(soundex(name), "name-sound")


def birth_date_index(birth_date: datetime.date) -> str:
    return blind_index(birth_date.isoformat(), "birth-date")


def person_indexes(*, family_name: str, birth_date: datetime.date) -> dict:
    """The clear-text companions of a person's encrypted fields (for bulk loaders)."""
    return {
        "name_index": name_index(family_name),
        "birth_date_index": birth_date_index(birth_date),
        "birth_year": birth_date.year,
    }


def reindex_all(*, batch_size: int = 1000, dry_run: bool = False) -> dict[str, int]:
    """Recompute every person's blind indexes from the decrypted name and date of birth,
    after BACKBONE_BLIND_INDEX_KEY (or, without it, SECRET_KEY) changed. One transaction
    per batch of BATCH_SIZE people; people whose indexes are already right are left alone,
    so a second run changes nothing. Counts: reindexed, current."""
    counts = {"reindexed": 0, "current": 0}
    last = 0
    while True:
        with transaction.atomic():
            batch = list(
                Person.objects.filter(pk__gt=last)
                .order_by("pk")
                .only("pk", "family_name", "birth_date", "name_index", "birth_date_index")[
                    :batch_size
                ]
            )
            if not batch:
                return counts
            last = batch[-1].pk
            changed = []
            for person in batch:
                born = datetime.date.fromisoformat(person.birth_date)
                fresh = {
                    "name_index": name_index(person.family_name),
                    "birth_date_index": birth_date_index(born),
                }
                if all(getattr(person, field) == value for field, value in fresh.items()):
                    counts["current"] += 1
                    continue
                for field, value in fresh.items():
                    setattr(person, field, value)
                changed.append(person)
            counts["reindexed"] += len(changed)
            if changed and not dry_run:
                # The encrypted fields are not written: only the two index columns.
                Person.objects.bulk_update(changed, ["name_index", "birth_date_index"])


# -- validation ---------------------------------------------------------------------------


def demographic_dimensions(network) -> list:
    """The network's categorical measurement dimensions with their categories (geography
    comes from the person's area)."""
    return list(
        Dimension.objects.filter(network=network, kind=Dimension.Kind.CATEGORICAL)
        .prefetch_related("categories")
        .order_by("position", "code")
    )


def invalid_demographics(network, demographics: dict) -> str:
    """Why DEMOGRAPHICS ({dimension code: category code}) does not fit the network's
    dimensions, or ''."""
    valid = {
        dimension.code: {category.code for category in dimension.categories.all()}
        for dimension in demographic_dimensions(network)
    }
    for dimension, category in demographics.items():
        if dimension not in valid:
            return f"{dimension!r} is not a dimension of this network."
        if category not in valid[dimension]:
            return f"{category!r} is not a category of {dimension!r}."
    return ""


def _clean_identity(given_name, family_name, birth_date) -> dict:
    errors = {}
    given_name = (given_name or "").strip()
    family_name = (family_name or "").strip()
    if not normalize(given_name):
        errors["given_name"] = "Enter the person's given name."
    if not normalize(family_name):
        errors["family_name"] = "Enter the person's family name."
    if not isinstance(birth_date, datetime.date):
        errors["birth_date"] = "Enter the date of birth."
    elif birth_date > timezone.localdate():
        errors["birth_date"] = "The date of birth cannot be in the future."
    elif birth_date.year < 1900:
        errors["birth_date"] = "The date of birth is before 1900."
    if errors:
        raise ValidationError(errors)
    return {"given_name": given_name, "family_name": family_name, "birth_date": birth_date}


def _clean_fields(access, fields: dict) -> dict:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown person fields: {', '.join(sorted(unknown))}.")
    cleaned = dict(fields)
    for name in ("phone", "email", "street_address", "preferred_language"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    errors = {}
    email = cleaned.get("email")
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid email address."
    demographics = cleaned.get("demographics")
    if demographics is not None:
        if not isinstance(demographics, dict):
            errors["demographics"] = "Demographics are dimension and category codes."
        else:
            demographics = cleaned["demographics"] = {k: v for k, v in demographics.items() if v}
            bad = invalid_demographics(access.network, demographics)
            if bad:
                errors["demographics"] = bad
    area = cleaned.get("area")
    if area is not None and getattr(area, "network_id", access.network.pk) not in (
        access.network.pk,
        None,
    ):
        errors["area"] = "That area is not in this network."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _require_partner(access) -> int:
    access.require_add(Person)
    if not access.organization_id:
        raise PermissionDenied("Only an organization's staff record the people it serves.")
    return access.organization_id


# -- services -----------------------------------------------------------------------------


@transaction.atomic
def person_create(
    *, access, given_name, family_name, birth_date: datetime.date, **fields
) -> Person:
    """Record a person the access's organization serves (a recorded care relationship)."""
    organization_id = _require_partner(access)
    identity = _clean_identity(given_name, family_name, birth_date)
    fields = _clean_fields(access, fields)
    for key in ("given_name", "family_name", "birth_date"):
        fields.pop(key, None)
    person = Person(
        network=access.network,
        given_name=identity["given_name"],
        family_name=identity["family_name"],
        birth_date=identity["birth_date"].isoformat(),
        created_by_organization_id=organization_id,
        **person_indexes(family_name=identity["family_name"], birth_date=identity["birth_date"]),
        **fields,
    )
    person.save()
    relationship = CareRelationship.objects.create(
        network=access.network,
        person=person,
        organization_id=organization_id,
        source=CareRelationship.Source.RECORDED,
    )
    record_for(access, action=AuditEvent.Action.CREATE, obj=person, after=safe_snapshot(person))
    record_for(
        access,
        action=AuditEvent.Action.CREATE,
        obj=relationship,
        after=safe_snapshot(relationship),
    )
    return person


@transaction.atomic
def person_update(*, access, person: Person, **fields) -> Person:
    """Edit a person's record; only an organization that may see them edits them."""
    if not access.allows(Person, "change") or not selectors.may_see(access, person):
        raise PermissionDenied("Your organization may not edit this person.")
    if not selectors.serves(access, person):
        raise PermissionDenied("Only an organization serving the person edits their record.")
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = safe_snapshot(person)
    identity_keys = {"given_name", "family_name", "birth_date"}
    if identity_keys & set(fields):
        identity = _clean_identity(
            fields.get("given_name", person.given_name),
            fields.get("family_name", person.family_name),
            fields.get("birth_date", datetime.date.fromisoformat(person.birth_date)),
        )
        fields.update(identity)
    fields = _clean_fields(access, fields)
    if "birth_date" in fields or "family_name" in fields:
        birth = fields.get("birth_date") or datetime.date.fromisoformat(person.birth_date)
        for key, value in person_indexes(
            family_name=fields.get("family_name", person.family_name), birth_date=birth
        ).items():
            setattr(person, key, value)
    if isinstance(fields.get("birth_date"), datetime.date):
        fields["birth_date"] = fields["birth_date"].isoformat()
    for key, value in fields.items():
        setattr(person, key, value)
    person.save()
    person.refresh_from_db()
    record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=person,
        before=before,
        after=safe_snapshot(person),
    )
    return person


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity of two strings, 0..1 (1 for equal)."""
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    a_matched = [False] * len(a)
    b_matched = [False] * len(b)
    matches = 0
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_matched[j] and b[j] == ch:
                a_matched[i] = b_matched[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    a_chars = [ch for ch, hit in zip(a, a_matched, strict=True) if hit]
    b_chars = [ch for ch, hit in zip(b, b_matched, strict=True) if hit]
    transpositions = sum(x != y for x, y in zip(a_chars, b_chars, strict=True)) / 2
    jaro = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def name_similarity(given_a: str, family_a: str, given_b: str, family_b: str) -> float:
    """How alike two names are, tolerant of typos and of given/family swapped."""
    ga, fa, gb, fb = (normalize(x) for x in (given_a, family_a, given_b, family_b))
    straight = (jaro_winkler(ga, gb) + jaro_winkler(fa, fb)) / 2
    swapped = (jaro_winkler(ga, fb) + jaro_winkler(fa, gb)) / 2
    return max(straight, swapped)


def _transposed(birth_date: datetime.date) -> datetime.date | None:
    if birth_date.day > 12 or birth_date.day == birth_date.month:
        return None
    try:
        return birth_date.replace(month=birth_date.day, day=birth_date.month)
    except ValueError:
        return None


def find_duplicates(
    *, network, given_name, family_name, birth_date, exclude_pk=None
) -> list[tuple[Person, float]]:
    """People of the network who may be this person, best first, across organizations.

    Candidates share the date of birth (or its day/month swap) through the blind index;
    their decrypted names are then compared with Jaro-Winkler. The caller decides what
    to show: names only of people the reader may see."""
    indexes = {birth_date_index(birth_date): 1.0}
    swapped = _transposed(birth_date)
    if swapped:
        indexes[birth_date_index(swapped)] = TRANSPOSED_DATE_FACTOR
    candidates = Person.objects.filter(
        network=network, birth_date_index__in=list(indexes), merged_into__isnull=True
    )
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    found = []
    for person in candidates[:500]:
        score = name_similarity(given_name, family_name, person.given_name, person.family_name)
        score *= indexes.get(person.birth_date_index, 1.0)
        if score >= DUPLICATE_THRESHOLD:
            found.append((person, round(score, 3)))
    found.sort(key=lambda pair: (-pair[1], pair[0].pk))
    return found


def _fill_blanks(kept: Person, merged: Person) -> list[str]:
    filled = []
    for name in ("phone", "email", "street_address", "preferred_language", "area"):
        if not getattr(kept, name) and getattr(merged, name):
            setattr(kept, name, getattr(merged, name))
            filled.append(name)
    missing = {k: v for k, v in (merged.demographics or {}).items() if k not in kept.demographics}
    if missing:
        kept.demographics = {**(kept.demographics or {}), **missing}
        filled.append("demographics")
    return filled


@transaction.atomic
def person_merge(*, access, kept: Person, merged: Person, reason) -> PersonMerge:
    """Merge MERGED into KEPT: its consents, referrals, milestones, care relationships
    and access log move to KEPT; MERGED points to KEPT and leaves every list."""
    access.require_add(Person)
    reason = (reason or "").strip()
    if kept.pk == merged.pk:
        raise ValidationError({"merged": "A person cannot be merged with themselves."})
    if not reason:
        raise ValidationError({"reason": "Say why these records are the same person."})
    if selectors.visible_among(access, [kept.pk, merged.pk]) != {kept.pk, merged.pk}:
        raise PermissionDenied("Your organization may only merge people it may see.")
    if not (selectors.serves(access, kept) and selectors.serves(access, merged)):
        raise PermissionDenied("Your organization may only merge records of people it serves.")
    kept, merged = (
        Person.objects.select_for_update().get(pk=kept.pk),
        Person.objects.select_for_update().get(pk=merged.pk),
    )
    if kept.merged_into_id or merged.merged_into_id:
        raise ValidationError({"merged": "One of these records was already merged."})
    score = name_similarity(
        kept.given_name, kept.family_name, merged.given_name, merged.family_name
    )
    if kept.birth_date != merged.birth_date:
        score *= TRANSPOSED_DATE_FACTOR
    moved: dict[str, list[int]] = {}
    kept_orgs = set(
        CareRelationship.objects.filter(person=kept).values_list("organization_id", flat=True)
    )
    relationships = list(CareRelationship.objects.filter(person=merged))
    # The kept record's own relationship with an organization wins over the duplicate's.
    moved["care_relationships"] = [
        r.pk for r in relationships if r.organization_id not in kept_orgs
    ]
    moved["care_relationships_dropped"] = [
        r.pk for r in relationships if r.organization_id in kept_orgs
    ]
    CareRelationship.objects.filter(pk__in=moved["care_relationships"]).update(person=kept)
    CareRelationship.objects.filter(pk__in=moved["care_relationships_dropped"]).delete()
    for key, model in (
        ("consents", Consent),
        ("referrals", Referral),
        ("milestones", Milestone),
        ("accesses", PersonAccess),
    ):
        ids = list(model.objects.filter(person=merged).values_list("pk", flat=True))
        model.objects.filter(pk__in=ids).update(person=kept)
        moved[key] = ids
    kept_before = safe_snapshot(kept)
    moved["filled_fields"] = _fill_blanks(kept, merged)
    kept.save()
    merged_before = safe_snapshot(merged)
    merged.merged_into = kept
    merged.save(update_fields=["merged_into", "updated_at"])
    merge = PersonMerge.objects.create(
        network=access.network,
        kept=kept,
        merged=merged,
        actor=access.actor,
        organization_id=access.organization_id,
        reason=reason,
        score=round(score, 3),
        moved=moved,
    )
    record_for(access, action=AuditEvent.Action.CREATE, obj=merge, after=safe_snapshot(merge))
    record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=merged,
        before=merged_before,
        after=safe_snapshot(merged),
    )
    record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=kept,
        before=kept_before,
        after=safe_snapshot(kept),
    )
    return merge
