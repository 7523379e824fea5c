"""Building the analytics cells from approved data values, set-based (INSERT … SELECT …
GROUP BY), on SQLite and PostgreSQL alike.

Three statements per kind of subject (indicators, performance measures):

1. reported: approved values grouped by subject, source (population data when the
   value has no organization, else partners' data), period, area and disaggregation;
2. areas: those cells summed into every ancestor area and the network (area null);
3. periods: cells of the subject's own frequency summed into longer periods (months →
   quarters, calendar, school and fiscal years; quarters → years).

A full rebuild runs them over a network; `refresh_values` runs the same statements for
the few subjects, periods and disaggregations some changed values touch, so an approved
value is counted within a fraction of a second, without a nightly batch.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from backbone.core.models import Area, Network
from backbone.insights.models import (
    SCALE,
    AnalyticsAreaPath,
    AnalyticsCell,
    AnalyticsPeriod,
    AnalyticsState,
)
from backbone.measurement import periods as P
from backbone.measurement.models import DataValue, DataValueVersion, Framework

log = logging.getLogger(__name__)

CELL = AnalyticsCell._meta.db_table
VALUE = DataValue._meta.db_table
PATH = AnalyticsAreaPath._meta.db_table
PERIOD = AnalyticsPeriod._meta.db_table
FAMILIES = {
    # kind: (column of DataValue and AnalyticsCell, table of the subject)
    "indicator": ("indicator_id", "measurement_indicator"),
    "measure": ("measure_id", "measurement_performancemeasure"),
}
COLUMNS = (
    "network_id, indicator_id, measure_id, source, period, period_kind, period_start, rollup, "
    "area_id, disaggregation, value_sum, numerator_sum, denominator_sum, sources"
)
KIND_OF_CODE = (
    "CASE WHEN {c} LIKE 'SY%%' THEN 'school_year' WHEN {c} LIKE 'FY%%' THEN 'fiscal_year' "
    "WHEN LENGTH({c}) = 4 THEN 'calendar_year' WHEN {c} LIKE '%%Q%%' THEN 'quarter' "
    "ELSE 'month' END"
)
CHUNK = 500  # disaggregations per statement
BATCH = 5000  # value ids per query


def _scaled(column: str) -> str:
    return f"CAST(ROUND({column} * {SCALE}) AS BIGINT)"


def fiscal_start(network_id: int) -> int:
    month = (
        Framework.objects.filter(network_id=network_id)
        .values_list("fiscal_year_start_month", flat=True)
        .first()
    )
    return month or Framework._meta.get_field("fiscal_year_start_month").default


def rollup_targets(period: P.Period, fiscal_year_start: int) -> list[P.Period]:
    """The longer periods PERIOD's figures are summed into."""
    if period.kind == P.MONTH:
        year, month = period.year, period.number
        school = year if month >= P.SCHOOL_YEAR_START_MONTH else year - 1
        fiscal = year + 1 if fiscal_year_start > 1 and month >= fiscal_year_start else year
        return [
            P.Period(P.QUARTER, year, (month - 1) // 3 + 1),
            P.Period(P.YEAR, year),
            P.Period(P.SCHOOL_YEAR, school),
            P.Period(P.FISCAL_YEAR, fiscal),
        ]
    if period.kind == P.QUARTER:
        first = P.Period(P.MONTH, period.year, 3 * period.number - 2)
        targets = rollup_targets(first, fiscal_year_start)[1:]
        if (fiscal_year_start - 1) % 3:  # the fiscal year splits this quarter
            targets = targets[:2]
        return targets
    return []


# The three statements -------------------------------------------------------------------


def _subject_columns(kind: str, alias: str) -> str:
    return f"{alias}.indicator_id, NULL" if kind == "indicator" else f"NULL, {alias}.measure_id"


def _population_sql(kind: str, where: str) -> str:
    """Population values are one per key (the natural key), so each is its own cell."""
    column, _ = FAMILIES[kind]
    return (
        f"INSERT INTO {CELL} ({COLUMNS}) "  # noqa: S608 (names only; values are parameters)
        f"SELECT v.network_id, {_subject_columns(kind, 'v')}, 'population', v.period, "
        f"{KIND_OF_CODE.format(c='v.period')}, v.period_start, 0, v.area_id, "
        f"v.disaggregation, {_scaled('v.value')}, {_scaled('v.numerator')}, "
        f"{_scaled('v.denominator')}, 1 "
        f"FROM {VALUE} v WHERE v.network_id = %s AND v.status = 'approved' "
        f"AND v.{column} IS NOT NULL AND v.organization_id IS NULL {where}"
    )


def _partners_sql(kind: str, where: str) -> str:
    """Partners' values summed per area; subjects not aggregatable have no partners'
    total (only values reported at a level count)."""
    column, table = FAMILIES[kind]
    return (
        f"INSERT INTO {CELL} ({COLUMNS}) "  # noqa: S608
        f"SELECT MIN(v.network_id), {_subject_columns(kind, 'v')}, 'partners', v.period, "
        f"MIN({KIND_OF_CODE.format(c='v.period')}), MIN(v.period_start), 0, v.area_id, "
        f"v.disaggregation, SUM({_scaled('v.value')}), SUM({_scaled('v.numerator')}), "
        f"SUM({_scaled('v.denominator')}), COUNT(*) "
        f"FROM {VALUE} v JOIN {table} s ON s.id = v.{column} "
        f"WHERE v.network_id = %s AND v.status = 'approved' AND v.{column} IS NOT NULL "
        f"AND v.organization_id IS NOT NULL AND s.aggregation <> 'none' {where}"
        f"GROUP BY v.{column}, v.period, v.area_id, v.disaggregation"
    )


def _areas_sql(kind: str, where: str) -> str:
    column, table = FAMILIES[kind]
    return (
        f"INSERT INTO {CELL} ({COLUMNS}) "  # noqa: S608
        f"SELECT MIN(c.network_id), {_subject_columns(kind, 'c')}, c.source, c.period, "
        "MIN(c.period_kind), MIN(c.period_start), 1, p.ancestor_id, c.disaggregation, "
        "SUM(c.value_sum), SUM(c.numerator_sum), SUM(c.denominator_sum), SUM(c.sources) "
        f"FROM {CELL} c JOIN {table} s ON s.id = c.{column} "
        f"JOIN {PATH} p ON p.area_id = c.area_id "
        f"WHERE c.network_id = %s AND s.aggregation <> 'none' AND c.rollup = 0 "
        f"AND c.area_id IS NOT NULL {where}"
        f"GROUP BY c.{column}, c.source, c.period, p.ancestor_id, c.disaggregation"
    )


def _periods_sql(kind: str, where: str) -> str:
    column, table = FAMILIES[kind]
    return (
        f"INSERT INTO {CELL} ({COLUMNS}) "  # noqa: S608
        f"SELECT MIN(c.network_id), {_subject_columns(kind, 'c')}, c.source, m.target, "
        "MIN(m.target_kind), MIN(m.target_start), c.rollup + 2, c.area_id, c.disaggregation, "
        "SUM(c.value_sum), SUM(c.numerator_sum), SUM(c.denominator_sum), SUM(c.sources) "
        f"FROM {CELL} c JOIN {table} s ON s.id = c.{column} AND c.period_kind = s.frequency "
        f"JOIN {PERIOD} m ON m.network_id = s.network_id AND m.source = c.period "
        f"WHERE c.network_id = %s AND s.aggregation <> 'none' AND c.rollup < 2 {where}"
        f"GROUP BY c.{column}, c.source, m.target, c.rollup, c.area_id, c.disaggregation"
    )


STAGES = (
    ("reported", (_population_sql, _partners_sql)),
    ("areas", (_areas_sql,)),
    ("periods", (_periods_sql,)),
)


# Helper tables ----------------------------------------------------------------------------


def _area_paths(network_id: int, area_ids: Iterable[int] | None = None) -> list:
    parents = dict(Area.objects.filter(network_id=network_id).values_list("pk", "parent_id"))
    rows = []
    for area_id in parents if area_ids is None else area_ids:
        node, depth, seen = parents.get(area_id), 1, {area_id}
        while node is not None and node not in seen:
            rows.append(
                AnalyticsAreaPath(
                    network_id=network_id, area_id=area_id, ancestor_id=node, depth=depth
                )
            )
            seen.add(node)
            node, depth = parents.get(node), depth + 1
        rows.append(
            AnalyticsAreaPath(network_id=network_id, area_id=area_id, ancestor_id=None, depth=depth)
        )
    return rows


def _period_rows(network_id: int, codes: Iterable[str], fiscal: int) -> list:
    rows = []
    for code in codes:
        try:
            period = P.parse(code)
        except P.PeriodError:
            continue
        for target in rollup_targets(period, fiscal):
            rows.append(
                AnalyticsPeriod(
                    network_id=network_id,
                    source=code,
                    target=target.code,
                    target_kind=target.kind,
                    target_start=target.start(fiscal),
                )
            )
    return rows


def _ensure_helpers(network_id: int, area_ids: set[int], codes: set[str]) -> None:
    """Add the area paths and period roll-ups new values need (moving an area in the
    hierarchy needs a rebuild)."""
    known = set(
        AnalyticsAreaPath.objects.filter(area_id__in=area_ids).values_list("area_id", flat=True)
    )
    if missing := area_ids - known:
        AnalyticsAreaPath.objects.bulk_create(_area_paths(network_id, missing))
    have = set(
        AnalyticsPeriod.objects.filter(network_id=network_id, source__in=codes).values_list(
            "source", flat=True
        )
    )
    if missing := codes - have:
        rows = _period_rows(network_id, missing, fiscal_start(network_id))
        AnalyticsPeriod.objects.bulk_create(rows, ignore_conflicts=True)


def _lock_state(network_id: int) -> AnalyticsState | None:
    """Serialize builds of one network (two refreshes must not interleave their
    delete and insert)."""
    return AnalyticsState.objects.select_for_update().filter(network_id=network_id).first()


# Full rebuild -----------------------------------------------------------------------------


def _bulk_load(cursor):
    """On SQLite (one writer at a time anyway), write the cells without their indexes and
    index them once at the end, instead of keeping four indexes up to date row by row
    (DDL is transactional there: a failed rebuild leaves them as they were); sort in memory
    with a larger page cache and a helper thread per core (SQLite sorts for GROUP BY and
    CREATE INDEX; it has no hash aggregation). Returns the function that puts the indexes
    and settings back. On PostgreSQL the indexes stay, so other networks' readers are
    never blocked by a rebuild."""
    if connection.vendor != "sqlite":
        return lambda: None
    saved = {}
    for pragma, value in SQLITE_BULK.items():
        cursor.execute(f"PRAGMA {pragma}")
        saved[pragma] = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA {pragma} = {value}")
    indexes = AnalyticsCell._meta.indexes
    for index in indexes:
        cursor.execute(f'DROP INDEX IF EXISTS "{index.name}"')

    def restore():
        editor = connection.schema_editor()
        for index in indexes:
            cursor.execute(str(index.create_sql(AnalyticsCell, editor)))
        for pragma, value in saved.items():
            cursor.execute(f"PRAGMA {pragma} = {value}")

    return restore


SQLITE_BULK = {
    "cache_size": -524288,  # 512 MB
    "threads": min(os.cpu_count() or 1, 4),
}


@contextmanager
def _sorts_in_memory():
    """On SQLite, keep the sorts' temporary data in memory rather than in temporary files.
    SQLite refuses the change inside a transaction, so a rebuild that runs inside one
    (a refresh that finds no analytics yet) sorts as configured."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA temp_store")
        saved = cursor.fetchone()[0]
        cursor.execute("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA temp_store = {int(saved)}")


def _delete_cells(cursor, network_id: int) -> None:
    """Remove the network's cells. On SQLite, when no other network has analytics, empty
    the table in one step (SQLite then drops its pages instead of deleting row by row;
    its single writer makes the check and the delete one step)."""
    alone = not AnalyticsState.objects.exclude(network_id=network_id).exists()
    if connection.vendor == "sqlite" and alone:
        cursor.execute(f"DELETE FROM {CELL}")  # noqa: S608 (a table name)
    else:
        AnalyticsCell.objects.filter(network_id=network_id)._raw_delete(connection.alias)


def rebuild(network: Network) -> dict:
    """Rebuild every analytics cell of NETWORK from its approved data values."""
    began = time.perf_counter()
    network_id = network.pk
    with _sorts_in_memory(), transaction.atomic():
        state = _lock_state(network_id)
        AnalyticsAreaPath.objects.filter(network_id=network_id).delete()
        AnalyticsPeriod.objects.filter(network_id=network_id).delete()
        AnalyticsAreaPath.objects.bulk_create(_area_paths(network_id), batch_size=2000)
        codes = (
            DataValue.objects.filter(network_id=network_id)
            .order_by()
            .values_list("period", flat=True)
            .distinct()
        )
        AnalyticsPeriod.objects.bulk_create(
            _period_rows(network_id, codes, fiscal_start(network_id)), batch_size=2000
        )
        timings = {}
        with connection.cursor() as cursor:
            bulk = _bulk_load(cursor)
            step = time.perf_counter()
            _delete_cells(cursor, network_id)
            timings["delete"] = time.perf_counter() - step
            cells = 0
            for name, builders in STAGES:
                step = time.perf_counter()
                for builder in builders:
                    for kind in FAMILIES:
                        cursor.execute(builder(kind, ""), [network_id])
                        cells += cursor.rowcount
                timings[name] = time.perf_counter() - step
            step = time.perf_counter()
            bulk()
            timings["indexes"] = time.perf_counter() - step
        seconds = time.perf_counter() - began
        now = timezone.now()
        values = {
            "rebuilt_at": now,
            "refreshed_at": now,
            "rebuild_seconds": seconds,
            "cells": cells,
        }
        if state is None:
            AnalyticsState.objects.create(network_id=network_id, version=1, **values)
        else:
            AnalyticsState.objects.filter(pk=state.pk).update(version=F("version") + 1, **values)
    return {"cells": cells, "seconds": time.perf_counter() - began, **timings}


def ensure_built(network: Network) -> None:
    """Build a network's analytics the first time they are needed."""
    if not AnalyticsState.objects.filter(network_id=network.pk).exists():
        rebuild(network)


def analytics_version(network: Network) -> tuple:
    """What identifies the network's figures as they are now (building them the first
    time): cached results keyed by it are dropped by the next rebuild or refresh. The
    time of the rebuild keeps keys apart across databases that reuse ids."""
    for _ in range(2):
        state = (
            AnalyticsState.objects.filter(network_id=network.pk)
            .values_list("version", "rebuilt_at")
            .first()
        )
        if state is not None:
            return (state[0], state[1].isoformat())
        rebuild(network)
    raise RuntimeError(f"The analytics of network {network.pk} could not be built.")


# Incremental refresh ----------------------------------------------------------------------


def _in(column: str, items: list) -> tuple[str, list]:
    return f"{column} IN ({', '.join(['%s'] * len(items))})", list(items)


def refresh_values(network_id: int, value_ids: list[int]) -> int:
    """Recompute the cells the values VALUE_IDS feed (as they are now and, for values no
    longer approved, as they were). Returns how many groups of cells were recomputed."""
    if not value_ids:
        return 0
    network = Network.objects.filter(pk=network_id).first()
    if network is None:
        return 0
    if not AnalyticsState.objects.filter(network_id=network_id).exists():
        rebuild(network)
        return -1
    wanted = sorted(set(value_ids))
    rows = []
    for start in range(0, len(wanted), BATCH):  # SQLite limits the parameters of a query
        rows += DataValue.objects.filter(
            network_id=network_id, pk__in=wanted[start : start + BATCH]
        ).values_list(
            "pk", "indicator_id", "measure_id", "period", "disaggregation", "area_id", "status"
        )
    if len(rows) < len(wanted):
        # Deleted values: what they fed is unknown, so rebuild the network.
        rebuild(network)
        return -1
    unapproved = [row[0] for row in rows if row[6] != DataValue.Status.APPROVED]
    ever_approved = set()
    for start in range(0, len(unapproved), BATCH):
        ever_approved.update(
            DataValueVersion.objects.filter(
                data_value_id__in=unapproved[start : start + BATCH],
                new__status=DataValue.Status.APPROVED,
            ).values_list("data_value_id", flat=True)
        )
    groups: dict[tuple, set[str]] = defaultdict(set)
    areas: set[int] = set()
    for pk, indicator_id, measure_id, period, key, area_id, status in rows:
        if status != DataValue.Status.APPROVED and pk not in ever_approved:
            continue  # never counted, still not counted
        kind = "indicator" if indicator_id else "measure"
        groups[(kind, indicator_id or measure_id, period)].add(key)
        if area_id:
            areas.add(area_id)
    if not groups:
        return 0
    subjects = _subjects(groups)
    with transaction.atomic():
        _lock_state(network_id)
        _ensure_helpers(network_id, areas, {period for _, _, period in groups})
        fiscal = fiscal_start(network_id)
        with connection.cursor() as cursor:
            for (kind, subject_id, period), keys in groups.items():
                frequency, aggregation = subjects[kind][subject_id]
                for start in range(0, len(keys), CHUNK):
                    chunk = sorted(keys)[start : start + CHUNK]
                    _refresh_group(
                        cursor,
                        network_id,
                        kind,
                        subject_id,
                        period,
                        chunk,
                        frequency,
                        aggregation,
                        fiscal,
                    )
        AnalyticsState.objects.filter(network_id=network_id).update(
            refreshed_at=timezone.now(), version=F("version") + 1
        )
    return len(groups)


def _subjects(groups) -> dict[str, dict[int, tuple[str, str]]]:
    from backbone.measurement.models import Indicator, PerformanceMeasure

    found = {}
    for kind, model in (("indicator", Indicator), ("measure", PerformanceMeasure)):
        ids = {subject_id for k, subject_id, _ in groups if k == kind}
        found[kind] = {
            pk: (frequency, aggregation)
            for pk, frequency, aggregation in model.objects.filter(pk__in=ids).values_list(
                "pk", "frequency", "aggregation"
            )
        }
    return found


def _refresh_group(
    cursor, network_id, kind, subject_id, period, keys, frequency, aggregation, fiscal
):
    column, _ = FAMILIES[kind]
    in_keys, key_params = _in("disaggregation", keys)
    cursor.execute(
        f"DELETE FROM {CELL} WHERE {column} = %s AND period = %s AND rollup < 2 AND {in_keys}",  # noqa: S608
        [subject_id, period, *key_params],
    )
    for builder in (_population_sql, _partners_sql):
        cursor.execute(
            builder(kind, f"AND v.{column} = %s AND v.period = %s AND v.{in_keys} "),
            [network_id, subject_id, period, *key_params],
        )
    cursor.execute(
        _areas_sql(kind, f"AND c.{column} = %s AND c.period = %s AND c.{in_keys} "),
        [network_id, subject_id, period, *key_params],
    )
    try:
        parsed = P.parse(period)
    except P.PeriodError:
        return
    if aggregation == "none" or parsed.kind != frequency:
        return
    targets = [target.code for target in rollup_targets(parsed, fiscal)]
    if not targets:
        return
    sources = sorted(
        set(
            AnalyticsPeriod.objects.filter(network_id=network_id, target__in=targets).values_list(
                "source", flat=True
            )
        )
        | {period}
    )
    in_targets, target_params = _in("period", targets)
    cursor.execute(
        f"DELETE FROM {CELL} WHERE {column} = %s AND {in_targets} AND rollup >= 2 AND {in_keys}",  # noqa: S608
        [subject_id, *target_params, *key_params],
    )
    in_sources, source_params = _in("c.period", sources)
    in_m, m_params = _in("m.target", targets)
    cursor.execute(
        _periods_sql(kind, f"AND c.{column} = %s AND {in_sources} AND {in_m} AND c.{in_keys} "),
        [network_id, subject_id, *source_params, *m_params, *key_params],
    )
