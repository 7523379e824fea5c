"""What the measurement demo seed shares: its fixed "now", and writing values with the
version history the services would have written."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from django.db import connection
from django.db.models import Q

from backbone.measurement import periods
from backbone.measurement.models import (
    DataValue,
    DataValueVersion,
    Indicator,
    Unit,
)

SEED = 20261122
TODAY = datetime.date(2026, 11, 1)  # the same "now" as seed.TODAY
YEARS = range(2019, 2026)  # SY2019-20 .. SY2025-26; calendar 2019 .. 2025
BASELINE_YEAR = 2021  # the year the partners adopted the shared framework
TARGET_YEAR = 2030
NARRATIVE_YEAR = 2026
FIRST_QUARTER = periods.Period(periods.QUARTER, 2024, 1)
PLACES = Decimal("0.0001")
BATCH = 2000


def indicator_period(indicator, year: int) -> periods.Period:
    if indicator.frequency == Indicator.Frequency.CALENDAR_YEAR:
        return periods.Period(periods.YEAR, year)
    if indicator.frequency == Indicator.Frequency.FISCAL_YEAR:
        return periods.Period(periods.FISCAL_YEAR, year + 1)
    return periods.Period(periods.SCHOOL_YEAR, year)


def ratio_value(indicator_or_measure, numerator: int, denominator: int) -> Decimal:
    """The value the importer computes from a numerator and a denominator."""
    unit = indicator_or_measure.unit
    scale = {
        Unit.PERCENT: 100,
        Unit.RATE: getattr(indicator_or_measure, "rate_per", None) or 1,
    }.get(unit, 1)
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(PLACES)


def number_text(number: Decimal | None) -> str | None:
    return None if number is None else format(number.normalize(), "f")


def value_state(*, value, numerator, denominator, status, review_comment="") -> dict:
    """A value's tracked fields as the services record them in its versions (the same as
    `services.data_value_state`, without building a model instance per version)."""
    return {
        "value": number_text(value),
        "numerator": number_text(numerator),
        "denominator": number_text(denominator),
        "comment": "",
        "status": str(status),
        "review_comment": review_comment,
    }


VALUE_COLUMNS = (
    "network_id",
    "indicator_id",
    "measure_id",
    "submission_id",
    "organization_id",
    "area_id",
    "period",
    "period_start",
    "period_end",
    "disaggregation",
    "categories",
    "value",
    "numerator",
    "denominator",
    "comment",
    "status",
    "review_comment",
    "version",
    "created_by_id",
    "updated_by_id",
    "created_at",
    "updated_at",
)
VERSION_COLUMNS = (
    "network_id",
    "data_value_id",
    "version",
    "changed_by_id",
    "changed_at",
    "old",
    "new",
    "reason",
    "via",
)
KEY = ("indicator_id", "measure_id", "period", "organization_id", "area_id", "disaggregation")


def write_values(network, items) -> tuple[int, int]:
    """Insert new values, each given as (fields, steps of its history): its final state is
    the last step's, and every step becomes a DataValueVersion (who, when, old, new, why).
    Returns how many values and versions were written."""
    if not items:
        return 0, 0
    ops = connection.ops
    postgres = connection.vendor == "postgresql"
    moments: dict = {}

    def number(value):
        return value if value is None or postgres else str(value)

    def moment(value):
        if value not in moments:
            if isinstance(value, datetime.datetime):
                moments[value] = ops.adapt_datetimefield_value(value)
            else:
                moments[value] = ops.adapt_datefield_value(value)
        return moments[value]

    rows = []
    for fields, steps in items:
        final = steps[-1][3]
        rows.append(
            (
                network.pk,
                fields.get("indicator_id"),
                fields.get("measure_id"),
                fields.get("submission_id"),
                fields.get("organization_id"),
                fields.get("area_id"),
                fields["period"],
                moment(fields["period_start"]),
                moment(fields["period_end"]),
                fields["disaggregation"],
                json.dumps(fields["categories"]),
                number(fields["value"]),
                number(fields["numerator"]),
                number(fields["denominator"]),
                "",
                final["status"],
                final["review_comment"],
                len(steps),
                steps[0][1].pk,
                steps[-1][1].pk,
                moment(steps[0][0]),
                moment(steps[-1][0]),
            )
        )
    insert_rows(DataValue, VALUE_COLUMNS, rows, json_columns={"categories"})
    subjects = Q(indicator_id__in={f.get("indicator_id") for f, _s in items} - {None}) | Q(
        measure_id__in={f.get("measure_id") for f, _s in items} - {None}
    )
    ids = {
        tuple(row[1:]): row[0]
        for row in DataValue.objects.filter(subjects, network=network).values_list("id", *KEY)
    }
    versions = []
    for fields, steps in items:
        value_id = ids[tuple(fields.get(name) for name in KEY)]
        for number_, (when, user, old, new, reason, via) in enumerate(steps, start=1):
            versions.append(
                (
                    network.pk,
                    value_id,
                    number_,
                    user.pk,
                    moment(when),
                    None if old is None else json.dumps(old),
                    json.dumps(new),
                    reason,
                    via,
                )
            )
    insert_rows(DataValueVersion, VERSION_COLUMNS, versions, json_columns={"old", "new"})
    return len(rows), len(versions)


def insert_rows(model, columns: tuple[str, ...], rows: list[tuple], *, json_columns=()) -> None:
    """ROWS straight into MODEL's table with one prepared statement: at these volumes the
    ORM's bulk_create costs several times the insert itself. The callers give every column
    (timestamps included, which the ORM would set to now)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    marks = ", ".join(f"%s{cast}" if c in json_columns else "%s" for c in columns)
    names = ", ".join(quote(c) for c in columns)
    # Only the model's own table and column names are spliced in; values are parameters.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for chunk in chunks(rows, 20000):
            cursor.executemany(sql, chunk)


def chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cell_rate(cells: dict[str, list[int]], key: str, scale: int) -> float | None:
    numerator, denominator = cells.get(key, (0, 0))
    return numerator * scale / denominator if denominator else None
