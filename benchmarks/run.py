"""`make bench`: seed a benchmark database, start the real server, measure, print a table.

    python benchmarks/run.py                      # everything, SQLite, state size
    python benchmarks/run.py --only partner-list  # one benchmark (repeat --only for more)
    python benchmarks/run.py --reuse              # keep a database already seeded
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backbone_bench python benchmarks/run.py

To add a benchmark, write a function decorated with `@benchmark("name")` that takes the
`Context` and returns `Row`s, in a module listed in BENCHMARK_MODULES.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on the path; we want the project root
# instead, so `benchmarks.*` imports work and nothing here shadows the standard library.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    sys.path.pop(0)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.environment import BENCH_DIR, Database, manage, production_env  # noqa: E402
from benchmarks.harness import REGISTRY, Context, Row, markdown_table, write_json  # noqa: E402
from benchmarks.server import ServerConfig, running_server  # noqa: E402

# Modules whose import registers benchmarks, in the order their rows appear.
BENCHMARK_MODULES = [
    "benchmarks.pages",
    "benchmarks.queries",
    "benchmarks.measurement_import",
    "benchmarks.measurement_analytics",
    "benchmarks.directory_io",
    "benchmarks.directory_search",
    "benchmarks.referrals",
]
SIZES = ("small", "medium", "state")
ORGANIZATIONS = {"small": "≈40", "medium": "≈300", "state": "5,000"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (repeatable; see --list)",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--size", choices=SIZES, default="state")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the benchmark database if it is already seeded at --size",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="default: $DATABASE_URL, else SQLite under var/bench/",
    )
    parser.add_argument("--requests", type=int, default=400, help="measured requests per case")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent clients")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per case")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=20,
        help="stop a case after this long, whatever --requests says",
    )
    parser.add_argument(
        "--workers", type=int, default=2 * cpus, help="gunicorn workers (default: 2 per CPU)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker; above 1 uses gthread workers"
    )
    parser.add_argument(
        "--role",
        action="append",
        choices=["public", "viewer", "admin"],
        help="only measure as this role (repeatable)",
    )
    parser.add_argument(
        "--sql",
        type=int,
        default=1,
        metavar="N",
        help="slowest queries to print per page (0 for none)",
    )
    parser.add_argument("--output", type=Path, help="JSON results file")
    return parser.parse_args(argv)


def _stop_on_sigterm(signum, frame):
    # Turn SIGTERM into SystemExit so the `finally` that stops gunicorn runs.
    raise SystemExit(128 + signum)


def git_commit() -> str:
    """The commit measured, marked "+dirty" when the working tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, text=True, capture_output=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        return f"{commit}+dirty" if commit and git("status", "--porcelain") else commit
    except (OSError, subprocess.SubprocessError):
        return ""


def prepare_database(args, database: Database, env: dict[str, str]) -> list[Row]:
    rows = []
    reused = args.reuse and database.seeded_size() == args.size
    if args.reuse:
        database.ensure_exists()
    else:
        database.reset()
    seconds, _ = manage(env, "migrate", "--noinput", "-v", "0")
    rows.append(Row("setup", "migrate", {"s": seconds, "note": "reused" if reused else ""}))
    if reused:
        rows.append(Row("setup", f"seed --size {args.size}", {"note": "reused"}))
    else:
        rows.append(seed(args, database, env))
    if database.engine == "postgresql":
        began = time.perf_counter()
        database.analyze()
        rows.append(Row("setup", "analyze", {"s": time.perf_counter() - began}))
    return rows


def seed(args, database: Database, env: dict[str, str]) -> Row:
    print(f"Seeding the {args.size} size ({ORGANIZATIONS[args.size]} organizations)…", flush=True)
    seconds, output = manage(env, "seed", "--size", args.size)
    database.mark_seeded(args.size)
    summary = output.strip().splitlines()[0] if output.strip() else ""
    row = Row("setup", f"seed --size {args.size}", {"s": seconds}, {"output": output.strip()})
    print(f"  {summary} ({seconds:.1f} s)", flush=True)
    return row


def run_benchmarks(context: Context, selected) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    failures: list[str] = []
    for bench in selected:
        print(f"Running {bench.name}: {bench.description}", flush=True)
        began = time.perf_counter()
        try:
            produced = list(bench.function(context))
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failures.append(bench.name)
            produced = [Row(bench.name, "failed", {"note": f"{type(exc).__name__}: {exc}"})]
        rows.extend(produced)
        print(f"  {len(produced)} rows in {time.perf_counter() - began:.1f} s", flush=True)
    return rows, failures


def slowest_queries(rows: list[Row], limit: int) -> str:
    lines = []
    for row in rows:
        for query in row.details.get("slowest", [])[:limit]:
            sql = query["sql"] if len(query["sql"]) <= 300 else query["sql"][:297] + "…"
            lines.append(f"- {row.case}: {query['ms']:.1f} ms, {query['rows']:,} rows: `{sql}`")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for module in BENCHMARK_MODULES:
        importlib.import_module(module)
    if args.list:
        for bench in REGISTRY.values():
            print(f"{bench.name:16} {bench.description}")
        return 0
    unknown = set(args.only or []) - set(REGISTRY)
    if unknown:
        raise SystemExit(f"Unknown benchmark(s): {', '.join(sorted(unknown))}. See --list.")
    selected = [b for b in REGISTRY.values() if not args.only or b.name in args.only]

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    database = Database.from_url(args.database_url, args.size)
    env = production_env(database)
    # In-process benchmarks (query counts) use the same settings as the server.
    os.environ.update(env)
    started = datetime.datetime.now(datetime.UTC)
    config = ServerConfig(workers=args.workers, threads=args.threads)
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "database": database.display,
        "engine": database.engine,
        "size": args.size,
        "server": f"{config.describe()}, DEBUG=0",
        "concurrency": args.concurrency,
        "requests": args.requests,
        "warmup": args.warmup,
        "max_seconds": args.max_seconds,
        "cpus": os.cpu_count(),
        # The machine may be shared; a high load average means noisy figures.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }

    if any(b.needs_database for b in selected):
        rows = prepare_database(args, database, env)
    else:
        rows = [Row("setup", "seeded database", {"note": "not needed by these benchmarks"})]
    context = Context(args=args, database=database, env=env)
    failures: list[str] = []
    if any(b.needs_server for b in selected):
        manage(env, "collectstatic", "--noinput", "-v", "0")
        print(f"Starting {config.describe()} (DEBUG=0)…", flush=True)
        with running_server(env, config, BENCH_DIR / "gunicorn.log") as server:
            context.server = server
            measured, failures = run_benchmarks(context, selected)
    else:
        measured, failures = run_benchmarks(context, selected)
    rows += measured
    meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    print()
    print(f"Backbone benchmarks, {started:%Y-%m-%d %H:%M} UTC, commit {meta['commit'] or '?'}")
    print(
        f"{database.engine} ({database.display}), size {args.size}; {meta['server']}; "
        f"{args.concurrency} concurrent clients, {args.requests} requests per case after "
        f"{args.warmup} warm-up; {meta['cpus']} CPUs, Python {meta['python']}; "
        f"load average {meta['load_average_at_start'][0]:.1f} at start, "
        f"{meta['load_average_at_end'][0]:.1f} at end"
    )
    print()
    print(markdown_table(rows))
    if args.sql and (listing := slowest_queries(rows, args.sql)):
        print("\nSlowest queries per page:\n" + listing)
    stamp = f"{started:%Y-%m-%dT%H%M%S}"
    output = args.output or BENCH_DIR / f"results-{stamp}-{database.engine}.json"
    write_json(output, meta, rows)
    shown = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
    print(f"\nResults written to {shown}")

    errors = sum(
        (row.metrics.get("errors") or 0) + row.details.get("warmup_errors", 0) for row in rows
    )
    if errors:
        print(f"{errors} requests failed (non-200 or marker missing); see the JSON for samples.")
    if failures:
        print(f"Benchmarks that failed: {', '.join(failures)}")
    return 1 if errors or failures else 0


if __name__ == "__main__":
    sys.exit(main())
