"""`referrals`: service coordination at state size, 2 million people, 10 million referrals.

Generates the people, their consents, their referrals with every state change as a
referral event, the care relationships accepted referrals start and the milestones
completed pathway referrals mark, into an own SQLite database (cached as
`var/bench/referrals-<people>-<referrals>.sqlite3`, so reruns start at once). The people
are split into one shard per CPU (REFERRAL_BENCH_PROCESSES), generated in parallel into
plain shard files, then copied in id order with secondary indexes dropped and re-created
after. Every name, date of birth and signer is encrypted with `crypto.encrypt`, row by
row, as the application stores them. A referral's life is planned (completed, declined,
closed, forwarded, unanswered ...) and its status is where that plan stands at the end
of the three years, so open referrals are recent ones. Then it measures:

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
import json
import os
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
from benchmarks.referrals_data import (  # noqa: E402
    ADMIN_EMAIL,
    INBOX_EMAIL,
    SLUG,
    _bulk,
    _frame,
)

SHAPE = 3  # bump when the generated shape changes, so caches are rebuilt
PEOPLE = int(os.environ.get("REFERRAL_BENCH_PEOPLE", 2_000_000))
REFERRALS = int(os.environ.get("REFERRAL_BENCH_REFERRALS", 10_000_000))


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
    # A large network's first analytics run as a task (referrals/insights_cache.py); here
    # tasks run at once, in this process, so the cold calls measure the computation.
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    import django

    django.setup()
    rows = [generate(path, args.people, args.referrals)]
    print(f"{rows[0]['case']}: {rows[0]['metrics']}", flush=True)
    if not args.generate_only:
        steps = (measure_funnels, measure_network, measure_inbox, measure_pages, measure_export)
        for step in steps:
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
                found = funnels.pathway_funnel(network, pathway, group=group)
                assert found is not None and found.current, "no current funnel"
                return found

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
            found = network_metrics.network_metrics(network)
            assert found is not None and found.current, "no current figures"
            return found

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


def measure_pages(requests: int) -> list[dict]:
    """The other pages partner staff use every day, as the inbox's staff member (the
    network's largest receiver): the people-served list, a person's page and a received
    referral's page, each checked against consent at read time and audited."""
    from django.test import Client
    from django.urls import reverse

    from backbone.core.models import User
    from backbone.referrals.models import Referral

    client = Client()
    client.force_login(User.objects.get(email=INBOX_EMAIL))
    referral = (
        Referral.objects.filter(to_organization__slug="bench-referrals-0000", status="in_service")
        .order_by("-pk")
        .first()
    )
    pages = [
        ("people-served list", reverse("referrals:person-list", args=[SLUG])),
        ("a person's page", reverse("referrals:person-detail", args=[SLUG, referral.person_id])),
        (
            "a received referral's page",
            reverse("referrals:referral-detail", args=[SLUG, referral.pk]),
        ),
    ]
    rows = []
    for label, url in pages:
        case = f"{label}, test client in-process"
        try:

            def page(url=url):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response.content

            stats = latency(page, max(requests // 4, 20), warmup=2)
        except Exception as exc:  # noqa: BLE001
            rows.append(_unavailable(case, exc))
            continue
        rows.append(_row(case, stats | {"note": "no target; the largest receiver's view"}))
    return rows


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
