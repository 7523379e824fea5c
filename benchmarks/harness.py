"""The pieces every benchmark shares: the registry, result rows and the printed table.

A benchmark is a function registered with `@benchmark("name")` that takes the run's
`Context` and returns (or yields) `Row`s. `run.py` runs the selected benchmarks in
registration order and prints every row in one markdown table.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Columns in the order they appear in the table; benchmarks may add others after these.
KNOWN_COLUMNS = [
    "n",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "req/s",
    "CPU ms/req",
    "errors",
    "queries",
    "db rows",
    "SQL ms",
    "view ms",
    "s",
    "note",
]


@dataclass
class Row:
    benchmark: str
    case: str
    metrics: dict[str, Any]
    # Anything too long for the table (slowest queries, error samples): JSON only.
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    name: str
    function: Callable[[Any], Iterable[Row]]
    description: str
    needs_server: bool
    # False for benchmarks that build their own database (the seeded one is then skipped).
    needs_database: bool = True


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, *, needs_server: bool = True, needs_database: bool = True):
    """Register FUNCTION(context) -> iterable of Rows under NAME (for `--only NAME`)."""

    def register(function):
        if name in REGISTRY:
            raise ValueError(f"Benchmark {name!r} is registered twice.")
        doc = (function.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Benchmark(
            name, function, doc[0] if doc else "", needs_server, needs_database
        )
        return function

    return register


def _format(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if column == "s" or column == "req/s":
            return f"{value:,.1f}"
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def columns_of(rows: list[Row]) -> list[str]:
    present = {key for row in rows for key in row.metrics}
    extra = [key for row in rows for key in row.metrics if key not in KNOWN_COLUMNS]
    ordered = [c for c in KNOWN_COLUMNS if c in present and c != "note"]
    ordered += list(dict.fromkeys(extra))
    if "note" in present:
        ordered.append("note")
    return ordered


def markdown_table(rows: list[Row]) -> str:
    columns = columns_of(rows)
    header = ["benchmark", "case", *columns]
    body = [
        [row.benchmark, row.case, *(_format(row.metrics.get(c), c) for c in columns)]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    numeric = [False, False, *(c != "note" for c in columns)]

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (widths[i] + 1) + ":" if numeric[i] else "-" * (widths[i] + 2)
            for i in range(len(header))
        )
        + "|"
    )
    return "\n".join([line(header), rule, *(line(cells) for cells in body)])


def write_json(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"meta": meta, "rows": [asdict(row) for row in rows]}, indent=2, default=str)
        + "\n"
    )


@dataclass
class Context:
    """What a benchmark gets: the options, the database, the server and logged-in sessions."""

    args: Any
    database: Any
    env: dict[str, str]
    server: Any = None
    _sessions: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        if self.server is None:
            raise RuntimeError("This benchmark needs the server; register it with needs_server.")
        return self.server.base_url

    def cookies(self, role: str) -> dict[str, str]:
        """Session cookies of the demo login for ROLE (logged in once per run)."""
        from benchmarks.roles import log_in_as

        if role not in self._sessions:
            self._sessions[role] = log_in_as(self.base_url, role)
        return self._sessions[role]


def latency(function: Callable[[], Any], requests: int, *, warmup: int = 10) -> dict:
    """Call FUNCTION in this process, one call at a time: p50/p95/max wall ms and the CPU
    per call, which stays steady whatever the machine's load (printed beside it)."""
    for _ in range(warmup):
        function()
    timings = []
    cpu = time.process_time()
    for _ in range(requests):
        began = time.perf_counter()
        function()
        timings.append((time.perf_counter() - began) * 1000)
    cpu = (time.process_time() - cpu) * 1000 / requests
    timings.sort()
    return {
        "n": requests,
        "p50 ms": statistics.median(timings),
        "p95 ms": timings[int(0.95 * (len(timings) - 1))],
        "max ms": timings[-1],
        "CPU ms/req": cpu,
        "load average": " ".join(f"{figure:.1f}" for figure in os.getloadavg()),
    }
