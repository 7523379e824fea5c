"""Checking a tidy data file (see data_file): every row against the framework, the
stored values and the network's rules, and the plan of what the import writes.

The plan is made in memory with dict lookups (one query per kind of thing a file may
name, one for the stored values). What each code of the file names is worked out once
per import, and plain numbers take a fast path that accepts exactly what the full check
accepts; anything else goes through the full check, which says what is wrong.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

from django.db import connection

from backbone.core.access import Access
from backbone.core.tabular import RowError, RowPlan, Table
from backbone.measurement import validation_rules
from backbone.measurement.data_file import (
    _AREA,
    _COM,
    _DEN,
    _DIS,
    _IND,
    _MEA,
    _NUM,
    _ORG,
    _PER,
    _PK,
    _STATUS,
    _STORED,
    _VAL,
    LIMIT,
    OUTLIER_MADS,
    OUTLIER_MIN_HISTORY,
    OUTLIER_SHARE,
    PLACES,
    PROGRESS_EVERY,
    SUM_SHARE,
    SUM_UNITS,
    THOUSANDS,
    DataError,
    ValuePlan,
    _Lookups,
    _Row,
    disaggregation_key,
    number_text,
)
from backbone.measurement.models import DataValue, Dimension, Indicator, Unit

# An unsigned number with at most 14 digits before the point (under LIMIT) and at most
# 4 after it (PLACES): it needs no rounding and no range check beyond the unit's.
PLAIN = re.compile(r"\d{1,14}(?:\.\d{1,4})?", re.ASCII)


def _number(text: str, column: str, row: int, errors: list[RowError]) -> Decimal | None:
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
        if THOUSANDS.fullmatch(text):
            number = Decimal(text.replace(",", ""))
    if number is None or not number.is_finite():
        errors.append(DataError(row, column, text, "This is not a number.", rule="type"))
        return None
    if abs(number) >= LIMIT:
        errors.append(DataError(row, column, text, "This number is too large.", rule="range"))
        return None
    return number


def _check_amounts(subject, values: dict, row: int, errors: list[RowError]):
    """The value, numerator and denominator of a row per the subject's formula, unit and
    range; None when they are wrong (and ERRORS says why)."""
    count = len(errors)
    value = _number(values.get("value", ""), "value", row, errors)
    numerator = _number(values.get("numerator", ""), "numerator", row, errors)
    denominator = _number(values.get("denominator", ""), "denominator", row, errors)
    if len(errors) > count:
        return None

    def error(column: str, message: str, rule: str) -> None:
        errors.append(DataError(row, column, values.get(column, ""), message, rule=rule))

    if subject.formula == Indicator.Formula.RATIO:
        for name, amount in (("numerator", numerator), ("denominator", denominator)):
            if amount is None:
                error(
                    name, f"{subject.code} is a ratio: give its numerator and denominator.", "type"
                )
            elif amount < 0:
                error(name, "This cannot be negative.", "range")
        if len(errors) > count:
            return None
        if denominator == 0:
            error("denominator", "The denominator cannot be 0.", "range")
            return None
        if subject.unit == Unit.PERCENT and numerator > denominator:
            error(
                "numerator",
                f"The numerator ({number_text(numerator)}) is larger than the denominator "
                f"({number_text(denominator)}); a percent cannot exceed 100.",
                "ratio",
            )
            return None
        rate_per = getattr(subject, "rate_per", None) or 1
        scale = {Unit.PERCENT: 100, Unit.RATE: rate_per}.get(subject.unit, 1)
        computed = (numerator * scale / denominator).quantize(PLACES)
        if value is not None:
            # A value given beside the terms may be rounded to its own last decimal place.
            exponent = value.as_tuple().exponent
            tolerance = Decimal(5) * Decimal(10) ** (exponent - 1) + PLACES
            if abs(value - computed) > tolerance:
                error(
                    "value",
                    f"The value does not match numerator / denominator "
                    f"({number_text(computed)}); leave it blank or correct it.",
                    "ratio",
                )
                return None
        return {
            "value": computed,
            "numerator": numerator.quantize(PLACES),
            "denominator": denominator.quantize(PLACES),
        }
    if numerator is not None or denominator is not None:
        column = "numerator" if numerator is not None else "denominator"
        error(column, f"{subject.code} takes a direct value, not a numerator/denominator.", "type")
    if value is None:
        error("value", "The value is missing.", "type")
    if len(errors) > count:
        return None
    unit = subject.unit
    if unit == Unit.COUNT:
        if value < 0 or value != value.to_integral_value():
            error("value", "A count must be a whole number, 0 or more.", "range")
    elif unit == Unit.PERCENT:
        if not 0 <= value <= 100:
            error("value", "A percent must be between 0 and 100.", "range")
    elif unit in (Unit.RATE, Unit.CURRENCY) and value < 0:
        error("value", "This cannot be negative.", "range")
    if len(errors) > count:
        return None
    return {"value": value.quantize(PLACES), "numerator": None, "denominator": None}


def _changes(existing: tuple, fields: dict) -> list[tuple[str, str, str]]:
    value, numerator, denominator = fields["value"], fields["numerator"], fields["denominator"]
    if (
        existing[_VAL] == value
        and existing[_NUM] == numerator
        and existing[_DEN] == denominator
        and existing[_COM] == fields["comment"]
    ):
        return []  # most rows of a file sent again
    changes = []
    for name, index in (("value", _VAL), ("numerator", _NUM), ("denominator", _DEN)):
        before, after = existing[index], fields[name]
        if before != after:
            changes.append((name, number_text(before), number_text(after)))
    if existing[_COM] != fields["comment"]:
        changes.append(("comment", existing[_COM], fields["comment"]))
    return changes


def _fast_amounts(subject):
    """A check of a row's amounts for SUBJECT that accepts only plain unsigned numbers
    within range and returns what _check_amounts would; None (take _check_amounts,
    which reports the error) for anything else. Most files are such numbers."""
    match = PLAIN.fullmatch
    unit = subject.unit
    if subject.formula == Indicator.Formula.RATIO:
        percent = unit == Unit.PERCENT
        scale = {Unit.PERCENT: 100, Unit.RATE: getattr(subject, "rate_per", None) or 1}
        scale = scale.get(unit, 1)

        def ratio(values: dict):
            top, bottom = values.get("numerator", ""), values.get("denominator", "")
            if values.get("value") or not (match(top) and match(bottom)):
                return None
            numerator, denominator = Decimal(top), Decimal(bottom)
            if not denominator or (percent and numerator > denominator):
                return None
            value = (numerator * scale / denominator).quantize(PLACES)
            return {"value": value, "numerator": numerator, "denominator": denominator}

        return ratio
    whole = unit == Unit.COUNT
    percent = unit == Unit.PERCENT

    def direct(values: dict):
        text = values.get("value", "")
        if values.get("numerator") or values.get("denominator") or not match(text):
            return None
        if whole and "." in text:
            return None
        value = Decimal(text)
        if percent and value > 100:
            return None
        return {"value": value, "numerator": None, "denominator": None}

    return direct


def _stored_values(access: Access, lookups: _Lookups, table: Table) -> dict[tuple, tuple]:
    """The stored values of the subjects the file names, by natural key. Read without
    the view scope: whether a key exists decides create or update, whoever may see it.

    Read with SQL of its own: the ORM converts each of a million rows' numbers one by
    one; SQLite's numbers (int or float) are converted here as Django does, once each."""
    named = {values["indicator"] for _, values in table.rows}
    indicator_ids = [lookups.indicators[c].pk for c in named if c in lookups.indicators]
    measure_ids = [lookups.measures[c].pk for c in named if c in lookups.measures]
    stored = {}
    columns = ", ".join("id" if name == "pk" else name for name in _STORED)
    convert = _DecimalsOf() if connection.vendor == "sqlite" else None
    with connection.cursor() as cursor:
        for ids, name in ((indicator_ids, "indicator_id"), (measure_ids, "measure_id")):
            for start in range(0, len(ids), 500):
                batch = ids[start : start + 500]
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"SELECT {columns} FROM {DataValue._meta.db_table} "  # noqa: S608 (names)
                    f"WHERE network_id = %s AND {name} IN ({marks})",
                    [access.network.pk, *batch],
                )
                for row in cursor.fetchall():
                    if convert is not None:
                        row = (
                            *row[:_VAL],
                            convert[row[_VAL]],
                            convert[row[_NUM]],
                            convert[row[_DEN]],
                            *row[_COM:],
                        )
                    kind, subject = ("i", row[_IND]) if row[_IND] else ("m", row[_MEA])
                    stored[(kind, subject, row[_PER], row[_ORG], row[_AREA], row[_DIS])] = row
    return stored


class _DecimalsOf(dict):
    """SQLite's stored numbers as the Decimals the ORM makes of them (see Django's
    sqlite3 get_decimalfield_converter), each distinct number converted once."""

    def __init__(self):
        super().__init__({None: None})
        field = DataValue._meta.get_field("value")
        self.quantum = Decimal(1).scaleb(-field.decimal_places)
        self.context = field.context
        self.create = Context(prec=15).create_decimal_from_float

    def __missing__(self, number) -> Decimal:
        if isinstance(number, str):
            converted = Decimal(number).quantize(self.quantum, context=self.context)
        else:
            converted = self.create(number).quantize(self.quantum, context=self.context)
        self[number] = converted
        return converted


def _plan(access: Access, table: Table, reason: str, submission, progress):
    lookups = _Lookups(access)
    dimension_columns = [c for c in table.columns if c in lookups.dimensions]
    if not any(c in table.columns for c in ("value", "numerator")):
        message = "Give a value column, or numerator and denominator."
        return [], [DataError(1, "value", "", message, rule="column")]
    # Per column of the file: (column, dimension, its codes, what a code names).
    dimension_info = []
    for column in dimension_columns:
        dimension = lookups.dimensions[column]
        what = "area" if dimension.kind == Dimension.Kind.GEOGRAPHY else "category"
        dimension_info.append((column, dimension, lookups.dimension_codes(dimension), what))
    stored = _stored_values(access, lookups, table)
    changeable: set[int] | None = None  # ids this access may change (None: not needed yet)
    history: dict[tuple, list[tuple[str, str, Decimal]]] = {}
    for key, row in stored.items():
        period = lookups.period(row[_PER])[0]
        if period is not None:
            history.setdefault((key[0], key[1], *key[3:]), []).append(
                (period.kind, row[_PER], row[_VAL])
            )
    plans: list[ValuePlan] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    rows: list[_Row] = []
    total = len(table.rows)
    # What each code of the file names, worked out once per import: the per-row work is
    # dict lookups (a file of a million values spends its time here).
    subjects: dict[str, tuple] = {}
    period_of: dict[str, tuple] = {}
    category_keys: dict[tuple, tuple[str, dict]] = {}
    organizations = lookups.organizations
    areas = lookups.areas
    allowed_organizations: dict[int | None, bool] = {}
    unchanged, create, update = RowPlan.UNCHANGED, RowPlan.CREATE, RowPlan.UPDATE
    append_plan, append_row = plans.append, rows.append
    for done, (number, values) in enumerate(table.rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total)
        count = len(errors)
        code = values["indicator"]
        found = subjects.get(code)
        if found is None:
            subject, message = lookups.subject(code) if code else (None, "")
            if subject is not None:
                kind = "i" if isinstance(subject, Indicator) else "m"
                found = (
                    subject,
                    message,
                    kind,
                    subject.pk,
                    lookups.dimensions_of(subject),
                    _fast_amounts(subject),
                    getattr(subject, "organization_id", None),
                )
            else:
                found = (None, message or "The indicator is missing.", "", None, set(), None, None)
            subjects[code] = found
        subject, message, kind, subject_id, allowed, fast, owner = found
        if message:
            rule = "unknown-code" if code else "required"
            errors.append(DataError(number, "indicator", code, message, rule=rule))
        period_code = values["period"]
        dates = period_of.get(period_code)
        if dates is None:
            # (Period, start, end, its canonical code) or (None, why not, None, "").
            found = lookups.period(period_code)
            dates = (*found, found[0].code) if found[0] else (None, found[1], None, "")
            period_of[period_code] = dates
        period, start, end, canonical = dates
        if period is None:
            errors.append(DataError(number, "period", period_code, start, rule="period"))
        organization_id = None
        slug = values.get("organization", "")
        if slug:
            organization_id = organizations.get(slug)
            if organization_id is None:
                message = f"No organization of this network has the code “{slug}”."
                errors.append(DataError(number, "organization", slug, message, "unknown-code"))
        if not (slug and organization_id is None):
            may = allowed_organizations.get(organization_id)
            if may is None:
                may = allowed_organizations[organization_id] = lookups.can_add(organization_id)
            if not may:
                message = "You may report only your own organization's data."
                errors.append(DataError(number, "organization", slug, message, "permission"))
        if owner and organization_id and owner != organization_id:
            message = f"{subject.code} is another organization's own measure."
            errors.append(DataError(number, "organization", slug, message, "permission"))
        area_id = None
        area_code = values.get("area", "")
        if area_code:
            area_id = areas.get(area_code)
            if area_id is None:
                message = f"No area of this network has the code “{area_code}”."
                errors.append(DataError(number, "area", area_code, message, "unknown-code"))
        named = tuple(values[column] for column, _, _, _ in dimension_info)
        known = category_keys.get((code, named))
        if known is None:
            categories = {}
            before = len(errors)
            for (column, dimension, codes, what), category in zip(
                dimension_info, named, strict=True
            ):
                if not category:
                    continue
                if subject and column not in allowed:
                    message = f"{subject.code} is not broken down by {dimension.name}."
                    errors.append(DataError(number, column, category, message, "dimension"))
                elif category not in codes:
                    message = f"{dimension.name} has no {what} “{category}”."
                    errors.append(DataError(number, column, category, message, "unknown-code"))
                else:
                    categories[column] = category
            key_text = disaggregation_key(categories)
            if len(errors) == before:
                # Only a combination without errors is remembered: a bad one is checked
                # (and reported) on every row that has it.
                category_keys[(code, named)] = (key_text, categories)
        else:
            key_text, categories = known
        if subject is None:
            continue
        amounts = fast(values) if fast is not None else None
        if amounts is None:
            amounts = _check_amounts(subject, values, number, errors)
        if len(errors) > count or amounts is None:
            continue
        period_code = canonical
        key = (kind, subject_id, period_code, organization_id, area_id, key_text)
        if key in seen:
            message = f"Row {seen[key]} already gives this value."
            errors.append(DataError(number, "indicator", code, message, rule="duplicate"))
            continue
        seen[key] = number
        comment = values.get("comment", "")
        amounts["comment"] = comment
        append_row(
            _Row(
                number, subject, period_code, organization_id, area_id, categories, amounts, comment
            )
        )
        item = ValuePlan(
            number, (code, period_code, slug, area_code, key_text), key=key, fields=amounts
        )
        current = stored.get(key) if stored else None
        if current is None:
            item.action = create
            amounts["_dates"] = (start, end, categories)
        else:
            item.existing = current
            item.changes = _changes(current, amounts)
            if item.changes:
                item.action = update
                if changeable is None:
                    changeable = _changeable(access, stored)
                _check_change(access, current, reason, number, errors, changeable)
        if item.action != unchanged and history:
            series = history.get((kind, subject_id, organization_id, area_id, key_text))
            earlier = (
                [v for k, p, v in series if k == period.kind and p != period_code]
                if series
                else None
            )
            warning = _outlier(amounts["value"], earlier) if earlier else ""
            if warning and not comment:
                message = f"{warning} Check it, and explain it in the comment column."
                errors.append(DataError(number, "comment", "", message, rule="outlier"))
            elif warning:
                item.warn(
                    DataError(number, "value", values.get("value", ""), warning, rule="outlier")
                )
        append_plan(item)
    if progress:
        progress(total, total)
    errors.extend(_check_sums(rows, lookups))
    outcomes = validation_rules.check(access, rows, lookups)
    by_row = {item.row: item for item in plans} if outcomes else {}
    for outcome in outcomes:
        if outcome.blocks:
            errors.append(outcome.error)
        elif outcome.row in by_row:
            by_row[outcome.row].warn(outcome.error)
    errors.sort(key=lambda e: (e.row, e.column))
    return plans, errors


def _changeable(access: Access, stored: dict) -> set[int]:
    if access.is_admin:
        return {row[_PK] for row in stored.values()}
    ids = [row[_PK] for row in stored.values()]
    return set(access.scope(DataValue, "change").filter(pk__in=ids).values_list("pk", flat=True))


def _outlier(value: Decimal, history: list[Decimal]) -> str:
    """Why VALUE looks wrong against the same series' other periods ("" if it does not)."""
    if not history:
        return ""
    ordered = sorted(history)
    median = _median(ordered)
    threshold = abs(median) * OUTLIER_SHARE
    if len(ordered) >= OUTLIER_MIN_HISTORY:
        threshold = max(threshold, OUTLIER_MADS * _median(sorted(abs(v - median) for v in ordered)))
    if threshold == 0 or abs(value - median) <= threshold:
        return ""
    return (
        f"{number_text(value)} is far from this series' earlier values "
        f"(median {number_text(median.quantize(PLACES))} over {len(ordered)} periods)."
    )


def _median(ordered: list[Decimal]) -> Decimal:
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _check_change(access, current: tuple, reason: str, row: int, errors, changeable: set[int]):
    if current[_STATUS] != DataValue.Status.APPROVED:
        if current[_PK] not in changeable:
            errors.append(
                DataError(row, "value", "", "Your role may not change this value.", "permission")
            )
        return
    if not access.is_admin:
        message = "This value is approved and locked; ask a network admin to correct it."
    elif not reason.strip():
        message = (
            "This value is approved and locked; to correct it, import again with a "
            "correction reason (--reason)."
        )
    else:
        return
    errors.append(DataError(row, "value", number_text(current[_VAL]), message, rule="locked"))


def _check_sums(rows: list[_Row], lookups: _Lookups) -> list[RowError]:
    """Where a file has a total and every category of one dimension, the parts must add
    up to the total (within rounding)."""
    totals: dict[tuple, _Row] = {}
    parts: dict[tuple, dict[str, _Row]] = {}
    for row in rows:
        place = (id(row.subject), row.period, row.organization_id, row.area_id)
        if not row.categories:
            totals[place] = row
        elif len(row.categories) == 1:
            ((dimension, code),) = row.categories.items()
            parts.setdefault((*place, dimension), {})[code] = row
    errors = []
    dimensions_of: dict[int, list] = {}
    for place, total in totals.items():
        subject = total.subject
        dimensions = dimensions_of.get(id(subject))
        if dimensions is None:
            dimensions = dimensions_of[id(subject)] = list(subject.dimensions.all())
        if subject.formula == Indicator.Formula.RATIO:
            names = ["numerator", "denominator"]
        elif subject.aggregation == Indicator.Aggregation.SUM:
            names = ["value"]
        else:
            continue
        for dimension in dimensions:
            found = parts.get((*place, dimension.code), {})
            if not found:
                continue
            expected = lookups.dimension_codes(dimension)
            if not expected or found.keys() != expected:
                continue
            for name in names:
                whole = total.amounts[name]
                added = sum((part.amounts[name] for part in found.values()), Decimal(0))
                if abs(added - whole) > max(abs(whole) * SUM_SHARE, SUM_UNITS):
                    first = min(r.number for r in found.values())
                    last = max(r.number for r in found.values())
                    errors.append(
                        DataError(
                            total.number,
                            name,
                            number_text(whole),
                            f"The {dimension.name} rows ({first}–{last}) add up to "
                            f"{number_text(added)}, not to this total.",
                            rule="sum",
                        )
                    )
    return errors
