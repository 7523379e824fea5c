"""Planning an import: every row checked against the network and what is stored, with
the natural keys that make a re-import change nothing (see importing.py)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from backbone.core import tabular
from backbone.core.access import ORG_ADMIN, Access, dangerously_unscoped
from backbone.core.models import Area, Membership
from backbone.core.tabular import RowError, RowPlan, Table
from backbone.directory.models import Service
from backbone.ecosystem.models import Pathway, PathwayStep
from backbone.referrals.crypto import normalize
from backbone.referrals.exchange.columns import (
    CONSENT_COLUMNS,
    CONSENT_REQUIRED,
    DATE_ORDER,
    LANGUAGE_RE,
    OPEN,
    PHONE_RE,
    REFERRAL_COLUMNS,
    STATUS_DATES,
    S,
)
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Person,
    Referral,
)
from backbone.referrals.people import birth_date_index, demographic_dimensions
from backbone.referrals.workflow import add_business_days, settings_for


@dataclass
class _PersonPlan:
    key: tuple  # (organization id, person_ref)
    row: int
    organization_id: int
    identity: tuple  # normalized (given, family, birth date)
    fields: dict
    pk: int | None = None  # the stored person, when found
    instance: Person | None = None


@dataclass
class _ConsentPlan:
    key: tuple
    row: int
    person: _PersonPlan
    fields: dict
    recipient_ids: frozenset
    pk: int | None = None
    instance: Consent | None = None


@dataclass
class ReferralRow(RowPlan):
    person: _PersonPlan | None = None
    consent: _ConsentPlan | None = None
    consent_pk: int | None = None  # a stored consent that covers the referral
    referral: dict | None = None  # the fields of a new referral
    events: list = field(default_factory=list)  # (from, to, at, organization id)


class Planner:
    """Works out what each row would do, reading what the file may name once."""

    def __init__(self, access: Access):
        self.access = access
        network = access.network
        self.today = timezone.localdate()
        self.organizations = dict(
            Membership.objects.filter(network=network, status=Membership.Status.ACTIVE).values_list(
                "organization__slug", "organization_id"
            )
        )
        self.names = {pk: slug for slug, pk in self.organizations.items()}
        self.services = {
            str(hsds_id): (pk, partner, name or "")
            for pk, hsds_id, partner, name in Service.objects.filter(network=network).values_list(
                "pk", "hsds_id", "organization__organization_id", "name"
            )
        }
        self.areas = dict(Area.objects.filter(network=network).values_list("code", "pk"))
        self.dimensions = {
            d.code: {c.code for c in d.categories.all()} for d in demographic_dimensions(network)
        }
        self.pathways = {
            name.lower(): pk
            for pk, name in Pathway.objects.filter(network=network).values_list("pk", "name")
        }
        self.steps = {
            (pathway, name.lower()): pk
            for pk, pathway, name in PathwayStep.objects.filter(network=network).values_list(
                "pk", "pathway_id", "name"
            )
        }
        self.respond_days = settings_for(network).response_business_days
        self.people: dict[tuple, _PersonPlan] = {}
        self.identities: dict[tuple, int] = {}  # (organization, identity) -> row
        self.consents: dict[tuple, _ConsentPlan] = {}
        self.referral_rows: dict[tuple, int] = {}

    # -- the whole file --

    def plan(self, table: Table) -> tuple[list[ReferralRow], list[RowError]]:
        self.people, self.identities, self.consents, self.referral_rows = {}, {}, {}, {}
        parsed, errors = [], []
        for number, values in table.rows:
            row_errors: list[RowError] = []
            plan = self.row(number, values, row_errors)
            errors.extend(row_errors)
            parsed.append((number, values, plan, not row_errors))
        if errors:
            return [plan for _, _, plan, ok in parsed if ok], errors
        self.match_people()
        self.match_consents()
        stored = self.stored_referrals()
        plans = []
        for number, values, plan, _ok in parsed:
            row_errors = []
            self.finish(number, values, plan, stored, row_errors)
            errors.extend(row_errors)
            plans.append(plan)
        return plans, errors

    # -- one row --

    def row(self, number: int, values: dict[str, str], errors: list[RowError]) -> ReferralRow:
        error = _Errors(number, values, errors)
        plan = ReferralRow(row=number, label=f"row {number}")
        organization_id = self.organization(values, error)
        ref = values.get("person_ref", "")
        if not ref:
            error("person_ref", "Give the organization's own id for this person.")
        person = self.person(number, values, organization_id, error)
        if organization_id is None or not ref or person is None:
            return plan
        plan.label = f"{self.names[organization_id]} / {ref}"
        plan.person = person
        consent = self.consent(number, values, person, error)
        plan.consent = consent
        if values.get("service"):
            self.referral(number, values, plan, error)
        else:
            for column in REFERRAL_COLUMNS:
                if values.get(column):
                    error(column, "This row has no service: a referral needs the service's id.")
                    break
        return plan

    def organization(self, values, error) -> int | None:
        slug = values.get("organization", "")
        if not slug and self.access.role == ORG_ADMIN:
            return self.access.organization_id
        organization_id = self.organizations.get(slug)
        if organization_id is None:
            error(
                "organization",
                f"No active partner of this network has the slug “{slug}”."
                if slug
                else "Give the slug of the organization that records the person.",
            )
            return None
        if self.access.role == ORG_ADMIN and organization_id != self.access.organization_id:
            error("organization", "You may import only your own organization's people.")
            return None
        return organization_id

    def person(self, number, values, organization_id, error) -> _PersonPlan | None:
        before = len(error)
        given, family = values.get("given_name", ""), values.get("family_name", "")
        if not normalize(given):
            error("given_name", "The given name is missing.")
        if not normalize(family):
            error("family_name", "The family name is missing.")
        birth_date = self.date(values, "birth_date", error, required=True)
        if birth_date and birth_date.year < 1900:
            error("birth_date", "The date of birth is before 1900.")
            birth_date = None
        fields = {"given_name": given, "family_name": family}
        for column in ("phone", "email", "street_address", "preferred_language"):
            fields[column] = values.get(column, "")
        if fields["email"]:
            try:
                validate_email(fields["email"])
            except ValidationError:
                error("email", "This is not an email address.")
        if fields["phone"] and not PHONE_RE.fullmatch(fields["phone"]):
            error("phone", "This is not a phone number (digits, spaces, + - ( ) . only).")
        if fields["preferred_language"] and not LANGUAGE_RE.fullmatch(fields["preferred_language"]):
            error("preferred_language", "Write the language as a code such as en, es or vi.")
        area = values.get("area", "")
        fields["area_id"] = self.areas.get(area) if area else None
        if area and fields["area_id"] is None:
            error("area", f"This network has no area with the code “{area}”.")
        demographics = {}
        for dimension, categories in self.dimensions.items():
            code = values.get(dimension, "")
            if not code:
                continue
            if code not in categories:
                error(
                    dimension,
                    f"“{code}” is not a category of {dimension}; use one of: "
                    f"{', '.join(sorted(categories))}.",
                )
            demographics[dimension] = code
        fields["demographics"] = demographics
        if len(error) > before or organization_id is None or not values.get("person_ref"):
            return None
        fields["birth_date"] = birth_date.isoformat()
        identity = (normalize(given), normalize(family), birth_date.isoformat())
        key = (organization_id, values["person_ref"])
        known = self.people.get(key)
        if known is not None:
            if known.identity != identity or _comparable(known.fields) != _comparable(fields):
                error(
                    "person_ref",
                    f"Row {known.row} gives this person_ref other details (name, date of "
                    "birth, contact, area or demographics); a person's rows must agree.",
                )
                return None
            return known
        seen = self.identities.get((organization_id, identity))
        if seen is not None:
            error(
                "person_ref",
                f"Row {seen} has the same name and date of birth under another person_ref; "
                "one person has one person_ref.",
            )
            return None
        self.identities[(organization_id, identity)] = number
        plan = _PersonPlan(key, number, organization_id, identity, fields)
        self.people[key] = plan
        return plan

    def consent(self, number, values, person: _PersonPlan, error) -> _ConsentPlan | None:
        given = [c for c in CONSENT_COLUMNS if values.get(c)]
        if not given:
            return None
        before = len(error)
        for column in CONSENT_REQUIRED:
            if not values.get(column):
                error(column, "A consent needs this; fill in every consent column or none.")
        recipients = tabular.choice_code(values.get("consent_recipients", ""), Consent.Recipients)
        if values.get("consent_recipients") and recipients is None:
            error("consent_recipients", "Write named or treating.")
        recipient_ids = []
        for slug in tabular.split_list(values.get("consent_recipient_organizations", "")):
            if slug not in self.organizations:
                error(
                    "consent_recipient_organizations",
                    f"No active partner of this network has the slug “{slug}”.",
                )
            else:
                recipient_ids.append(self.organizations[slug])
        if recipients == Consent.Recipients.NAMED and not recipient_ids and len(error) == before:
            error(
                "consent_recipient_organizations",
                "A consent to named organizations names at least one (slugs, separated by ;).",
            )
        information = tabular.split_list(values.get("consent_information", "").lower())
        unknown = [i for i in information if i not in Consent.INFORMATION]
        if unknown:
            error(
                "consent_information",
                f"Unknown information “{unknown[0]}”; use: {', '.join(Consent.INFORMATION)}.",
            )
        purpose = tabular.choice_code(values.get("consent_purpose", ""), Consent.Purpose)
        if values.get("consent_purpose") and purpose is None:
            error("consent_purpose", f"Use one of: {', '.join(Consent.Purpose.values)}.")
        described = values.get("consent_purpose_description", "")
        if purpose == Consent.Purpose.OTHER and not described:
            error("consent_purpose_description", "A consent for another purpose describes it.")
        signature = tabular.choice_code(values.get("consent_signature", ""), Consent.Signature)
        if values.get("consent_signature") and signature is None:
            error("consent_signature", f"Use one of: {', '.join(Consent.Signature.values)}.")
        signed_on = self.date(values, "consent_signed_on", error)
        expires_on = self.date(values, "consent_expires_on", error, future=True)
        event = values.get("consent_expiry_event", "")
        if not expires_on and not event and not values.get("consent_expires_on"):
            error(
                "consent_expires_on",
                "A consent needs an expiry date or an expiry event (consent_expiry_event).",
            )
        if signed_on and expires_on and expires_on < signed_on:
            error("consent_expires_on", "The consent expires before it was signed.")
        if len(event) > 200:
            error("consent_expiry_event", "Describe the event in at most 200 characters.")
        if len(error) > before:
            return None
        fields = {
            "disclosing_organization_id": person.organization_id,
            "recipients": recipients,
            "information": sorted(set(information)),
            "purpose": purpose,
            "purpose_description": described,
            "expires_on": expires_on,
            "expiry_event": event,
            "signature": signature,
            "signed_by": values["consent_signed_by"],
            "signed_on": signed_on,
        }
        ids = frozenset(recipient_ids) if recipients == Consent.Recipients.NAMED else frozenset()
        key = (person.key, *_consent_terms(fields), ids)
        if key not in self.consents:
            self.consents[key] = _ConsentPlan(key, number, person, fields, ids)
        return self.consents[key]

    def referral(self, number, values, plan: ReferralRow, error) -> None:
        before = len(error)
        service = self.services.get(values["service"])
        if service is None:
            error("service", "No service of this network's directory has this id.")
        elif service[1] is None or service[1] not in self.names:
            error(
                "service",
                f"“{service[2]}” is not offered by an active partner of the network, so it "
                "cannot receive referrals.",
            )
        elif service[1] == plan.person.organization_id:
            error("service", "An organization does not refer to its own service.")
        status = values.get("status", "") or S.SENT
        if status not in STATUS_DATES:
            error(
                "status",
                "Unknown status; use one of: "
                + ", ".join(STATUS_DATES)
                + " (forwarded referrals are imported as the referral they were forwarded to).",
            )
        decline = values.get("decline_reason", "")
        if status == S.DECLINED and not decline:
            error("decline_reason", "A declined referral needs a reason.")
        elif decline and status != S.DECLINED:
            error("decline_reason", "Only a declined referral has a decline reason.")
        elif decline and decline not in Referral.DeclineReason.values:
            error("decline_reason", f"Use one of: {', '.join(Referral.DeclineReason.values)}.")
        outcome = values.get("outcome", "")
        if status == S.COMPLETED and not outcome:
            error("outcome", "A completed referral needs an outcome.")
        elif outcome and status != S.COMPLETED:
            error("outcome", "Only a completed referral has an outcome.")
        elif outcome and outcome not in Referral.Outcome.values:
            error("outcome", f"Use one of: {', '.join(Referral.Outcome.values)}.")
        moments = {}
        for column in DATE_ORDER:
            moments[column] = self.moment(values, column, error, required=column == "sent_on")
        for column in STATUS_DATES.get(status, ()):
            if not values.get(column):
                error(column, f"A referral that is {status} needs this date.")
        previous = None
        for column in DATE_ORDER:
            if moments[column] and previous and moments[column] < moments[previous]:
                error(column, f"This is before {previous}.")
            previous = column if moments[column] else previous
        pathway_id = step_id = None
        if values.get("pathway"):
            pathway_id = self.pathways.get(values["pathway"].lower())
            if pathway_id is None:
                error("pathway", "This network has no designed pathway of this name.")
        if values.get("pathway_step"):
            step_id = self.steps.get((pathway_id, values["pathway_step"].lower()))
            if step_id is None and pathway_id is not None:
                error("pathway_step", "The pathway has no step of this name.")
            elif pathway_id is None and not values.get("pathway"):
                error("pathway", "Name the pathway of the step.")
        if len(error) > before:
            return
        key = (plan.person.key, values["service"], moments["sent_on"])
        if key in self.referral_rows:
            error(
                "sent_on",
                f"Row {self.referral_rows[key]} has the same person, service and sent date: "
                "a referral is in the file twice.",
            )
            return
        self.referral_rows[key] = number
        sent = moments["sent_on"]
        plan.referral = {
            "network_id": self.access.network.pk,
            "from_organization_id": plan.person.organization_id,
            "to_organization_id": service[1],
            "to_service_id": service[0],
            "service_name": service[2],
            "status": status,
            "decline_reason": decline,
            "outcome": outcome,
            "sent_at": sent,
            "respond_by": add_business_days(sent, self.respond_days),
            "responded_at": moments["responded_on"],
            "started_at": moments["started_on"],
            "closed_at": moments["closed_on"],
            "pathway_id": pathway_id,
            "pathway_step_id": step_id,
            "reason": values.get("reason", ""),
        }

    def date(self, values, column, error, *, required=False, future=False):
        text = values.get(column, "")
        if not text:
            if required:
                error(column, "This date is missing.")
            return None
        try:
            value = parse_date(text)
        except ValueError:
            value = None
        if value is None:
            error(column, "Write the date as YYYY-MM-DD.")
            return None
        if not future and value > self.today:
            error(column, "This date is in the future.")
            return None
        return value

    def moment(self, values, column, error, *, required=False):
        text = values.get(column, "")
        if not text:
            if required:
                error(column, "This date is missing.")
            return None
        try:
            value = parse_datetime(text) if len(text) > 10 else None
            day = parse_date(text) if value is None else None
        except ValueError:
            value = day = None
        if value is None and day is None:
            error(column, "Write the date as YYYY-MM-DD (or YYYY-MM-DD HH:MM).")
            return None
        if value is None:
            value = datetime.datetime.combine(day, datetime.time(9))
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        if value > timezone.now():
            error(column, "This date is in the future.")
            return None
        return value

    # -- what is stored --

    def match_people(self) -> None:
        """Find each person of the file among the people their organization already serves."""
        indexes = {
            birth_date_index(datetime.date.fromisoformat(p.identity[2]))
            for p in self.people.values()
        }
        organization_ids = {plan.organization_id for plan in self.people.values()}
        found = {}
        for chunk in _chunks(sorted(indexes)):
            served = CareRelationship.objects.filter(
                network=self.access.network,
                organization_id__in=organization_ids,
                person__birth_date_index__in=chunk,
                person__merged_into__isnull=True,
            ).values_list("person_id", "organization_id")
            serving: dict[int, set[int]] = {}
            for person_id, organization_id in served:
                serving.setdefault(person_id, set()).add(organization_id)
            candidates = Person.objects.filter(pk__in=list(serving)).only(
                "pk", "given_name", "family_name", "birth_date"
            )
            for person in candidates:
                identity = (
                    normalize(person.given_name),
                    normalize(person.family_name),
                    person.birth_date,
                )
                for organization_id in serving[person.pk]:
                    found.setdefault((organization_id, identity), person.pk)
        for plan in self.people.values():
            plan.pk = found.get((plan.organization_id, plan.identity))

    def match_consents(self) -> None:
        stored = [plan.pk for plan in self.people.values() if plan.pk]
        self.stored_consents: dict[int, list[Consent]] = {}
        consents = (
            consent
            for chunk in _chunks(stored)
            for consent in Consent.objects.filter(person_id__in=chunk).prefetch_related(
                "recipient_organizations"
            )
        )
        by_key = {}
        for consent in consents:
            self.stored_consents.setdefault(consent.person_id, []).append(consent)
            fields = {
                "disclosing_organization_id": consent.disclosing_organization_id,
                "recipients": consent.recipients,
                "information": sorted(set(consent.information or [])),
                "purpose": consent.purpose,
                "expires_on": consent.expires_on,
                "expiry_event": consent.expiry_event,
                "signature": consent.signature,
                "signed_on": timezone.localtime(consent.signed_at).date(),
            }
            ids = frozenset(o.pk for o in consent.recipient_organizations.all())
            by_key[(consent.person_id, *_consent_terms(fields), ids)] = consent
        for plan in self.consents.values():
            if plan.person.pk:
                stored_consent = by_key.get((plan.person.pk, *plan.key[1:]))
                plan.pk = stored_consent.pk if stored_consent else None

    def stored_referrals(self) -> dict[tuple, dict]:
        stored = [plan.pk for plan in self.people.values() if plan.pk]
        fields = ("pk", "person_id", "from_organization_id", "to_service_id", "sent_at")
        fields += ("status", "decline_reason", "outcome", "responded_at", "started_at")
        # Whoever may see them: an existing referral decides unchanged or conflict.
        rows = (
            row
            for chunk in _chunks(stored)
            for row in dangerously_unscoped(Referral)
            .filter(person_id__in=chunk)
            .values(*fields, "closed_at")
        )
        return {
            (
                row["person_id"],
                row["from_organization_id"],
                row["to_service_id"],
                row["sent_at"],
            ): row
            for row in rows
        }

    def finish(self, number, values, plan: ReferralRow, stored, errors) -> None:
        error = _Errors(number, values, errors)

        changes = []
        person = plan.person
        if person.pk is None and person.row == number:
            changes.append(("person", "", "new"))
        consent = plan.consent
        if consent is not None and consent.pk is None and consent.row == number:
            changes.append(
                ("consent", "", f"{consent.fields['recipients']}, {consent.fields['purpose']}")
            )
        referral = plan.referral
        if referral is not None:
            found = (
                stored.get(
                    (
                        person.pk,
                        referral["from_organization_id"],
                        referral["to_service_id"],
                        referral["sent_at"],
                    )
                )
                if person.pk
                else None
            )
            if found is not None:
                differs = [
                    name
                    for name in (
                        "status",
                        "decline_reason",
                        "outcome",
                        "responded_at",
                        "started_at",
                        "closed_at",
                    )
                    if found[name] != referral[name]
                ]
                if differs:
                    error(
                        "status" if "status" in differs else differs[0].replace("_at", "_on"),
                        f"This referral is already recorded (as {found['status']}) with another "
                        f"{differs[0].replace('_at', ' date')}; an import does not change recorded "
                        "referrals: update it on its page.",
                    )
                plan.referral = None
            else:
                self.check_consent(plan, values, error)
                if not errors:
                    changes.append(
                        ("referral", "", f"{referral['status']} to {referral['service_name']}")
                    )
        plan.changes = changes
        plan.action = RowPlan.CREATE if changes else RowPlan.UNCHANGED

    def check_consent(self, plan: ReferralRow, values, error) -> None:
        """The referral needs a consent active when it was sent (and today, if still open)
        under which the receiver may see the person's identity and referrals."""
        referral = plan.referral
        sent_on = timezone.localtime(referral["sent_at"]).date()
        receiver = referral["to_organization_id"]
        dates = [sent_on] + ([self.today] if referral["status"] in OPEN else [])
        if plan.consent is not None:
            terms = plan.consent.fields
            reason = _not_covering(
                terms, plan.consent.recipient_ids, receiver, dates, revoked_on=None
            )
            if reason:
                error(_reason_column(reason), reason)
            return
        for consent in self.stored_consents.get(plan.person.pk, []):
            if consent.disclosing_organization_id != plan.person.organization_id:
                continue
            terms = {
                "recipients": consent.recipients,
                "information": consent.information or [],
                "expires_on": consent.expires_on,
                "signed_on": timezone.localtime(consent.signed_at).date(),
                "expiry_event_on": consent.expired_by_event_at
                and timezone.localtime(consent.expired_by_event_at).date(),
            }
            ids = {o.pk for o in consent.recipient_organizations.all()}
            revoked_on = consent.revoked_at and timezone.localtime(consent.revoked_at).date()
            if not _not_covering(terms, ids, receiver, dates, revoked_on=revoked_on):
                plan.consent_pk = consent.pk
                return
        error(
            "service",
            f"No active consent lets {self.names.get(receiver, 'the receiver')} see this "
            f"person's identity and referrals on {sent_on.isoformat()}"
            + (" and today" if len(dates) > 1 else "")
            + "; fill in the consent columns.",
        )


def _chunks(items: list, size: int = 2000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Errors:
    """Collects the errors of one row: `error(column, message)`; `len(error)` counts them."""

    def __init__(self, number: int, values: dict[str, str], errors: list[RowError]):
        self.number, self.values, self.errors = number, values, errors

    def __call__(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, self.values.get(column, ""), message))

    def __len__(self) -> int:
        return len(self.errors)


def _comparable(fields: dict) -> tuple:
    return tuple(
        sorted(
            (k, str(v))
            for k, v in fields.items()
            if k not in ("given_name", "family_name", "birth_date")
        )
    )


def _consent_terms(fields: dict) -> tuple:
    return (
        fields["disclosing_organization_id"],
        fields["recipients"],
        tuple(fields["information"]),
        fields["purpose"],
        fields["expires_on"],
        fields["expiry_event"],
        fields["signature"],
        fields["signed_on"],
    )


def _not_covering(terms, recipient_ids, receiver, dates, *, revoked_on) -> str:
    """Why a consent does not cover the receiver on each of DATES, or ''."""
    missing = [i for i in ("identity", "referrals") if i not in terms["information"]]
    if missing:
        return f"The consent does not include {' and '.join(missing)}; a referral needs both."
    if terms["recipients"] == Consent.Recipients.NAMED and receiver not in recipient_ids:
        return "The consent does not name the organization offering the service."
    for day in dates:
        if terms["signed_on"] and terms["signed_on"] > day:
            return f"The consent was signed after {day.isoformat()}."
        if terms["expires_on"] and terms["expires_on"] < day:
            return f"The consent expired before {day.isoformat()}."
        if revoked_on and revoked_on <= day:
            return f"The consent was revoked before {day.isoformat()}."
        ended = terms.get("expiry_event_on")
        if ended and ended <= day:
            return f"The consent ended (its expiry event) before {day.isoformat()}."
    return ""


def _reason_column(reason: str) -> str:
    if "include" in reason:
        return "consent_information"
    if "name the organization" in reason:
        return "consent_recipient_organizations"
    if "signed" in reason:
        return "consent_signed_on"
    return "consent_expires_on"
