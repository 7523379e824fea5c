"""The state-size service-coordination database of the `referrals` benchmark: the
network frame (areas, partners, services, pathways, staff), then people, consents,
referrals with their events, care relationships and milestones, generated in parallel
shards and copied into one SQLite file (see benchmarks/referrals.py)."""

from __future__ import annotations

import bisect
import datetime
import itertools
import json
import multiprocessing
import os
import random
import sqlite3
import time
from pathlib import Path

SLUG = "state-referrals"
ORGANIZATIONS = 2000
COUNTIES, CITIES = 60, 600
BATCH = 50_000
RACE = ["white", "hispanic-latino", "black-african-american", "asian", "multiracial"]
GENDER = ["female", "male", "another-gender"]
INCOME = ["below-100-fpl", "100-199-fpl", "200-plus-fpl"]
DECLINES = ["no_capacity", "not_eligible", "unreachable", "other"]
START = datetime.datetime(2023, 12, 1, tzinfo=datetime.UTC)
SEED = 7
SPAN_SECONDS = 3 * 365 * 86400
INBOX_EMAIL = "inbox-staff@bench.example"
ADMIN_EMAIL = "referrals-admin@bench.example"


def _frame() -> dict:
    """The network, areas, partners with directory services, dimensions, two designed
    pathways, a network admin and the staff member whose inbox is read."""
    import uuid

    from backbone.core.models import (
        Area,
        Membership,
        Network,
        NetworkRole,
        Organization,
        Sector,
        User,
    )
    from backbone.directory.models import DirectoryOrganization, Service
    from backbone.ecosystem.models import Pathway, PathwayEdge, PathwayStep
    from backbone.measurement.models import Category, Dimension, Framework
    from backbone.referrals.models import ReferralSettings

    network = Network.objects.create(
        name="State service coordination (referrals benchmark)", slug=SLUG, purpose="Benchmark."
    )
    Framework.objects.create(network=network)
    ReferralSettings.objects.create(network=network)
    state = Area.objects.create(network=network, code="ST", name="The State", kind="state")
    counties = Area.objects.bulk_create(
        Area(network=network, code=f"C{n:03d}", name=f"County {n}", kind="county", parent=state)
        for n in range(COUNTIES)
    )
    cities = Area.objects.bulk_create(
        Area(
            network=network,
            code=f"T{n:04d}",
            name=f"City {n}",
            kind="city",
            parent=counties[n % COUNTIES],
        )
        for n in range(CITIES)
    )
    Sector.ensure_defaults()
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Referral partner {n:04d}", slug=f"bench-referrals-{n:04d}")
        for n in range(ORGANIZATIONS)
    )
    Membership.objects.bulk_create(
        Membership(network=network, organization=o, status="active", role="partner")
        for o in organizations
    )
    listings = DirectoryOrganization.objects.bulk_create(
        DirectoryOrganization(network=network, hsds_id=uuid.uuid4(), name=o.name, organization=o)
        for o in organizations
    )
    services = Service.objects.bulk_create(
        Service(
            network=network,
            hsds_id=uuid.uuid4(),
            organization=listings[n % ORGANIZATIONS],
            name=f"Service {n}",
            status="active",
        )
        for n in range(2 * ORGANIZATIONS)
    )
    for position, (code, categories) in enumerate(
        (("race-ethnicity", RACE), ("gender", GENDER), ("income-band", INCOME))
    ):
        dimension = Dimension.objects.create(
            network=network, code=code, name=code, position=position
        )
        Category.objects.bulk_create(
            Category(network=network, dimension=dimension, code=c, name=c, position=i)
            for i, c in enumerate(categories)
        )
    pathways = []
    step_names, step_of = {}, {}  # the step a completed referral to a service marks
    for p, name in enumerate(("High school to college", "Ready for kindergarten")):
        pathway = Pathway.objects.create(network=network, name=name)
        steps = []
        for position in range(4):
            step = PathwayStep.objects.create(
                network=network,
                pathway=pathway,
                name=f"Step {position + 1}",
                position=position,
                is_final=position == 3,
            )
            chosen = services[p * 40 + position * 10 : p * 40 + position * 10 + 3]
            step.services.set(chosen)
            steps.append((step.pk, [(s.pk, s.organization.organization_id) for s in chosen]))
            step_names[step.pk] = step.name
            for service in chosen:
                step_of.setdefault(service.pk, step.pk)
        PathwayEdge.objects.bulk_create(
            PathwayEdge(
                network=network,
                pathway=pathway,
                from_step_id=steps[i][0],
                to_step_id=steps[i + 1][0],
            )
            for i in range(3)
        )
        pathways.append({"pk": pathway.pk, "steps": steps})
    admin = User.objects.create_user(email=ADMIN_EMAIL, password="x")
    NetworkRole.objects.create(user=admin, network=network, role="network_admin")
    # The inbox is read by the staff of the busiest receiver (organization 0).
    staff = User.objects.create_user(email=INBOX_EMAIL, password="x")
    NetworkRole.objects.create(
        user=staff, network=network, role="org_member", organization=organizations[0]
    )
    return {
        "network": network.pk,
        "cities": [a.pk for a in cities],
        "organizations": [o.pk for o in organizations],
        "services": [(s.pk, s.organization.organization_id) for s in services],
        "pathways": pathways,
        "step_names": step_names,
        "step_of": step_of,
        "staff": staff.pk,
    }


# The load: shards generated in parallel, then copied into the database in id order ---------

# How a referral's life is planned; its status is where that plan stands at the end of the
# span (a plan whose later steps fall after it is still sent, accepted or in service).
PLANS = [
    ("completed", 40),
    ("declined", 18),
    ("cancelled", 4),  # closed by the sender while still sent
    ("closed-accepted", 4),
    ("closed-started", 4),
    ("forwarded-sent", 2),
    ("forwarded-accepted", 2),
    ("forwarded-started", 1),
    ("unanswered", 3),  # still sent, escalated once overdue
]
REASONS = [
    "Needs help paying rent this month.",
    "Looking for an evening GED class.",
    "Wants a tutor in math before the spring term.",
    "Asked about child care near their work.",
    "Food insecure since losing a job.",
    "Needs a ride to medical appointments.",
    "Would like help applying to college.",
    "Interested in a job-training program.",
]
CLOSE_NOTES = [
    "The person moved away.",
    "The person no longer needs the service.",
    "We could not reach the person after three tries.",
    "The person chose another provider.",
]
GIVEN = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lupe"]
FAMILY = [
    a + b + c
    for a in ("Al", "Bar", "Cor", "Dal", "Ev", "Fen", "Gar", "Hol", "Is", "Jor", "Kel", "Lin")
    for b in ("a", "e", "i", "o", "ar", "en", "in", "ow")
    for c in ("son", "ton", "ley", "man", "ford", "well", "wood", "ez", "ski", "by")
]
LANGUAGES = ["en"] * 16 + ["es"] * 3 + ["vi"]
DAY = 86400
END = SPAN_SECONDS  # seconds after START: the database shows the network as of then
PAST_DAYS = 400  # people signed up to this long before START
COLUMNS = {
    "referrals_person": (
        "id, network_id, given_name, family_name, birth_date, phone, email, street_address, "
        "preferred_language, demographics, area_id, birth_year, birth_date_index, name_index, "
        "created_by_organization_id, merged_into_id, created_at, updated_at"
    ),
    "referrals_consent": (
        "id, network_id, person_id, disclosing_organization_id, recipients, information, "
        "information_description, purpose, purpose_description, expires_on, expiry_event, "
        "expired_by_event_at, signature, signed_by, signed_at, recorded_by_id, revoked_at, "
        "revoked_by_id, revocation_note, created_at"
    ),
    "referrals_referral": (
        "id, network_id, person_id, consent_id, from_organization_id, to_organization_id, "
        "to_service_id, area_id, pathway_id, pathway_step_id, forwarded_from_id, status, "
        "reason, decline_reason, outcome, sent_at, respond_by, responded_at, started_at, "
        "closed_at, escalated_at, created_by_id, updated_at"
    ),
    # No id: these get theirs from the copy, in order.
    "referrals_referralevent": (
        "network_id, referral_id, from_status, to_status, actor_id, organization_id, note, at"
    ),
    "referrals_carerelationship": (
        "network_id, person_id, organization_id, source, started_on, ended_on"
    ),
    "referrals_milestone": (
        "network_id, person_id, name, life_stage_id, pathway_step_id, referral_id, "
        "organization_id, source, achieved_on, recorded_by_id, created_at"
    ),
}


class Clock:
    """Timestamps as Django stores them on SQLite, from seconds after START, by table
    look-up (strftime per value was most of the load's time)."""

    def __init__(self) -> None:
        first = START - datetime.timedelta(days=PAST_DAYS)
        days = PAST_DAYS + SPAN_SECONDS // DAY + 10  # respond-by runs past the end
        self.dates = [
            (first + datetime.timedelta(days=n)).strftime("%Y-%m-%d") for n in range(days)
        ]
        self.days = [d + " " for d in self.dates]
        self.times = [
            f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]
        # Respond-by offsets (in days) by weekday, from the workflow's own rule.
        from backbone.referrals.workflow import add_business_days

        monday = datetime.datetime(2024, 1, 1)
        self.respond_days = [
            (add_business_days(monday + datetime.timedelta(days=n), 3) - monday).days - n
            for n in range(7)
        ]
        self.weekday = START.weekday()

    def stamp(self, t: int | None) -> str | None:
        if t is None:
            return None
        return self.days[t // DAY + PAST_DAYS] + self.times[t % DAY]

    def date(self, t: int) -> str:
        return self.dates[t // DAY + PAST_DAYS]

    def respond_by(self, sent: int) -> int:
        return sent + DAY * self.respond_days[(self.weekday + sent // DAY) % 7]


def _home(frame: dict, person: int) -> int:
    """The organization a person first came to (disclosing their consent, sending their
    referrals): spread over the partners by a fixed hash."""
    organizations = frame["organizations"]
    return organizations[(person * 2654435761) % 4294967291 % len(organizations)]


def _life(rng: random.Random, plan: str, sent: int) -> list[tuple]:
    """The planned steps [(from status, to status, by "from"/"to", seconds)], cut at END."""
    hours, days = 3600, DAY
    steps = [("", "sent", "from", sent)]
    if plan == "cancelled":
        steps.append(("sent", "closed", "from", sent + rng.randint(hours, 72 * hours)))
    elif plan != "unanswered":
        t = sent + rng.randint(hours, 120 * hours)
        if plan in ("declined", "forwarded-sent"):
            steps.append(("sent", plan.split("-")[0], "to", t))
        else:
            steps.append(("sent", "accepted", "to", t))
            if plan in ("closed-accepted", "forwarded-accepted"):
                steps.append(("accepted", plan.split("-")[0], "to", t + rng.randint(1, 30) * days))
            else:
                t += rng.randint(1, 10) * days + rng.randrange(8 * hours)
                steps.append(("accepted", "in_service", "to", t))
                if plan == "completed":
                    t += rng.randint(5, 90) * days + rng.randrange(8 * hours)
                    steps.append(("in_service", "completed", "to", t))
                else:
                    t += rng.randint(1, 30) * days
                    steps.append(("in_service", plan.split("-")[0], "to", t))
    return [step for step in steps if step[3] <= END]


def _shard(task: tuple) -> dict:
    """Generate people FIRST..LAST (and their consents) and COUNT referrals of those
    people with ids from BASE, with their events, care relationships and milestones,
    into a shard file of plain tables."""
    number, path, frame, first, last, base, count = task
    began = time.process_time()
    from backbone.referrals import crypto
    from backbone.referrals.people import birth_date_index, name_index

    encrypt = crypto.encrypt
    rng = random.Random(f"{SEED}-{number}")
    clock = Clock()
    stamp = clock.stamp
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    insert = {}
    for table, columns in COLUMNS.items():
        db.execute(f"CREATE TABLE {table} ({columns})")
        insert[table] = f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns.split(',')))})"  # noqa: S608
    db.execute("BEGIN")
    rows: dict[str, list] = {table: [] for table in COLUMNS}

    def add(table: str, row: tuple) -> None:
        batch = rows[table]
        batch.append(row)
        if len(batch) >= BATCH:
            db.executemany(insert[table], batch)
            batch.clear()

    network, cities = frame["network"], frame["cities"]
    information = json.dumps(["identity", "demographics", "referrals", "outcomes", "notes"])
    demographics = [
        json.dumps({"race-ethnicity": r, "gender": g, "income-band": i})
        for r in RACE
        for g in GENDER
        for i in INCOME
    ]
    births = [datetime.date(1995, 1, 1) + datetime.timedelta(days=n) for n in range(30 * 365)]
    birth_indexes: dict[int, str] = {}
    name_indexes: dict[str, str] = {}
    for pk in range(first, last + 1):
        b = rng.randrange(len(births))
        if b not in birth_indexes:
            birth_indexes[b] = birth_date_index(births[b])
        given, family = GIVEN[rng.randrange(len(GIVEN))], FAMILY[rng.randrange(len(FAMILY))]
        if family not in name_indexes:
            name_indexes[family] = name_index(family)
        home = _home(frame, pk)
        joined = stamp(-rng.randrange(PAST_DAYS * DAY))
        add(
            "referrals_person",
            (
                pk, network, encrypt(given), encrypt(family), encrypt(births[b].isoformat()),
                "", "", "", LANGUAGES[rng.randrange(len(LANGUAGES))],
                demographics[rng.randrange(len(demographics))], cities[pk % len(cities)],
                births[b].year, birth_indexes[b], name_indexes[family], home, None, joined, joined,
            ),
        )  # fmt: skip
        add(
            "referrals_consent",
            (
                pk, network, pk, home, "treating", information, "", "referral", "",
                "2030-12-31", "", None, "electronic", encrypt(f"{given} {family}"), joined,
                None, None, None, "", joined,
            ),
        )  # fmt: skip
    plans, weights = zip(*PLANS, strict=True)
    cumulative = list(itertools.accumulate(weights))
    services, pathways, step_of = frame["services"], frame["pathways"], frame["step_of"]
    staff_org = frame["organizations"][0]
    report = 1_000_000
    care: dict[tuple[int, int], int] = {}
    made = 0
    pk = base

    def referral(person, sender, service, receiver, sent, plan, pathway, step, forwarded_from):
        """Write one referral and what its life left behind; its final step."""
        nonlocal made, pk
        life = _life(rng, plan, sent)
        status = life[-1][1]
        by = {to: t for _, to, _, t in life}
        responded = life[1][3] if len(life) > 1 else None
        closed = life[-1][3] if status in ("declined", "completed", "closed", "forwarded") else None
        respond_by = clock.respond_by(sent)
        escalated = respond_by + 3600 - respond_by % 3600
        if escalated > END or (responded is not None and responded <= escalated):
            escalated = None
        decline = DECLINES[rng.randrange(4)] if status == "declined" else ""
        # Most senders say why (encrypted); a forwarded referral's reason is the forward note.
        reason = (
            encrypt(REASONS[rng.randrange(8)]) if not forwarded_from and rng.random() < 0.85 else ""
        )
        outcome = (
            ("goal_met" if rng.random() < 0.5 else "service_received")
            if status == "completed"
            else ""
        )
        add(
            "referrals_referral",
            (
                pk, network, person, person, sender, receiver, service,
                cities[person % len(cities)], pathway, step, forwarded_from, status, reason,
                decline, outcome, stamp(sent),
                stamp(respond_by), stamp(responded), stamp(by.get("in_service")), stamp(closed),
                stamp(escalated), None, stamp(life[-1][3]),
            ),
        )  # fmt: skip
        for before, after, side, t in life:
            note = (
                encrypt(CLOSE_NOTES[rng.randrange(len(CLOSE_NOTES))]) if after == "closed" else ""
            )
            organization = sender if side == "from" else receiver
            add(
                "referrals_referralevent",
                (network, pk, before, after, None, organization, note, stamp(t)),
            )
        if "accepted" in by:
            key = (person, receiver)
            care[key] = min(care.get(key, END), by["accepted"])
        milestone_step = step or step_of.get(service)
        if status == "completed" and milestone_step:
            add(
                "referrals_milestone",
                (
                    network, person, frame["step_names"][milestone_step], None, milestone_step, pk,
                    receiver, "referral", clock.date(closed), None, stamp(closed),
                ),
            )  # fmt: skip
        made += 1
        pk += 1
        return pk - 1, status, life[-1][3]

    def other_service(receiver):
        while True:
            service, to = services[rng.randrange(len(services))]
            if to != receiver:
                return service, to

    while made < count:
        if made >= report:
            print(f"  shard {number}: {made:,} referrals", flush=True)
            report += 1_000_000
        person = rng.randint(first, last)
        sender = _home(frame, person)
        if rng.random() < 0.25:
            # A quarter of the volume walks a designed pathway, one step after the other.
            pathway = pathways[person % len(pathways)]
            sent = rng.randrange(END // 2)
            for step, offered in pathway["steps"]:
                service, receiver = offered[rng.randrange(len(offered))]
                if receiver == sender:
                    sender = _home(frame, person + 1)
                if receiver == sender:
                    break
                roll = rng.random()
                plan = (
                    "completed" if roll < 0.7 else "declined" if roll < 0.85 else "closed-started"
                )
                _, status, at = referral(
                    person, sender, service, receiver, sent, plan, pathway["pk"], step, None
                )
                if status != "completed" or made >= count:
                    break
                sender, sent = receiver, at + rng.randint(1, 30) * DAY
            continue
        service, receiver = services[rng.randrange(len(services))]
        if rng.random() < 0.01:
            receiver, service = staff_org, services[0][0]
        if receiver == sender:
            continue
        sent = rng.randrange(END)
        plan = plans[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
        pk_, status, at = referral(person, sender, service, receiver, sent, plan, None, None, None)
        # A forwarded referral is followed by the new one the receiver sends on.
        while status == "forwarded" and made < count:
            service, to = other_service(receiver)
            plan = plans[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            pk_, status, at = referral(person, receiver, service, to, at, plan, None, None, pk_)
            receiver = to
    for (person, organization), t in sorted(care.items()):
        add(
            "referrals_carerelationship",
            (network, person, organization, "referral", clock.date(t), None),
        )
    for table, batch in rows.items():
        if batch:
            db.executemany(insert[table], batch)
    db.execute("COMMIT")
    db.close()
    return {"path": path, "cpu": time.process_time() - began, "referrals": made}


def _bulk(path: Path, frame: dict, people: int, referrals: int) -> None:
    processes = int(os.environ.get("REFERRAL_BENCH_PROCESSES", os.cpu_count() or 1))
    shards = max(1, min(processes, people))
    tasks, base = [], 1
    for n in range(shards):
        first, last = n * people // shards + 1, (n + 1) * people // shards
        count = (n + 1) * referrals // shards - n * referrals // shards
        shard = path.with_name(f"{path.stem}.shard{n}.sqlite3")
        tasks.append((n, shard, frame, first, last, base, count))
        base += count
    began = time.perf_counter()
    print(f"  {shards} shards on {processes} processes", flush=True)
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        done = pool.map(_shard, tasks, chunksize=1)
    seconds = time.perf_counter() - began
    cpu = sum(d["cpu"] for d in done)
    print(f"  generated in {seconds:.0f} s ({cpu:.0f} s CPU in the workers)", flush=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    db.execute(f"PRAGMA threads={max(1, processes)}")
    marks = ", ".join("?" * len(COLUMNS))
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})",  # noqa: S608
        tuple(COLUMNS),
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    began = time.perf_counter()
    for d in done:
        db.execute("ATTACH DATABASE ? AS shard", (str(d["path"]),))
        db.execute("BEGIN")
        for table, columns in COLUMNS.items():
            db.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM shard.{table}")  # noqa: S608
        db.execute("COMMIT")
        db.execute("DETACH DATABASE shard")
        d["path"].unlink()
    print(f"  copied in {time.perf_counter() - began:.0f} s; re-creating indexes", flush=True)
    began = time.perf_counter()
    for _, statement in indexes:
        db.execute(statement)
    print(f"  indexes in {time.perf_counter() - began:.0f} s; analyzing", flush=True)
    began = time.perf_counter()
    db.execute("ANALYZE")
    print(f"  analyzed in {time.perf_counter() - began:.0f} s", flush=True)
    db.close()
