"""HSDS import and export at the size of a state 211 directory (issue 4).

Writes an HSDS 3.0 CSV datapackage of 25,000 services (with their organizations,
locations, addresses, phones, schedules and taxonomy attributes), imports it into a
network of its own in the benchmark database with every check on, imports it again (the
idempotent path: nothing changes), and exports the directory (which validates every
record against the official schemas). Wall and CPU seconds of this process are printed
side by side (CPU is the steadier figure on a shared machine). Targets: import ≥ 2,000
services/s including validation; export of 25,000 services ≤ 20 s.
"""

from __future__ import annotations

import csv
import random
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.harness import Context, Row, benchmark
from benchmarks.roles import django_setup

SERVICES = 25_000
SERVICES_PER_ORGANIZATION = 5
NETWORK = "hsds-bench"
NAMESPACE = uuid.UUID("0b6a4f0e-3f0c-4a55-9d55-6a1e8d1c2b7a")
CATEGORIES = ["Food pantry", "Rent help", "Tutoring", "Job training", "Clinic", "Legal aid"]
DAYS = ["MO", "TU", "WE", "TH", "FR"]


def _id(kind: str, number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{number}"))


def write_package(folder: Path, services: int = SERVICES) -> None:
    """A CSV datapackage of SERVICES services, fixed random seed."""
    from backbone.directory.hsds.schema import hsds_dir

    rng = random.Random(211)
    shutil.copy(hsds_dir() / "datapackage.json", folder / "datapackage.json")
    organizations = range(services // SERVICES_PER_ORGANIZATION)

    def table(name: str, header: list[str], rows) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)

    table(
        "organizations.csv",
        ["id", "name", "description", "email", "website"],
        (
            [
                _id("organization", n),
                f"Provider {n}",
                f"Community services provider number {n}.",
                f"info{n}@provider.example",
                f"https://provider{n}.example",
            ]
            for n in organizations
        ),
    )
    table(
        "taxonomies.csv",
        ["id", "name", "description"],
        [[_id("taxonomy", 0), "Need categories", "Benchmark vocabulary."]],
    )
    table(
        "taxonomy_terms.csv",
        ["id", "code", "name", "description", "taxonomy_id"],
        (
            [_id("term", i), f"cat-{i}", name, name, _id("taxonomy", 0)]
            for i, name in enumerate(CATEGORIES)
        ),
    )
    table(
        "services.csv",
        ["id", "organization_id", "name", "description", "status", "minimum_age"],
        (
            [
                _id("service", n),
                _id("organization", n // SERVICES_PER_ORGANIZATION),
                f"{CATEGORIES[n % len(CATEGORIES)]} {n}",
                f"{CATEGORIES[n % len(CATEGORIES)]} for families, service {n}.",
                "active",
                rng.choice(["", "0", "14", "18", "55"]),
            ]
            for n in range(services)
        ),
    )
    table(
        "locations.csv",
        ["id", "organization_id", "name", "location_type", "latitude", "longitude"],
        (
            [
                _id("location", n),
                _id("organization", n // SERVICES_PER_ORGANIZATION),
                f"Site {n}",
                "physical",
                f"{39 + rng.random() * 3:.5f}",
                f"{-84 + rng.random() * 3:.5f}",
            ]
            for n in range(services)
        ),
    )
    table(
        "service_at_location.csv",
        ["id", "service_id", "location_id"],
        ([_id("sal", n), _id("service", n), _id("location", n)] for n in range(services)),
    )
    table(
        "addresses.csv",
        [
            "id",
            "location_id",
            "address_1",
            "city",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
        (
            [
                _id("address", n),
                _id("location", n),
                f"{100 + n % 900} Main St",
                "Harbor City",
                "OH",
                f"{44000 + n % 999:05d}",
                "US",
                "physical",
            ]
            for n in range(services)
        ),
    )
    table(
        "phones.csv",
        ["id", "service_id", "number"],
        ([_id("phone", n), _id("service", n), f"555-{n % 10000:04d}"] for n in range(services)),
    )
    table(
        "schedules.csv",
        ["id", "service_id", "freq", "byday", "opens_at", "closes_at"],
        (
            [_id("schedule", n), _id("service", n), "WEEKLY", ",".join(DAYS), "09:00", "17:00"]
            for n in range(services)
        ),
    )
    table(
        "attributes.csv",
        ["id", "link_id", "link_type", "link_entity", "taxonomy_term_id"],
        (
            [
                _id("attribute", n),
                _id("service", n),
                "need_category",
                "service",
                _id("term", n % len(CATEGORIES)),
            ]
            for n in range(services)
        ),
    )


def _cpu() -> float:
    """CPU seconds of this process: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(function, **kwargs):
    """(result, wall seconds, CPU seconds) of FUNCTION(**KWARGS)."""
    wall, cpu = time.perf_counter(), _cpu()
    out = function(**kwargs)
    return out, time.perf_counter() - wall, _cpu() - cpu


def _bench_access():
    from backbone.core.access import NETWORK_ADMIN, Access, dangerously_unscoped
    from backbone.core.models import Network, User

    network, _ = dangerously_unscoped(Network).get_or_create(
        slug=NETWORK, defaults={"name": "HSDS benchmark directory"}
    )
    admin = dangerously_unscoped(User).filter(is_superuser=True).first()
    if admin is None:
        admin = dangerously_unscoped(User).order_by("pk").first()
    return Access(user=admin, network=network, role=NETWORK_ADMIN)


def _clear(network) -> None:
    from backbone.directory.models import HSDS_MODELS

    for model in reversed(HSDS_MODELS):
        model.objects.filter(network=network).delete()


@benchmark("directory-io", needs_server=False)
def directory_io(context: Context) -> list[Row]:
    """HSDS 3.0 import (validated) and export of 25,000 services."""
    django_setup()
    from backbone.directory.services import directory_export, directory_import

    access = _bench_access()
    _clear(access.network)
    work = Path(tempfile.mkdtemp(prefix="hsds-bench-"))
    try:
        package = work / "in"
        package.mkdir()
        began = time.perf_counter()
        write_package(package)
        generated = time.perf_counter() - began

        result, imported, imported_cpu = _timed(directory_import, access=access, path=package)
        if not result.ok:
            raise RuntimeError(f"The benchmark package did not import: {result.errors[:3]}")
        records = sum(result.created.values())

        again, reimported, reimported_cpu = _timed(directory_import, access=access, path=package)
        if again.changed:
            raise RuntimeError("Importing the same package again changed the directory.")

        counts, exported, exported_cpu = _timed(
            directory_export, access=access, folder=work / "out"
        )
        if counts.get("service") != SERVICES:
            raise RuntimeError(f"The export holds {counts.get('service')} services.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        _clear(access.network)
    return [
        Row(
            "directory-io",
            "write the CSV package (25,000 services)",
            {"s": generated, "records": records},
        ),
        Row(
            "directory-io",
            "HSDS import, strict, all checks (target ≥ 2,000 services/s)",
            {
                "s": imported,
                "CPU s": round(imported_cpu, 1),
                "services/s": round(SERVICES / imported),
                "services/CPU s": round(SERVICES / imported_cpu),
                "records": records,
            },
        ),
        Row(
            "directory-io",
            "HSDS import of the same package again (no changes)",
            {
                "s": reimported,
                "CPU s": round(reimported_cpu, 1),
                "services/s": round(SERVICES / reimported),
                "services/CPU s": round(SERVICES / reimported_cpu),
            },
        ),
        Row(
            "directory-io",
            "HSDS export, every record validated (target ≤ 20 s)",
            {
                "s": exported,
                "CPU s": round(exported_cpu, 1),
                "services/s": round(SERVICES / exported),
                "services/CPU s": round(SERVICES / exported_cpu),
            },
        ),
    ]
