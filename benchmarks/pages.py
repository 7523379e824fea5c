"""Latency of the busiest pages under concurrent load, against the real server."""

from __future__ import annotations

import time
from dataclasses import dataclass

from benchmarks.client import load
from benchmarks.harness import Context, Row, benchmark
from benchmarks.roles import NETWORK

WARMUP_SECONDS = 10


@dataclass(frozen=True)
class Page:
    case: str
    path: str
    expect: bytes
    roles: tuple[str, ...]
    # The small seed has fewer than 50 partners, so no page 2.
    skip_sizes: tuple[str, ...] = ()


def measure(context: Context, name: str, page: Page) -> list[Row]:
    args = context.args
    rows: list[Row] = []
    if args.size in page.skip_sizes:
        return rows
    for role in page.roles:
        if args.role and role not in args.role:
            continue
        cookies = context.cookies(role)
        # Warm every worker (imports, template loading, connections) before measuring.
        warm = load(
            context.base_url,
            page.path,
            cookies=cookies,
            requests=args.warmup,
            concurrency=max(1, min(args.concurrency, args.warmup)),
            expect=page.expect,
            max_seconds=min(WARMUP_SECONDS, args.max_seconds),
        )
        client_cpu = time.process_time()
        server_cpu = context.server.cpu_seconds()
        result = load(
            context.base_url,
            page.path,
            cookies=cookies,
            requests=args.requests,
            concurrency=args.concurrency,
            expect=page.expect,
            max_seconds=args.max_seconds,
        )
        client_cpu = time.process_time() - client_cpu
        metrics = result.metrics()
        if server_cpu is not None and result.completed:
            metrics["CPU ms/req"] = (
                1000 * (context.server.cpu_seconds() - server_cpu) / result.completed
            )
        notes = []
        if result.capped:
            notes.append(f"stopped after {args.max_seconds:g} s")
        if warm.errors:
            notes.append(f"{warm.errors} warm-up errors")
        metrics["note"] = "; ".join(notes)
        rows.append(
            Row(
                name,
                f"{page.case} ({role})",
                metrics,
                {
                    "path": page.path,
                    "role": role,
                    "concurrency": args.concurrency,
                    "error_samples": result.error_samples + warm.error_samples,
                    "warmup_errors": warm.errors,
                    "reconnects": result.reconnects,
                    # The load generator shares the machine's CPUs with the server.
                    "client_cpu_ms_per_request": 1000 * client_cpu / max(result.completed, 1),
                },
            )
        )
    return rows


HOME = Page("network home", f"/n/{NETWORK}/", b"Our common purpose", ("public", "viewer", "admin"))
PARTNERS = f"/n/{NETWORK}/partners/"
PARTNER_PAGES = [
    Page("partner list", PARTNERS, b"organizations</caption>", ("public", "viewer", "admin")),
    Page("partner list page 2", f"{PARTNERS}?page=2", b"Page 2 of", ("admin",), ("small",)),
    Page(
        "partner list nonprofit+active",
        f"{PARTNERS}?sector=nonprofit&status=active",
        b"organizations</caption>",
        ("admin",),
    ),
]
# Every page measured here, for other benchmarks (query counts) to walk as well.
PAGES = {"network-home": [HOME], "partner-list": PARTNER_PAGES}


@benchmark("network-home")
def network_home(context: Context) -> list[Row]:
    """The network home page, as the public, a viewer and a network admin."""
    return measure(context, "network-home", HOME)


@benchmark("partner-list")
def partner_list(context: Context) -> list[Row]:
    """The partner list: first page by role, then page 2 and a filtered list as admin."""
    return [row for page in PARTNER_PAGES for row in measure(context, "partner-list", page)]
