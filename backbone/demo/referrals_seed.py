"""The demo network's service coordination: people served, consents, referrals, messages,
notifications and three years of life-stage milestones along the designed pathways.

Built from a fixed seed with bulk inserts (identifying fields are encrypted by the model
fields as they are inserted), so the small demo starts in seconds. Running it again
changes nothing: a network that already has referrals is left alone.

What is there by design:
- every referral state: sent (some overdue), accepted, declined with each reason, in
  service, completed with each outcome, closed without service, forwarded (with the
  referral it was forwarded to), and a few self-referrals from the public directory;
- consents by named organizations or for treating participants, some expired, some
  revoked (after the person's last referral), some ended by an event;
- three years of journeys along each designed pathway, one referral per step, with
  drop-off at every step that is steeper for low-income families and for Black, Latino
  and American Indian families (the gaps the network exists to close);
- milestones from completed pathway referrals, and partners' records of what came after
  (enrolled in college, second year, employed).
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from faker import Faker

from backbone.core.models import Area, Membership, NetworkRole
from backbone.directory.models import Service
from backbone.ecosystem.models import Pathway, PathwayEdge, PathwayStep
from backbone.measurement.models import Category, Dimension
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Milestone,
    Notification,
    Person,
    Referral,
    ReferralEvent,
    ReferralMessage,
    ReferralSettings,
)
from backbone.referrals.people import person_indexes
from backbone.referrals.workflow import add_business_days

SEED = 5151
TODAY = datetime.date(2026, 11, 1)  # the demo's "now" (backbone.demo.seed.TODAY)
YEARS = 3
# People served, and how many start a designed pathway (the rest have one-off needs).
PEOPLE = {"small": 600, "medium": 4000, "state": 30000, "neighbour": 40}
ON_PATHWAYS = 0.55
S = Referral.Status
# How a one-off referral ends: status, weight.
ENDINGS = [
    (S.COMPLETED, 34),
    (S.DECLINED, 16),
    (S.CLOSED, 8),
    (S.FORWARDED, 5),
    (S.IN_SERVICE, 10),
    (S.ACCEPTED, 7),
    (S.SENT, 8),
]
DECLINES = [("no_capacity", 45), ("not_eligible", 25), ("unreachable", 20), ("other", 10)]
# Dimension code -> (category, weight); categories the network lacks are skipped.
WEIGHTS = {
    "race-ethnicity": [
        ("white", 38),
        ("hispanic-latino", 24),
        ("black-african-american", 20),
        ("asian", 6),
        ("multiracial", 5),
        ("american-indian-alaska-native", 2),
        ("middle-eastern-north-african", 2),
        ("native-hawaiian-pacific-islander", 1),
        ("not-reported", 2),
    ],
    "gender": [("female", 50), ("male", 46), ("another-gender", 2), ("not-reported", 2)],
    "income-band": [("below-100-fpl", 35), ("100-199-fpl", 35), ("200-plus-fpl", 25)]
    + [("not-reported", 5)],
    "disability": [("with-disability", 12), ("without-disability", 80), ("not-reported", 8)],
    "language": [("english-learner", 14), ("not-english-learner", 80), ("not-reported", 6)],
}
# Relative odds of taking the next step of a pathway, by group.
STEP_ODDS = {
    ("income-band", "below-100-fpl"): 0.78,
    ("income-band", "100-199-fpl"): 0.9,
    ("race-ethnicity", "black-african-american"): 0.88,
    ("race-ethnicity", "hispanic-latino"): 0.9,
    ("race-ethnicity", "american-indian-alaska-native"): 0.85,
    ("language", "english-learner"): 0.9,
}
LANGUAGES = [("en", 78), ("es", 15), ("vi", 3), ("so", 2), ("ar", 2)]
REASONS = [
    "Family asked for help with {need}.",
    "Referred at intake: {need}.",
    "School counselor flagged a need for {need}.",
    "Follow-up from last month's visit: {need}.",
]
MESSAGES = [
    "Left a voicemail; will try again tomorrow afternoon.",
    "The family prefers text messages in Spanish.",
    "Intake scheduled for next Tuesday at 4 pm.",
    "Could you send the signed release? We have the consent on file.",
    "First session done; attendance has been good.",
    "Waitlist is about three weeks right now.",
]
# What partners record after a pathway's last step: (pathway name, milestones, share).
AFTER = {
    "High-school senior to college": [
        ("Enrolled in college", 4, 0.8),
        ("Started second year of college", 5, 0.7),
        ("Employed", 6, 0.35),
    ],
    "From training to a first job": [("Employed six months", 5, 0.7)],
    "Ready for kindergarten": [("Started kindergarten", 1, 0.95)],
}


@dataclass
class _Referral:
    person: int  # index in the people list
    service: int  # Service pk
    to_org: int
    from_org: int | None
    sent: datetime.datetime
    status: str = S.SENT
    decline: str = ""
    outcome: str = ""
    responded: datetime.datetime | None = None
    started: datetime.datetime | None = None
    closed: datetime.datetime | None = None
    pathway: int | None = None
    pathway_name: str = ""
    step: PathwayStep | None = None
    forwarded_from: int | None = None  # index in the referral list
    consent: int = 0  # index in the consent list
    need: str = ""
    instance: Referral | None = None


@dataclass
class _Person:
    demographics: dict
    area: int | None
    birth: datetime.date
    home_org: int
    referrals: list[int] = field(default_factory=list)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _moment(day: datetime.date, rng: random.Random) -> datetime.datetime:
    naive = datetime.datetime.combine(day, datetime.time(rng.randint(8, 17), rng.randint(0, 59)))
    return timezone.make_aware(naive)


def _end_of_demo() -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(18)))


@transaction.atomic
def seed_referrals(network, size: str = "small", *, log=print) -> dict[str, int]:
    """Seed the network's people, consents, referrals and milestones (once)."""
    began = time.perf_counter()
    if Referral.objects.filter(network=network).exists():
        log(f"Referrals of {network.name} already seeded.")
        return {}
    rng = random.Random(SEED + sum(ord(ch) for ch in network.slug))
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    partners = list(
        Membership.objects.filter(
            network=network, status=Membership.Status.ACTIVE, role=Membership.Role.PARTNER
        )
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
    )
    services = list(
        Service.objects.filter(
            network=network, status="active", organization__organization_id__in=partners
        )
        .order_by("pk")
        .values_list("pk", "organization__organization_id", "name")
    )
    if len(partners) < 2 or not services:
        log("No partners or directory services to refer between; referrals not seeded.")
        return {}
    ReferralSettings.objects.get_or_create(network=network)
    staff = _staff(network)
    dimensions = _categories(network)
    areas = list(
        Area.objects.filter(network=network, kind__in=["zip", "city"])
        .order_by("code")
        .values_list("pk", flat=True)
    )
    people = [_new_person(rng, dimensions, areas, partners) for _ in range(PEOPLE.get(size, 600))]
    referrals: list[_Referral] = []
    pathways = _pathways(network, partners)
    cut = int(len(people) * ON_PATHWAYS)
    for index in range(cut):
        if pathways:
            _journey(rng, index, people[index], pathways[index % len(pathways)], referrals)
    by_org: dict[int, list[tuple[int, str]]] = {}
    for pk, org, name in services:
        by_org.setdefault(org, []).append((pk, name))
    for index in range(len(people)):
        extra = 1 if index >= cut else (1 if rng.random() < 0.3 else 0)
        for _ in range(extra):
            _one_off(rng, index, people[index], services, by_org, referrals)
    consents = _consents(rng, people, referrals)
    counts = _write(network, rng, fake, people, referrals, consents, staff)
    counts["seconds"] = round(time.perf_counter() - began, 1)
    log(
        f"Seeded service coordination: {counts['people']} people, {counts['consents']} "
        f"consents, {counts['referrals']} referrals, {counts['milestones']} milestones "
        f"({counts['seconds']} s)."
    )
    return counts


def _staff(network) -> dict[int, int]:
    """Organization id -> a staff member (its first org admin, else member)."""
    staff: dict[int, int] = {}
    roles = NetworkRole.objects.filter(
        network=network, role__in=["org_admin", "org_member"], organization__isnull=False
    ).order_by("role", "pk")
    for organization_id, user_id in roles.values_list("organization_id", "user_id"):
        staff.setdefault(organization_id, user_id)
    return staff


def _categories(network) -> dict[str, list[tuple[str, int]]]:
    present: dict[str, set[str]] = {}
    for dimension, code in Category.objects.filter(
        network=network, dimension__kind=Dimension.Kind.CATEGORICAL
    ).values_list("dimension__code", "code"):
        present.setdefault(dimension, set()).add(code)
    return {
        dimension: [(code, w) for code, w in pairs if code in present.get(dimension, ())]
        for dimension, pairs in WEIGHTS.items()
        if present.get(dimension)
    }


def _new_person(rng, dimensions, areas, partners) -> _Person:
    demographics = {d: _weighted(rng, pairs) for d, pairs in dimensions.items() if pairs}
    age = rng.choice([rng.randint(0, 5), rng.randint(10, 18), rng.randint(16, 24)])
    birth = TODAY - datetime.timedelta(days=age * 365 + rng.randint(0, 364))
    return _Person(
        demographics=demographics,
        area=rng.choice(areas) if areas else None,
        birth=birth,
        home_org=rng.choice(partners),
    )


@dataclass
class _Pathway:
    pk: int
    name: str
    # steps in order, each with the (service pk, organization id) that deliver it
    steps: list[tuple[PathwayStep, list[tuple[int, int]]]]
    next: dict[int, list[int]]  # step pk -> following step pks


def _pathways(network, partners) -> list[_Pathway]:
    found = []
    partner_set = set(partners)
    for pathway in Pathway.objects.filter(network=network).order_by("pk"):
        steps = list(
            PathwayStep.objects.filter(pathway=pathway)
            .order_by("position", "pk")
            .prefetch_related("services__organization")
        )
        usable = []
        for step in steps:
            offered = [
                (s.pk, s.organization.organization_id)
                for s in step.services.all()
                if s.organization and s.organization.organization_id in partner_set
            ]
            usable.append((step, offered))
        following: dict[int, list[int]] = {}
        for a, b in PathwayEdge.objects.filter(pathway=pathway).values_list(
            "from_step_id", "to_step_id"
        ):
            following.setdefault(a, []).append(b)
        if any(offered for _, offered in usable):
            found.append(_Pathway(pathway.pk, pathway.name, usable, following))
    return found


def _odds(person: _Person) -> float:
    odds = 1.0
    for (dimension, category), factor in STEP_ODDS.items():
        if person.demographics.get(dimension) == category:
            odds *= factor
    return odds


def _journey(rng, index: int, person: _Person, pathway: _Pathway, referrals) -> None:
    """Referrals along PATHWAY from its first step, one per step, until the person drops
    off or reaches the end; each step's referral starts after the previous one closed."""
    by_pk = {step.pk: (step, offered) for step, offered in pathway.steps}
    step, offered = pathway.steps[0]
    start = TODAY - datetime.timedelta(days=rng.randint(20, YEARS * 365 - 30))
    day = start
    sender = person.home_org
    while True:
        if offered:
            service, receiver = rng.choice(offered)
            if receiver == sender:
                sender = None if rng.random() < 0.05 else person.home_org
            if receiver == sender:
                sender = None
            if day >= TODAY - datetime.timedelta(days=2):
                break
            referral = _Referral(
                index,
                service,
                receiver,
                sender,
                _moment(day, rng),
                pathway=pathway.pk,
                pathway_name=pathway.name,
                step=step,
                need=step.name.lower(),
            )
            # Each later step is less likely, and less so for some groups.
            completes = rng.random() < 0.78 * _odds(person)
            _finish(rng, referral, completes=completes)
            referrals.append(referral)
            person.referrals.append(len(referrals) - 1)
            if referral.status != S.COMPLETED:
                return
            sender = receiver
            day = referral.closed.date() + datetime.timedelta(days=rng.randint(20, 150))
        choices = [by_pk[pk] for pk in pathway.next.get(step.pk, []) if pk in by_pk]
        if not choices or step.is_final:
            return
        step, offered = rng.choice(choices)
        if not offered:
            # A designed step no service delivers (e.g. text nudges): people pass through it.
            choices = [by_pk[pk] for pk in pathway.next.get(step.pk, []) if pk in by_pk]
            if not choices:
                return
            step, offered = rng.choice(choices)


def _one_off(rng, index, person: _Person, services, by_org, referrals) -> None:
    service, receiver, name = rng.choice(services)
    sender = person.home_org if receiver != person.home_org else None
    if sender is None and rng.random() < 0.6:
        return
    day = TODAY - datetime.timedelta(days=int(rng.triangular(0, YEARS * 365, 30)))
    referral = _Referral(index, service, receiver, sender, _moment(day, rng), need=name.lower())
    status = _weighted(rng, ENDINGS)
    _finish(rng, referral, status=status)
    referrals.append(referral)
    person.referrals.append(len(referrals) - 1)
    if referral.status == S.FORWARDED:
        others = [pk for pk in by_org if pk not in (receiver, sender)]
        if others:
            to = rng.choice(others)
            target, target_name = rng.choice(by_org[to])
            onward = _Referral(
                index,
                target,
                to,
                receiver,
                referral.closed,
                forwarded_from=len(referrals) - 1,
                need=target_name.lower(),
            )
            _finish(rng, onward, status=_weighted(rng, ENDINGS[:3] + ENDINGS[4:]))
            referrals.append(onward)
            person.referrals.append(len(referrals) - 1)


def _finish(rng, referral: _Referral, *, status: str | None = None, completes=None) -> None:
    """Give REFERRAL a status and timestamps consistent with it, before the demo's today."""
    end = _end_of_demo()
    sent = referral.sent
    if status is None:
        if completes:
            status = S.COMPLETED
        else:
            status = _weighted(
                rng, [(S.DECLINED, 5), (S.CLOSED, 3), (S.SENT, 1), (S.IN_SERVICE, 1)]
            )
    age_days = (end - sent).days
    # Referrals sent in the last weeks are still open more often.
    if age_days < 21 and status in (S.COMPLETED, S.CLOSED) and rng.random() < 0.7:
        status = rng.choice([S.ACCEPTED, S.IN_SERVICE])
    if age_days > 60 and status == S.SENT and rng.random() < 0.8:
        status = S.DECLINED
    responded = sent + datetime.timedelta(hours=rng.randint(2, 24 * rng.choice([1, 2, 3, 6])))
    started = responded + datetime.timedelta(days=rng.randint(1, 14))
    closed = started + datetime.timedelta(days=rng.randint(7, 120))
    if status in (S.COMPLETED, S.CLOSED, S.FORWARDED) and closed > end:
        status = S.IN_SERVICE
    if status == S.IN_SERVICE and started > end:
        status = S.ACCEPTED
    if status in (S.ACCEPTED, S.DECLINED) and responded > end:
        status = S.SENT
    referral.status = status
    if status != S.SENT:
        referral.responded = responded
    if status == S.DECLINED:
        referral.decline = _weighted(rng, DECLINES)
    if status in (S.IN_SERVICE, S.COMPLETED) or (status == S.CLOSED and rng.random() < 0.5):
        referral.started = started
    if status == S.COMPLETED:
        referral.outcome = rng.choice(
            [Referral.Outcome.SERVICE_RECEIVED, Referral.Outcome.GOAL_MET]
        )
        referral.closed = closed
    elif status in (S.CLOSED, S.FORWARDED):
        referral.closed = closed if referral.started else responded + datetime.timedelta(days=3)
    elif status == S.DECLINED:
        referral.closed = responded


def _consents(rng, people: list[_Person], referrals: list[_Referral]) -> list[dict]:
    """One consent per person and disclosing organization, covering their referrals; some
    expired after the person's last referral, some revoked, some ended by an event."""
    consents: list[dict] = []
    end = _end_of_demo()
    for index, person in enumerate(people):
        groups: dict[int, list[int]] = {}
        for r in person.referrals:
            referral = referrals[r]
            # A self-referral's consent is given to the receiving organization.
            discloser = referral.from_org or referral.to_org
            groups.setdefault(discloser, []).append(r)
        if not person.referrals:
            continue
        for discloser, items in groups.items():
            first = min(referrals[r].sent for r in items)
            last = max((referrals[r].closed or end) for r in items)
            still_open = any(
                referrals[r].status in (S.SENT, S.ACCEPTED, S.IN_SERVICE) for r in items
            )
            self_referral = any(referrals[r].from_org is None for r in items)
            recipients = (
                Consent.Recipients.NAMED
                if self_referral or rng.random() < 0.45
                else Consent.Recipients.TREATING
            )
            consent = {
                "person": index,
                "discloser": discloser,
                "recipients": recipients,
                "named": sorted({referrals[r].to_org for r in items} - {discloser})
                if recipients == Consent.Recipients.NAMED
                else [],
                "signed": first - datetime.timedelta(days=rng.randint(0, 5), hours=1),
                "signature": _weighted(rng, [("electronic", 50), ("paper", 35), ("verbal", 15)]),
                "expires_on": None,
                "expiry_event": "",
                "revoked": None,
                "event_at": None,
            }
            if self_referral:
                consent["signature"] = "electronic"
                consent["named"] = sorted({referrals[r].to_org for r in items})
            roll = rng.random()
            if still_open:
                consent["expires_on"] = TODAY + datetime.timedelta(days=rng.randint(120, 720))
            elif roll < 0.12:
                consent["revoked"] = last + datetime.timedelta(days=rng.randint(1, 60))
                consent["expires_on"] = TODAY + datetime.timedelta(days=rng.randint(30, 400))
            elif roll < 0.18:
                consent["expiry_event"] = "When the family leaves the program"
                consent["event_at"] = last + datetime.timedelta(days=rng.randint(1, 30))
            else:
                consent["expires_on"] = last.date() + datetime.timedelta(days=rng.randint(30, 540))
            for moment in ("revoked", "event_at"):
                if consent[moment] and consent[moment] > end:
                    consent[moment] = None
                    consent["expires_on"] = consent["expires_on"] or TODAY + datetime.timedelta(
                        days=365
                    )
                    consent["expiry_event"] = (
                        "" if consent["expires_on"] else consent["expiry_event"]
                    )
            consents.append(consent)
            for r in items:
                referrals[r].consent = len(consents) - 1
    return consents


def _write(network, rng, fake, people, referrals, consents, staff) -> dict[str, int]:
    created_at = _end_of_demo()
    rows = []
    for person in people:
        given = fake.first_name()
        family = fake.last_name()
        rows.append(
            Person(
                network=network,
                given_name=given,
                family_name=family,
                birth_date=person.birth.isoformat(),
                phone=f"555-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                email=f"{given.lower()}.{family.lower()}@example.net" if rng.random() < 0.5 else "",
                street_address=fake.street_address() if rng.random() < 0.6 else "",
                preferred_language=_weighted(rng, LANGUAGES),
                demographics=person.demographics,
                area_id=person.area,
                created_by_organization_id=person.home_org,
                created_at=created_at,
                **person_indexes(family_name=family, birth_date=person.birth),
            )
        )
    Person.objects.bulk_create(rows, batch_size=1000)
    relationships = {(rows[i].pk, person.home_org): "recorded" for i, person in enumerate(people)}
    consent_rows = []
    for consent in consents:
        consent_rows.append(
            Consent(
                network=network,
                person_id=rows[consent["person"]].pk,
                disclosing_organization_id=consent["discloser"],
                recipients=consent["recipients"],
                information=list(Consent.INFORMATION),
                purpose=Consent.Purpose.REFERRAL,
                expires_on=consent["expires_on"],
                expiry_event=consent["expiry_event"],
                expired_by_event_at=consent["event_at"],
                signature=consent["signature"],
                signed_by="The person",
                signed_at=consent["signed"],
                recorded_by_id=staff.get(consent["discloser"]),
                revoked_at=consent["revoked"],
                revoked_by_id=staff.get(consent["discloser"]) if consent["revoked"] else None,
                revocation_note="Asked by phone to stop sharing." if consent["revoked"] else "",
                created_at=consent["signed"],
            )
        )
    Consent.objects.bulk_create(consent_rows, batch_size=1000)
    through = Consent.recipient_organizations.through
    through.objects.bulk_create(
        [
            through(consent_id=consent_rows[n].pk, organization_id=org)
            for n, consent in enumerate(consents)
            for org in consent["named"]
        ],
        batch_size=2000,
    )
    referral_rows = []
    for referral in referrals:
        referral.instance = Referral(
            network=network,
            person_id=rows[referral.person].pk,
            consent_id=consent_rows[referral.consent].pk,
            from_organization_id=referral.from_org,
            to_organization_id=referral.to_org,
            to_service_id=referral.service,
            area_id=people[referral.person].area,
            pathway_id=referral.pathway,
            pathway_step=referral.step,
            status=referral.status,
            reason=rng.choice(REASONS).format(need=referral.need),
            decline_reason=referral.decline,
            outcome=referral.outcome,
            sent_at=referral.sent,
            respond_by=add_business_days(referral.sent, 3),
            responded_at=referral.responded,
            started_at=referral.started,
            closed_at=referral.closed,
            escalated_at=add_business_days(referral.sent, 4)
            if referral.status == S.SENT and add_business_days(referral.sent, 4) < created_at
            else None,
            created_by_id=staff.get(referral.from_org) if referral.from_org else None,
        )
        referral_rows.append(referral.instance)
    Referral.objects.bulk_create(referral_rows, batch_size=1000)
    linked = []
    for referral in referrals:
        if referral.forwarded_from is not None:
            referral.instance.forwarded_from_id = referrals[referral.forwarded_from].instance.pk
            linked.append(referral.instance)
    Referral.objects.bulk_update(linked, ["forwarded_from"], batch_size=1000)
    events, messages, notifications, milestones = [], [], [], []
    for referral in referrals:
        row = referral.instance
        steps = _events(referral)
        for before, after, at, org in steps:
            events.append(
                ReferralEvent(
                    network=network,
                    referral=row,
                    from_status=before,
                    to_status=after,
                    actor_id=staff.get(org) if org else None,
                    organization_id=org,
                    note="Self-referral from the public directory." if org is None else "",
                    at=at,
                )
            )
        if rng.random() < 0.3 and referral.from_org:
            for k in range(rng.randint(1, 3)):
                org = referral.from_org if k % 2 == 0 else referral.to_org
                moment = referral.sent + datetime.timedelta(hours=6 + 30 * k)
                if moment < created_at:
                    messages.append(
                        ReferralMessage(
                            network=network,
                            referral=row,
                            organization_id=org,
                            author_id=staff.get(org),
                            body=rng.choice(MESSAGES),
                            created_at=moment,
                        )
                    )
        receiver_staff = staff.get(referral.to_org)
        if receiver_staff and referral.sent > created_at - datetime.timedelta(days=45):
            overdue = referral.status == S.SENT and row.respond_by < created_at
            notifications.append(
                Notification(
                    network=network,
                    user_id=receiver_staff,
                    kind=Notification.Kind.OVERDUE
                    if overdue
                    else Notification.Kind.REFERRAL_RECEIVED,
                    referral=row,
                    text=(
                        "A referral to your service is overdue for a response."
                        if overdue
                        else "New referral received for one of your services."
                    ),
                    created_at=row.respond_by if overdue else referral.sent,
                    read_at=None if overdue or rng.random() < 0.5 else referral.sent,
                )
            )
        if referral.status in (S.ACCEPTED, S.IN_SERVICE, S.COMPLETED) or referral.started:
            relationships.setdefault((row.person_id, referral.to_org), "referral")
        if referral.status == S.COMPLETED and referral.step is not None:
            milestones.append(
                Milestone(
                    network=network,
                    person_id=row.person_id,
                    name=referral.step.name,
                    life_stage_id=referral.step.life_stage_id,
                    pathway_step=referral.step,
                    referral=row,
                    organization_id=referral.to_org,
                    source=Milestone.Source.REFERRAL,
                    achieved_on=timezone.localtime(referral.closed).date(),
                    recorded_by_id=staff.get(referral.to_org),
                    created_at=referral.closed,
                )
            )
    milestones += _recorded_milestones(network, rng, referrals, rows, staff)
    ReferralEvent.objects.bulk_create(events, batch_size=2000)
    ReferralMessage.objects.bulk_create(messages, batch_size=2000)
    Notification.objects.bulk_create(notifications, batch_size=2000)
    Milestone.objects.bulk_create(milestones, batch_size=2000)
    CareRelationship.objects.bulk_create(
        [
            CareRelationship(
                network=network,
                person_id=person_id,
                organization_id=org,
                source=source,
                started_on=TODAY - datetime.timedelta(days=rng.randint(0, YEARS * 365)),
            )
            for (person_id, org), source in relationships.items()
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return {
        "people": len(rows),
        "consents": len(consent_rows),
        "referrals": len(referral_rows),
        "events": len(events),
        "messages": len(messages),
        "notifications": len(notifications),
        "milestones": len(milestones),
    }


def _events(referral: _Referral) -> list[tuple[str, str, datetime.datetime, int | None]]:
    sender, receiver = referral.from_org, referral.to_org
    steps = [("", S.SENT, referral.sent, sender)]
    last = S.SENT
    status = referral.status
    if status == S.DECLINED:
        return [*steps, (last, S.DECLINED, referral.responded, receiver)]
    if referral.responded:
        steps.append((last, S.ACCEPTED, referral.responded, receiver))
        last = S.ACCEPTED
    if referral.started:
        steps.append((last, S.IN_SERVICE, referral.started, receiver))
        last = S.IN_SERVICE
    if status in (S.COMPLETED, S.CLOSED, S.FORWARDED):
        steps.append((last, status, referral.closed, receiver))
    return steps


def _recorded_milestones(network, rng, referrals, rows, staff) -> list[Milestone]:
    """What partners record after a pathway's last step (college, second year, work)."""
    stages = {position: pk for pk, position in _life_stages(network)}
    made = []
    seen = set()
    for referral in referrals:
        step = referral.step
        if referral.status != S.COMPLETED or step is None or not step.is_final:
            continue
        after = AFTER.get(referral.pathway_name, [])
        person_id = rows[referral.person].pk
        day = timezone.localtime(referral.closed).date()
        for name, stage_position, share in after:
            if (person_id, name) in seen or rng.random() > share:
                break
            day += datetime.timedelta(days=rng.randint(60, 330))
            if day >= TODAY:
                break
            seen.add((person_id, name))
            made.append(
                Milestone(
                    network=network,
                    person_id=person_id,
                    name=name,
                    life_stage_id=stages.get(stage_position),
                    organization_id=referral.to_org,
                    source=Milestone.Source.RECORDED,
                    achieved_on=day,
                    recorded_by_id=staff.get(referral.to_org),
                    created_at=timezone.make_aware(
                        datetime.datetime.combine(day, datetime.time(12))
                    ),
                )
            )
    return made


def _life_stages(network) -> list[tuple[int, int]]:
    from backbone.core.models import LifeStage

    return list(
        LifeStage.objects.filter(network=network).order_by("position").values_list("pk", "position")
    )
