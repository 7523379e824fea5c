"""Where a page's time goes: its queries, the rows they return and their SQL time.

Runs in this process through Django's test client against the benchmark database, so it
needs no server. Each captured SELECT is run again with its rows fetched, which is what
the page pays for (SQLite does most of its work while rows are fetched, after execute).
"""

from __future__ import annotations

import re
import statistics
import time

from benchmarks.harness import Context, Row, benchmark
from benchmarks.pages import PAGES
from benchmarks.roles import django_setup, email_for

TIMED_RUNS = 5


def _one_line(sql: str, params) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    return f"{text}  -- params {list(params)!r}" if params else text


def _time_query(connection, sql: str, params) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(3):
        with connection.cursor() as cursor:
            began = time.perf_counter()
            cursor.execute(sql, params)
            rows = len(cursor.fetchall())
            best = min(best, (time.perf_counter() - began) * 1000)
    return best, rows


def profile_page(client, path: str) -> dict:
    from django.db import connection

    response = client.get(path)  # warm: caches, templates, connection
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code} in the test client.")
    timings = []
    for _ in range(TIMED_RUNS):
        began = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - began) * 1000)

    recorded: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        recorded.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        client.get(path)
    queries = []
    for sql, params in recorded:
        if sql.lstrip().upper().startswith("SELECT"):
            ms, rows = _time_query(connection, sql, params)
        else:
            ms, rows = 0.0, 0
        queries.append({"ms": round(ms, 2), "rows": rows, "sql": _one_line(sql, params)})
    return {
        "queries": len(queries),
        "rows": sum(q["rows"] for q in queries),
        "sql_ms": sum(q["ms"] for q in queries),
        "view_ms": statistics.median(timings),
        "slowest": sorted(queries, key=lambda q: q["ms"], reverse=True)[:5],
    }


@benchmark("queries", needs_server=False)
def page_queries(context: Context) -> list[Row]:
    """Query count, rows fetched and SQL time of each benchmarked page (in-process)."""
    django_setup()
    from django.test import Client

    from backbone.core.models import User

    rows = []
    for pages in PAGES.values():
        for page in pages:
            if context.args.size in page.skip_sizes:
                continue
            for role in page.roles:
                if context.args.role and role not in context.args.role:
                    continue
                client = Client(HTTP_HOST="127.0.0.1")
                if role != "public":
                    client.force_login(User.objects.get(email=email_for(role)))
                found = profile_page(client, page.path)
                rows.append(
                    Row(
                        "queries",
                        f"{page.case} ({role})",
                        {
                            "queries": found["queries"],
                            "db rows": found["rows"],
                            "SQL ms": found["sql_ms"],
                            "view ms": found["view_ms"],
                        },
                        {"path": page.path, "role": role, "slowest": found["slowest"]},
                    )
                )
    return rows
