"""`referrals`: service coordination at state size, 2 million people, 10 million referrals.

Generates the people, their consents and their referrals straight into an own SQLite
database (cached as `var/bench/referrals-<people>-<referrals>.sqlite3`, so reruns start at
once) with executemany in big batches, secondary indexes dropped during the load and
re-created after. Names and dates of birth are encrypted one by one with
`crypto.encrypt`, as the application stores them. Then it measures:

- funnel analytics (`funnels.pathway_funnel`, overall and by income band) and network
  analytics (`network_metrics.network_metrics`): the first (cold) call, then the p50/p95
  of 200 warm calls; a function missing from the tree is reported as not available;
- the referral inbox page (`referrals:inbox`, the received tab) as a receiving
  organization's staff member: 200 requests one after another through Django's test
  client in-process (no HTTP server: the figure is the view, its queries and the
  template, without the network and WSGI server overhead).

Sizes: REFERRAL_BENCH_PEOPLE (2,000,000) and REFERRAL_BENCH_REFERRALS (10,000,000).
Run alone: `.venv/bin/python benchmarks/referrals.py [--people N --referrals N]`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.environment import BENCH_DIR, BENCH_ENCRYPTION_KEY  # noqa: E402
from benchmarks.harness import Context, Row, benchmark, latency  # noqa: E402

SHAPE = 1  # bump when the generated shape changes, so caches are rebuilt
PEOPLE = int(os.environ.get("REFERRAL_BENCH_PEOPLE", 2_000_000))
REFERRALS = int(os.environ.get("REFERRAL_BENCH_REFERRALS", 10_000_000))
SLUG = "state-referrals"
ORGANIZATIONS = 2000
COUNTIES, CITIES = 60, 600
BATCH = 50_000
RACE = ["white", "hispanic-latino", "black-african-american", "asian", "multiracial"]
GENDER = ["female", "male", "another-gender"]
INCOME = ["below-100-fpl", "100-199-fpl", "200-plus-fpl"]
STATUSES = [
    ("completed", 34),
    ("declined", 16),
    ("closed", 8),
    ("forwarded", 4),
    ("in_service", 12),
    ("accepted", 10),
    ("sent", 16),
]
DECLINES = ["no_capacity", "not_eligible", "unreachable", "other"]
START = datetime.datetime(2023, 11, 1, tzinfo=datetime.UTC)
SPAN_SECONDS = 3 * 365 * 86400
INBOX_EMAIL = "inbox-staff@bench.example"
ADMIN_EMAIL = "referrals-admin@bench.example"


def database_path(people: int, referrals: int) -> Path:
    label = "2m-10m" if (people, referrals) == (2_000_000, 10_000_000) else f"{people}-{referrals}"
    return BENCH_DIR / f"referrals-{label}.sqlite3"


@benchmark("referrals", needs_server=False, needs_database=False)
def referrals_benchmark(context: Context) -> list[Row]:
    """Referrals at 2M people / 10M referrals: funnel and network analytics, inbox p95."""
    path = database_path(PEOPLE, REFERRALS)
    env = {**context.env, "DATABASE_URL": f"sqlite:///{path}"}
    output = BENCH_DIR / "referrals.json"
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__)),
            "--people",
            str(PEOPLE),
            "--referrals",
            str(REFERRALS),
            "--json",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=6 * 3600,
    )
    return [Row(**row) for row in json.loads(output.read_text())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=PEOPLE)
    parser.add_argument("--referrals", type=int, default=REFERRALS)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--generate-only", action="store_true", help="only build the database")
    args = parser.parse_args(argv)
    path = database_path(args.people, args.referrals)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backbone.config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 60)
    hosts = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1").split(",") if h]
    os.environ["ALLOWED_HOSTS"] = ",".join([*hosts, "testserver"])
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    # Production settings refuse to start without a key; the cached database is encrypted
    # with this fixed benchmark-only key, so reruns can read it.
    os.environ.setdefault("BACKBONE_ENCRYPTION_KEYS", BENCH_ENCRYPTION_KEY)
    import django

    django.setup()
    rows = [generate(path, args.people, args.referrals)]
    print(f"{rows[0]['case']}: {rows[0]['metrics']}", flush=True)
    if not args.generate_only:
        for step in (measure_funnels, measure_network, measure_inbox, measure_export):
            for row in step(args.requests):
                print(f"{row['case']}: {row['metrics']}", flush=True)
                rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, default=str, indent=2) + "\n")
    return 0


def _row(case: str, metrics: dict, **details) -> dict:
    return {"benchmark": "referrals", "case": case, "metrics": metrics, "details": details}


# Generation ------------------------------------------------------------------------------


def generate(path: Path, people: int, referrals: int) -> dict:
    marker = path.with_suffix(".json")
    try:
        known = json.loads(marker.read_text())
    except (OSError, ValueError):
        known = {}
    wanted = {"shape": SHAPE, "people": people, "referrals": referrals}
    if path.exists() and all(known.get(k) == v for k, v in wanted.items()):
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        size = path.stat().st_size / 1e9
        return _row(
            f"database ({people:,} people, {referrals:,} referrals, {size:.1f} GB)",
            {"s": known["seconds"], "note": "reused"},
        )
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        file.unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    frame = _frame()
    from django.db import connection

    connection.close()
    _bulk(path, frame, people, referrals)
    seconds = time.perf_counter() - began
    marker.write_text(json.dumps({**wanted, "seconds": seconds}) + "\n")
    size = path.stat().st_size / 1e9
    return _row(
        f"database ({people:,} people, {referrals:,} referrals, {size:.1f} GB)",
        {"s": seconds, "note": "generated"},
    )


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
        "staff": staff.pk,
    }


def _stamp(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None


def _bulk(path: Path, frame: dict, people: int, referrals: int) -> None:
    from backbone.referrals import crypto
    from backbone.referrals.people import person_indexes

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    tables = ("referrals_person", "referrals_consent", "referrals_referral")
    marks = ", ".join("?" * len(tables))
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})",  # noqa: S608
        tables,
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    rng = random.Random(7)
    network = frame["network"]
    cities = frame["cities"]
    organizations = frame["organizations"]
    now = _stamp(datetime.datetime.now(datetime.UTC))
    signed_by = crypto.encrypt("The person")
    information = json.dumps(["identity", "demographics", "referrals", "outcomes", "notes"])
    print(f"  people and consents ({people:,})", flush=True)
    person_sql = (
        "INSERT INTO referrals_person (id, network_id, given_name, family_name, birth_date, "
        "phone, email, street_address, preferred_language, demographics, area_id, birth_year, "
        "birth_date_index, name_index, created_by_organization_id, merged_into_id, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, '', '', '', 'en', ?, ?, ?, ?, ?, ?, "
        "NULL, ?, ?)"
    )
    consent_sql = (
        "INSERT INTO referrals_consent (id, network_id, person_id, disclosing_organization_id, "
        "recipients, information, information_description, purpose, purpose_description, "
        "expires_on, expiry_event, expired_by_event_at, signature, signed_by, signed_at, "
        "recorded_by_id, revoked_at, revoked_by_id, revocation_note, created_at) VALUES "
        "(?, ?, ?, ?, 'treating', ?, '', 'referral', '', ?, '', NULL, 'electronic', ?, ?, "
        "NULL, NULL, NULL, '', ?)"
    )
    first_names = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo"]
    home = {}
    db.execute("BEGIN")
    batch_p, batch_c = [], []
    for pk in range(1, people + 1):
        birth = datetime.date(1995, 1, 1) + datetime.timedelta(days=rng.randrange(30 * 365))
        family = f"Family{pk}"
        indexes_ = person_indexes(family_name=family, birth_date=birth)
        demographics = json.dumps(
            {
                "race-ethnicity": rng.choice(RACE),
                "gender": rng.choice(GENDER),
                "income-band": rng.choice(INCOME),
            }
        )
        organization = organizations[rng.randrange(len(organizations))]
        home[pk] = organization
        batch_p.append(
            (
                pk,
                network,
                crypto.encrypt(first_names[pk % 10]),
                crypto.encrypt(family),
                crypto.encrypt(birth.isoformat()),
                demographics,
                cities[pk % len(cities)],
                birth.year,
                indexes_["birth_date_index"],
                indexes_["name_index"],
                organization,
                now,
                now,
            )
        )
        batch_c.append(
            (
                pk,
                network,
                pk,
                organization,
                information,
                "2030-12-31",
                signed_by,
                _stamp(START),
                now,
            )
        )
        if len(batch_p) == BATCH:
            db.executemany(person_sql, batch_p)
            db.executemany(consent_sql, batch_c)
            batch_p, batch_c = [], []
            if pk % 500_000 == 0:
                print(f"  {pk:,} people", flush=True)
    db.executemany(person_sql, batch_p)
    db.executemany(consent_sql, batch_c)
    db.execute("COMMIT")
    print(f"  referrals ({referrals:,})", flush=True)
    referral_sql = (
        "INSERT INTO referrals_referral (network_id, person_id, consent_id, from_organization_id, "
        "to_organization_id, to_service_id, area_id, pathway_id, pathway_step_id, "
        "forwarded_from_id, status, reason, decline_reason, outcome, sent_at, respond_by, "
        "responded_at, started_at, closed_at, escalated_at, created_by_id, updated_at) VALUES "
        "(?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?, '', ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)"
    )
    statuses, weights = zip(*STATUSES, strict=True)
    services = frame["services"]
    pathways = frame["pathways"]
    staff_org = organizations[0]
    db.execute("BEGIN")
    batch = []
    count = 0
    while count < referrals:
        person = rng.randrange(1, people + 1)
        sender = home[person]
        # A quarter of the volume walks a designed pathway, one step after another.
        if rng.random() < 0.25:
            pathway = pathways[person % len(pathways)]
            sent = START + datetime.timedelta(seconds=rng.randrange(SPAN_SECONDS // 2))
            for step_pk, offered in pathway["steps"]:
                service, receiver = offered[rng.randrange(len(offered))]
                if receiver == sender:
                    sender = organizations[(organizations.index(sender) + 1) % len(organizations)]
                status = "completed" if rng.random() < 0.7 else rng.choice(["declined", "closed"])
                batch.append(
                    _referral(
                        rng,
                        network,
                        person,
                        sender,
                        receiver,
                        service,
                        sent,
                        status,
                        pathway["pk"],
                        step_pk,
                        now,
                    )
                )
                count += 1
                if status != "completed" or count >= referrals:
                    break
                sender = receiver
                sent += datetime.timedelta(days=rng.randint(30, 120))
        else:
            service, receiver = services[rng.randrange(len(services))]
            if rng.random() < 0.01:
                receiver, service = staff_org, services[0][0]
            if receiver == sender:
                continue
            sent = START + datetime.timedelta(seconds=rng.randrange(SPAN_SECONDS))
            status = rng.choices(statuses, weights)[0]
            batch.append(
                _referral(
                    rng, network, person, sender, receiver, service, sent, status, None, None, now
                )
            )
            count += 1
        if len(batch) >= BATCH:
            db.executemany(referral_sql, batch)
            batch = []
            if count % 1_000_000 < BATCH:
                print(f"  {count:,} referrals", flush=True)
    db.executemany(referral_sql, batch)
    db.execute("COMMIT")
    print("  re-creating indexes", flush=True)
    for _, statement in indexes:
        db.execute(statement)
    db.execute("ANALYZE")
    db.close()


def _referral(rng, network, person, sender, receiver, service, sent, status, pathway, step, now):
    responded = started = closed = None
    decline = outcome = ""
    if status != "sent":
        responded = sent + datetime.timedelta(hours=rng.randint(1, 120))
    if status in ("in_service", "completed") or (status == "closed" and rng.random() < 0.5):
        started = responded + datetime.timedelta(days=rng.randint(1, 10))
    if status == "completed":
        closed = started + datetime.timedelta(days=rng.randint(5, 90))
        outcome = "goal_met" if rng.random() < 0.5 else "service_received"
    elif status in ("closed", "forwarded"):
        closed = (started or responded) + datetime.timedelta(days=rng.randint(1, 30))
    elif status == "declined":
        decline = DECLINES[rng.randrange(4)]
        closed = responded
    respond_by = sent + datetime.timedelta(days=3 if sent.weekday() < 2 else 5)
    return (
        network,
        person,
        person,  # the person's consent has the person's id
        sender,
        receiver,
        service,
        pathway,
        step,
        status,
        decline,
        outcome,
        _stamp(sent),
        _stamp(respond_by),
        _stamp(responded),
        _stamp(started),
        _stamp(closed),
        now,
    )


# Measuring -------------------------------------------------------------------------------


def _cold(function) -> float:
    from django.core.cache import cache

    cache.clear()
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def _unavailable(case: str, exc: BaseException) -> dict:
    reason = f"not available: {type(exc).__name__}: {exc}"
    print(f"  {case}: {reason}", flush=True)
    return _row(case, {"note": reason[:200]}, traceback=traceback.format_exc()[-2000:])


def _network():
    from backbone.core.models import Network

    return Network.objects.get(slug=SLUG)


def measure_funnels(requests: int) -> list[dict]:
    from backbone.ecosystem.models import Pathway

    rows = []
    network = _network()
    pathway = Pathway.objects.filter(network=network).order_by("pk").first()
    for group in ("", "income-band"):
        case = f"funnel {'overall' if not group else 'by ' + group}"
        try:
            from backbone.referrals import funnels

            def call(group=group):
                return funnels.pathway_funnel(network, pathway, group=group)

            cold = _cold(call)
            stats = latency(call, requests)
        except Exception as exc:  # noqa: BLE001 (a tree being edited: report, do not fail)
            rows.append(_unavailable(case, exc))
            continue
        rows.append(
            _row(f"{case}, warm", stats | {"note": f"cold {cold:.2f} s; target warm ≤ 1 s"})
        )
    return rows


def measure_network(requests: int) -> list[dict]:
    network = _network()
    case = "network analytics"
    try:
        from backbone.referrals import network_metrics

        def call():
            return network_metrics.network_metrics(network)

        cold = _cold(call)
        stats = latency(call, requests)
    except Exception as exc:  # noqa: BLE001
        return [_unavailable(case, exc)]
    return [_row(f"{case}, warm", stats | {"note": f"cold {cold:.2f} s; target warm ≤ 1 s"})]


def measure_inbox(requests: int) -> list[dict]:
    from django.test import Client
    from django.urls import reverse

    from backbone.core.models import User

    case = "inbox page (received), test client in-process"
    try:
        url = reverse("referrals:inbox", kwargs={"network_slug": SLUG})
        client = Client()
        client.force_login(User.objects.get(email=INBOX_EMAIL))
        first = client.get(url)
        if first.status_code != 200:
            raise RuntimeError(f"{url} answered {first.status_code}")
        from django.db import connection

        # Each request starts with an empty query log (request_started resets it).
        connection.force_debug_cursor = True
        try:
            client.get(url)
            queries = len(connection.queries)
        finally:
            connection.force_debug_cursor = False

        def page():
            response = client.get(url)
            assert response.status_code == 200
            return response.content

        stats = latency(page, requests)
    except Exception as exc:  # noqa: BLE001
        return [_unavailable(case, exc)]
    from backbone.referrals.models import Referral

    received = Referral.objects.filter(to_organization__slug="bench-referrals-0000").count()
    note = f"{received:,} received; {queries} queries per request; target p95 ≤ 100 ms"
    return [_row(case, stats | {"note": note})]


def measure_export(requests: int) -> list[dict]:
    """The de-identified export, streamed: rows per second over the first EXPORT_ROWS."""
    import resource

    from backbone.core.access import access_for
    from backbone.core.models import User

    limit = int(os.environ.get("REFERRAL_BENCH_EXPORT_ROWS", 500_000))
    case = "de-identified export (streamed)"
    try:
        from backbone.referrals import exchange

        access = access_for(User.objects.get(email=ADMIN_EMAIL), _network())
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        rows = exchange.export_rows(access, via="benchmark")
        first = None
        count = -1
        for count, _line in enumerate(rows):
            if count == 1:
                first = time.perf_counter() - began
            if count >= limit:
                break
        seconds = time.perf_counter() - began
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except Exception as exc:  # noqa: BLE001
        return [_unavailable(case, exc)]
    return [
        _row(
            case,
            {
                "n": count,
                "s": seconds,
                "rows/s": round(count / seconds),
                "note": f"first row after {first:.1f} s; peak RSS {rss_after / 1e3:.0f} MB "
                f"(+{(rss_after - rss_before) / 1e3:.0f} MB during the export)",
            },
        )
    ]


if __name__ == "__main__":
    sys.exit(main())
