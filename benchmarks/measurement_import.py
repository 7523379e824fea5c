"""Validated import of a tidy data file of a million values, beside raw SQLite.

A fictional network gets a small framework (a count by race/ethnicity and ZIP code, a
percent as numerator/denominator by race/ethnicity, a partner measure by gender), then
one generated file of ≥ 1,000,000 rows goes through `data_import(commit=True)`: every
check, the bulk writes of values and versions, one audit record. Beside it, the same
rows go into a bare table of a fresh SQLite file with one `executemany`: the floor of
what any import can do on this machine.

    .venv/bin/python benchmarks/run.py --only measurement-import [--reuse]
    IMPORT_BENCH_MONTHS=12 .venv/bin/python benchmarks/run.py --only measurement-import
    .venv/bin/python benchmarks/measurement_import.py [MONTHS]   # standalone, any database

The file has 875 values a month (500 ZIP codes, 250 partners); IMPORT_BENCH_MONTHS
(default 120: 1,050,000 values) sets its size, 12 months (105,000) while iterating.
Each case prints values per second of wall time and per CPU-second of this process
(SQLite runs in it; on a machine shared with other work CPU time is the steadier
figure), with the load average beside them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import Context, Row, benchmark  # noqa: E402

SLUG = "bench-import"
MONTHS = int(os.environ.get("IMPORT_BENCH_MONTHS", 120))
RACES = ["aian", "asian", "black", "hispanic", "mena", "nhpi", "white"]
GENDERS = ["female", "male"]
HEADER = [
    "indicator",
    "period",
    "organization",
    "area",
    "race-ethnicity",
    "gender",
    "geography",
    "value",
    "numerator",
    "denominator",
    "comment",
]


def generate(zips: int, months: int, organizations: int, seed: int = 7) -> list[list[str]]:
    """Rows whose parts add up to their totals, as a real state file would."""
    rng = random.Random(seed)
    periods = [f"{2015 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    rows = []
    for period in periods:
        for z in range(zips):
            zip_code = f"z{z:05d}"
            parts = [rng.randint(0, 300) for _ in RACES]
            rows.append(["enrolled", period, "", "", "", "", zip_code, str(sum(parts)), "", "", ""])
            for race, part in zip(RACES, parts, strict=True):
                rows.append(["enrolled", period, "", "", race, "", zip_code, str(part), "", "", ""])
            tested = [rng.randint(20, 200) for _ in RACES]
            proficient = [rng.randint(0, t) for t in tested]
            rows.append(
                ["reading", period, "", zip_code, "", "", "", "", str(sum(proficient)),
                 str(sum(tested)), ""]
            )  # fmt: skip
            for race, top, bottom in zip(RACES, proficient, tested, strict=True):
                rows.append(["reading", period, "", zip_code, race, "", "", "", str(top),
                             str(bottom), ""])  # fmt: skip
        for o in range(organizations):
            parts = [rng.randint(0, 500) for _ in GENDERS]
            slug = f"bench-partner-{o:04d}"
            rows.append(
                ["tutoring-hours", period, slug, "", "", "", "", str(sum(parts)), "", "", ""]
            )
            for gender, part in zip(GENDERS, parts, strict=True):
                rows.append(["tutoring-hours", period, slug, "", "", gender, "", str(part), "", "",
                             ""])  # fmt: skip
    return rows


def to_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return text.getvalue().encode()


def build_network(zips: int, organizations: int):
    """A fresh network with the framework, areas and partners the file names."""
    from backbone.core.models import (
        Area,
        LifeStage,
        Membership,
        Network,
        NetworkRole,
        Organization,
        Role,
        User,
    )
    from backbone.measurement.models import (
        Category,
        Dimension,
        Indicator,
        PerformanceMeasure,
        Result,
    )

    remove_network()
    network = Network.objects.create(name="Import benchmark", slug=SLUG)
    admin, _ = User.objects.get_or_create(email="bench-import-admin@bench.example")
    NetworkRole.objects.create(user=admin, network=network, role=Role.NETWORK_ADMIN)
    stage = LifeStage.objects.create(network=network, name="All", position=1)
    result = Result.objects.create(network=network, code="ready", name="Ready", life_stage=stage)
    race = Dimension.objects.create(network=network, code="race-ethnicity", name="Race")
    gender = Dimension.objects.create(network=network, code="gender", name="Gender", position=1)
    geography = Dimension.objects.create(
        network=network, code="geography", name="ZIP", kind="geography", area_kind="zip",
        position=2,
    )  # fmt: skip
    for code in RACES:
        Category.objects.create(network=network, dimension=race, code=code, name=code)
    for code in GENDERS:
        Category.objects.create(network=network, dimension=gender, code=code, name=code)
    Area.objects.bulk_create(
        Area(network=network, code=f"z{z:05d}", name=f"ZIP {z:05d}", kind="zip")
        for z in range(zips)
    )
    common = {"network": network, "result": result, "polarity": "higher_is_better"}
    enrolled = Indicator.objects.create(
        code="enrolled", name="Enrolled", definition="Children enrolled.", unit="count",
        aggregation="sum", frequency="month", **common,
    )  # fmt: skip
    enrolled.dimensions.set([race, geography])
    reading = Indicator.objects.create(
        code="reading", name="Reading", definition="Reading at grade level.", unit="percent",
        formula="ratio", numerator="Proficient", denominator="Tested", aggregation="weighted",
        frequency="month", **common,
    )  # fmt: skip
    reading.dimensions.set([race])
    measure = PerformanceMeasure.objects.create(
        network=network, code="tutoring-hours", name="Tutoring hours", category="how_much",
        unit="count", polarity="higher_is_better", frequency="month",
    )  # fmt: skip
    measure.dimensions.set([gender])
    organizations_made = Organization.objects.bulk_create(
        Organization(name=f"Bench partner {o:04d}", slug=f"bench-partner-{o:04d}")
        for o in range(organizations)
    )
    Membership.objects.bulk_create(
        Membership(network=network, organization=org, status="active") for org in organizations_made
    )
    return network, admin


def remove_network() -> None:
    """Drop a previous run's network and its values (raw deletes: a million rows)."""
    from django.db import connection, transaction

    from backbone.core.models import AuditEvent, LifeStage, Network, Organization
    from backbone.measurement.models import (
        DataValue,
        DataValueVersion,
        ImportJob,
        Indicator,
        PerformanceMeasure,
        Result,
    )

    network = Network.objects.filter(slug=SLUG).first()
    if network is None:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (DataValueVersion, DataValue, ImportJob):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE network_id = %s", [network.pk]
            )  # noqa: S608
        AuditEvent.objects.filter(network=network).delete()
        for model in (PerformanceMeasure, Indicator, Result, LifeStage):
            model.objects.filter(network=network).delete()
        slugs = list(network.memberships.values_list("organization__slug", flat=True))
        network.delete()
        Organization.objects.filter(slug__in=slugs).delete()


def raw_sqlite(data: bytes) -> tuple[float, float]:
    """Seconds (wall, CPU) to insert the same rows with one executemany into a bare
    SQLite table."""
    with tempfile.TemporaryDirectory() as folder:
        database = sqlite3.connect(Path(folder) / "raw.sqlite3")
        database.execute(f"CREATE TABLE value ({', '.join(f'{c!r} TEXT' for c in HEADER)})")
        began, cpu = time.perf_counter(), time.process_time()
        reader = csv.reader(io.StringIO(data.decode()))
        next(reader)
        marks = ", ".join("?" * len(HEADER))
        database.executemany(f"INSERT INTO value VALUES ({marks})", reader)  # noqa: S608
        database.commit()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        database.close()
    return seconds, cpu


def rates(n: int, seconds: float, cpu: float) -> dict:
    return {
        "n": n,
        "s": seconds,
        "values/s": round(n / seconds),
        "CPU s": cpu,
        "values/CPU s": round(n / cpu),
        "load": round(os.getloadavg()[0], 1),
    }


def raw_value_table(rows: list[list[str]]) -> dict[str, tuple[float, float]] | None:
    """Seconds (wall, CPU) to insert the same rows, with no check at all, into copies of
    the data value table and its version table (their columns, constraints and indexes;
    SQLite only) with executemany: "values" writes the value rows only, "versions" also
    the version row the import writes per value. The floors of an import into this
    storage."""
    from django.db import connection

    from backbone.measurement.models import DataValue, DataValueVersion

    if connection.vendor != "sqlite":
        return None
    tables = [DataValue._meta.db_table, DataValueVersion._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name IN (%s, %s) AND sql IS NOT NULL",
            tables,
        )
        schema = [row[0] for row in cursor.fetchall()]
    ids: dict[str, int] = {}
    stamp = "2026-01-01 00:00:00"
    floors = {}
    for label in ("values", "versions"):
        with tempfile.TemporaryDirectory() as folder:
            database = sqlite3.connect(Path(folder) / "raw.sqlite3")
            for sql in schema:
                database.execute(sql)
            began, cpu = time.perf_counter(), time.process_time()
            values = []
            for code, period, slug, area, race, gender, zip_code, value, top, bottom, _ in rows:
                subject = ids.setdefault(code, len(ids) + 1)
                key = ";".join(
                    f"{d}={c}"
                    for d, c in (
                        ("gender", gender),
                        ("geography", zip_code),
                        ("race-ethnicity", race),
                    )
                    if c
                )
                values.append(
                    (
                        1,
                        None if code == "tutoring-hours" else subject,
                        subject if code == "tutoring-hours" else None,
                        period,
                        f"{period}-01",
                        f"{period}-28",
                        ids.setdefault(slug, len(ids) + 1) if slug else None,
                        ids.setdefault(area, len(ids) + 1) if area else None,
                        key,
                        "{}",
                        value or str(round(int(top) * 100 / int(bottom), 4)),
                        top or None,
                        bottom or None,
                        stamp,
                    )
                )
            database.executemany(
                f"INSERT INTO {tables[0]} (network_id, indicator_id, measure_id, "  # noqa: S608
                "period, period_start, period_end, organization_id, area_id, disaggregation, "
                "categories, value, numerator, denominator, comment, status, review_comment, "
                "version, created_at, updated_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 'draft', '', 1, ?14, ?14)",
                values,
            )
            if label == "versions":
                first = database.execute(f"SELECT MIN(id) FROM {tables[0]}").fetchone()[0]  # noqa: S608
                database.executemany(
                    f"INSERT INTO {tables[1]} (network_id, data_value_id, version, "  # noqa: S608
                    "changed_at, old, new, reason, via) VALUES (1, ?, 1, ?, NULL, ?, '', 'file')",
                    (
                        (first + n, stamp, json.dumps({"value": row[10], "status": "draft"}))
                        for n, row in enumerate(values)
                    ),
                )
            database.commit()
            floors[label] = (time.perf_counter() - began, time.process_time() - cpu)
            database.close()
    floors["narrow"] = narrow_table(rows)
    return floors


def narrow_table(rows: list[list[str]]) -> tuple[float, float]:
    """Seconds (wall, CPU) to insert the same rows into a narrow table keyed by integers
    (subject, period, organization, area, disaggregation ids; WITHOUT ROWID), looking the
    codes up in dicts on the way: what a leaner value store would cost, for comparison."""
    with tempfile.TemporaryDirectory() as folder:
        database = sqlite3.connect(Path(folder) / "narrow.sqlite3")
        database.execute(
            "CREATE TABLE value (subject INTEGER, period INTEGER, organization INTEGER, "
            "area INTEGER, disaggregation INTEGER, value REAL, numerator REAL, "
            "denominator REAL, PRIMARY KEY (subject, period, organization, area, "
            "disaggregation)) WITHOUT ROWID"
        )
        began, cpu = time.perf_counter(), time.process_time()
        ids: dict = {}
        values = []
        for code, period, slug, area, race, gender, zip_code, value, top, bottom, _ in rows:
            numerator = float(top) if top else None
            denominator = float(bottom) if bottom else None
            values.append(
                (
                    ids.setdefault(code, len(ids)),
                    ids.setdefault(period, len(ids)),
                    ids.setdefault(slug, len(ids)),
                    ids.setdefault(area, len(ids)),
                    ids.setdefault((race, gender, zip_code), len(ids)),
                    float(value) if value else numerator * 100 / denominator,
                    numerator,
                    denominator,
                )
            )
        database.executemany("INSERT INTO value VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
        database.commit()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        database.close()
    return seconds, cpu


def measure(zips: int = 500, months: int = MONTHS, organizations: int = 250) -> list[Row]:
    from django.db import connection

    from backbone.core.access import access_for
    from backbone.measurement.data_file import data_import
    from backbone.measurement.models import DataValue, DataValueVersion

    network, admin = build_network(zips, organizations)
    rows = generate(zips, months, organizations)
    data = to_csv(rows)
    access = access_for(admin, network)
    print(f"  {len(rows):,} rows, {len(data) / 1e6:.1f} MB; importing…", flush=True)
    began, cpu = time.perf_counter(), time.process_time()
    result = data_import(
        access=access, data=data, filename="values.csv", commit=True, max_rows=len(rows)
    )
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    if not result.committed:
        raise RuntimeError(f"The import failed: {[str(e) for e in result.errors[:5]]}")
    stored = DataValue.objects.filter(network=network).count()
    versions = DataValueVersion.objects.filter(network=network).count()
    assert stored == versions == len(rows), (stored, versions, len(rows))
    began, repeat_cpu = time.perf_counter(), time.process_time()
    again = data_import(
        access=access, data=data, filename="values.csv", commit=True, max_rows=len(rows)
    )
    repeat, repeat_cpu = time.perf_counter() - began, time.process_time() - repeat_cpu
    assert again.committed and again.unchanged == len(rows)
    raw, raw_cpu = raw_sqlite(data)
    table = raw_value_table(rows)
    remove_network()
    engine = connection.vendor
    cases = [
        Row(
            "measurement-import",
            f"validated import, {engine}",
            rates(len(rows), seconds, cpu),
            {"created": result.created, "versions": versions},
        ),
        Row(
            "measurement-import",
            f"same file again (all unchanged), {engine}",
            rates(len(rows), repeat, repeat_cpu),
        ),
        Row(
            "measurement-import",
            "raw SQLite executemany, bare table",
            {
                **rates(len(rows), raw, raw_cpu),
                "note": f"validated import: {raw / seconds:.1%} of this speed "
                f"({raw_cpu / cpu:.1%} by CPU time)",
            },
        ),
    ]
    if table is not None:
        for label, what in (
            ("values", "the data value table (its constraints and indexes)"),
            ("versions", "the data value and version tables (a version row per value)"),
            ("narrow", "a narrow table keyed by integers (codes looked up in dicts)"),
        ):
            table_wall, table_cpu = table[label]
            cases.append(
                Row(
                    "measurement-import",
                    f"raw SQLite executemany, {what}",
                    {
                        **rates(len(rows), table_wall, table_cpu),
                        "note": f"validated import: {table_cpu / cpu:.1%} of this speed by "
                        "CPU time (no check at all here)",
                    },
                )
            )
    return cases


@benchmark("measurement-import", needs_server=False)
def measurement_import(context: Context) -> list[Row]:
    """Validated tidy-file import of ≥ 1,000,000 values vs a raw SQLite executemany."""
    from benchmarks.roles import django_setup

    django_setup()
    return measure()


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backbone.config.settings")
    django.setup()
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else MONTHS
    for row in measure(months=scale):
        print(row.case, row.metrics)
