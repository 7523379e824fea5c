"""The tidy interchange format of indicator and measure data: one row per value.

    indicator, period, organization, area, <one column per dimension>, value,
    numerator, denominator, comment

`indicator` is an indicator's or a performance measure's code, `organization` the
organization's slug (blank for population data), `area` an area code (blank for the whole
network), a dimension column holds a category code (an area code for a geography
dimension; blank = total). Direct subjects take `value`, ratios `numerator` and
`denominator` (a `value` beside them must match).

Every row is checked before anything is written. The plan is made in memory with dict
lookups (one query per kind of thing a file may name, one for the stored values), then
the whole file is written in one transaction with multi-row INSERTs and batched UPDATEs:
the values, one DataValueVersion per created or changed value (who, when, old, new, why)
and one audit record for the whole import. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from backbone.core import tabular
from backbone.core.access import Access
from backbone.core.models import Area, Membership
from backbone.core.tabular import ImportResult, RowError, RowPlan, Table, TableError
from backbone.measurement import periods, validation_rules
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Framework,
    ImportJob,
    Indicator,
    PerformanceMeasure,
    Unit,
)

KEY_COLUMNS = ["indicator", "period", "organization", "area"]
VALUE_COLUMNS = ["value", "numerator", "denominator", "comment"]
PLACES = Decimal("0.0001")
THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
LIMIT = Decimal(10) ** 14
# Data files are bigger than partner lists: a year of a state's data by ZIP code and
# race/ethnicity runs to hundreds of thousands of values.
MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 1_000_000
# Parts may differ from their total by rounding: 0.5% of the total or one unit.
SUM_SHARE, SUM_UNITS = Decimal("0.005"), Decimal(1)
# A value is an outlier when it is further from the median of its history than both
# 3 median absolute deviations (with 3+ earlier values) and half the median.
OUTLIER_MADS, OUTLIER_SHARE, OUTLIER_MIN_HISTORY = 3, Decimal("0.5"), 3
PROGRESS_EVERY = 5000
EMPTY = '""'
TRACKED = ("value", "numerator", "denominator", "comment", "status", "review_comment")
MERGED = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


@dataclass(frozen=True)
class DataError(RowError):
    """A problem with one cell, and the check (`rule`) that found it: a built-in check
    such as `range` or `sum`, or the code of one of the network's validation rules."""

    rule: str = ""


def disaggregation_key(categories: dict[str, str]) -> str:
    """The canonical key of a disaggregation: sorted "dimension=category;..."."""
    return ";".join(f"{dimension}={code}" for dimension, code in sorted(categories.items()))


def number_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


@dataclass
class ValuePlan(RowPlan):
    fields: dict = field(default_factory=dict)
    existing: tuple | None = None  # the stored row (see _STORED) when it exists
    warnings: list[str] = field(default_factory=list)
    notes: list[DataError] = field(default_factory=list)  # the warnings with their cells
    key: tuple = ()

    def warn(self, note: DataError) -> None:
        self.warnings.append(note.message)
        self.notes.append(note)


@dataclass
class _Row:
    number: int
    subject: Indicator | PerformanceMeasure
    period: str
    organization_id: int | None
    area_id: int | None
    categories: dict[str, str]
    amounts: dict[str, Decimal | None]
    comment: str = ""


# The stored fields an import reads, in this order.
_STORED = (
    "pk",
    "indicator_id",
    "measure_id",
    "period",
    "organization_id",
    "area_id",
    "disaggregation",
    "value",
    "numerator",
    "denominator",
    "comment",
    "status",
    "review_comment",
    "version",
    "submission_id",
)
_PK, _IND, _MEA, _PER, _ORG, _AREA, _DIS, _VAL, _NUM, _DEN, _COM, _STATUS, _REVIEW, _VER, _SUB = (
    range(len(_STORED))
)


class _Lookups:
    """Everything a file may name, read once per import through the access's scope."""

    def __init__(self, access: Access):
        self.access = access
        framework = access.scope(Framework).first()
        self.fiscal_start = framework.fiscal_year_start_month if framework else 7
        self.indicators = {
            i.code: i for i in access.scope(Indicator).prefetch_related("dimensions")
        }
        self.measures = {}
        if access.allows(PerformanceMeasure):
            measures = access.scope(PerformanceMeasure).prefetch_related("dimensions")
            self.measures = {m.code: m for m in measures}
        self.dimensions = {d.code: d for d in access.scope(Dimension)}
        self.categories: dict[int, set[str]] = {}
        for dimension_id, code in access.scope(Category).values_list("dimension_id", "code"):
            self.categories.setdefault(dimension_id, set()).add(code)
        self.areas = dict(access.scope(Area).values_list("code", "pk"))
        self.area_kinds = dict(access.scope(Area).values_list("code", "kind"))
        self.levels: dict[int, set[str]] = {}
        self.organizations = dict(
            access.scope(Membership).values_list("organization__slug", "organization_id")
        )
        self.allowed: dict[int, set[str]] = {}
        self.periods: dict[str, tuple] = {}
        self.may_add: dict[int | None, bool] = {}

    def subject(self, code: str):
        """(indicator or measure, error message) for a code of the `indicator` column."""
        indicator, measure = self.indicators.get(code), self.measures.get(code)
        if indicator and measure:
            return None, (
                f"Both an indicator and a performance measure have the code “{code}”; "
                "rename one of them in the framework before importing."
            )
        if indicator or measure:
            return indicator or measure, ""
        return None, f"No indicator or performance measure has the code “{code}”."

    def dimensions_of(self, subject) -> set[str]:
        key = id(subject)
        if key not in self.allowed:
            self.allowed[key] = {d.code for d in subject.dimensions.all()}
        return self.allowed[key]

    def period(self, code: str) -> tuple:
        """(Period, start, end) or (None, message), cached per code."""
        found = self.periods.get(code)
        if found is None:
            try:
                period = periods.parse(code)
                found = (
                    period,
                    period.start(self.fiscal_start),
                    period.end(self.fiscal_start),
                )
            except periods.PeriodError as exc:
                message = str(exc) if code else "The period is missing."
                if code and re.fullmatch(r"[\d/.\- ]+|\d{4}-\d{2}-\d{2}.*", code):
                    message += " Dates are not periods: write the period's code."
                found = (None, message)
            self.periods[code] = found
        return found

    def can_add(self, organization_id: int | None) -> bool:
        if organization_id not in self.may_add:
            self.may_add[organization_id] = self.access.can_add(
                DataValue, organization_id=organization_id
            )
        return self.may_add[organization_id]

    def dimension_codes(self, dimension: Dimension) -> set[str]:
        """Every category of DIMENSION; for geography, the areas at its level."""
        if dimension.kind != Dimension.Kind.GEOGRAPHY:
            return self.categories.get(dimension.pk, set())
        if dimension.pk not in self.levels:
            self.levels[dimension.pk] = {
                code
                for code, kind in self.area_kinds.items()
                if not dimension.area_kind or kind == dimension.area_kind
            }
        return self.levels[dimension.pk]


def data_columns(access: Access) -> list[str]:
    dimensions = access.scope(Dimension).order_by("position", "code").values_list("code", flat=True)
    return [*KEY_COLUMNS, *dimensions, *VALUE_COLUMNS]


# Reading ---------------------------------------------------------------------------------


def read_data_table(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Table:
    """The rows of a data file; raises TableError (a whole-file problem) or
    tabular.ImportFailed (problems with named cells: formulas, merged cells)."""
    if len(data) > MAX_BYTES:
        raise TableError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into "
            "several files (by period or indicator)."
        )
    if not data.strip():
        raise TableError("The file is empty: the first row must name the columns.")
    name = filename.lower()
    if name.endswith(".csv"):
        if data[:2] in (b"PK", b"\xd0\xcf"):
            raise TableError("This is a spreadsheet saved under a .csv name; name it .xlsx.")
        return _csv_table(data, max_rows)
    if name.endswith(".xlsx"):
        return _xlsx_table(data, max_rows)
    raise TableError("Upload a .csv or .xlsx file.")


def _csv_table(data: bytes, max_rows: int) -> Table:
    """tabular's CSV reading, with the per-cell work done in C for big files."""
    records = tabular._csv_records(data)
    first = next(records, None)
    if not first or not any(cell.strip() for cell in first):
        raise TableError("The first row must name the columns; it is empty.")
    header = [" ".join(cell.split()).lower().replace(" ", "_") for cell in first]
    if not all(header) or len(set(header)) != len(header):
        # Blank or repeated column names: tabular's reader says which.
        return tabular._table(iter([first, *records]), max_rows)
    width = len(header)
    padding = [""] * width
    rows = []
    strip = str.strip
    try:
        for number, record in enumerate(records, start=2):
            if len(record) != width:
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    letter = tabular.column_letter(width)
                    raise TableError(
                        f"Row {number} has a value in column {letter}, which has no name in "
                        "the first row."
                    )
                record = (record + padding)[:width]
            cells = list(map(strip, record))
            if not any(cells):
                continue
            rows.append((number, dict(zip(header, cells, strict=True))))
            if len(rows) > max_rows:
                raise TableError(f"The file has more than {max_rows:,} rows; split it up.")
    except csv.Error as exc:
        raise TableError(f"The CSV file cannot be read: {exc}.") from exc
    return Table(columns=header, rows=rows)


def _xlsx_table(data: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise TableError("The file is not a readable .xlsx workbook.") from exc
    try:
        if not workbook.worksheets:
            raise TableError("The workbook has no sheets.")
        sheet = workbook.worksheets[0]
        header: list[str] = []
        problems: list[RowError] = []
        try:
            with workbook._archive.open(sheet._worksheet_path) as source:
                xml = source.read()
        except (AttributeError, KeyError):
            xml = b""

        def records():
            for number, row in enumerate(sheet.iter_rows(), start=1):
                cells = []
                for cell in row:
                    if getattr(cell, "data_type", "") == "f":
                        column = cell.column_letter
                        problems.append(
                            DataError(
                                number,
                                _header_name(header, cell.column - 1, column),
                                str(cell.value),
                                f"Cell {column}{number} holds a formula; paste its value "
                                "instead (copy, then Paste Special → Values).",
                                rule="file",
                            )
                        )
                    cells.append(tabular._cell_text(cell.value))
                if number == 1:
                    header[:] = [" ".join(c.split()).lower().replace(" ", "_") for c in cells]
                yield cells

        table = tabular._table(records(), max_rows)
        for match in MERGED.finditer(xml):
            first, row, last, end = match.groups()
            cells = f"{first.decode()}{row.decode()}:{last.decode()}{end.decode()}"
            index = _column_index(first.decode())
            problems.append(
                DataError(
                    int(row),
                    _header_name(header, index, first.decode()),
                    "",
                    f"Cells {cells} are merged; unmerge them and fill in every cell.",
                    rule="file",
                )
            )
        if problems:
            raise tabular.ImportFailed(problems)
        return table
    finally:
        workbook.close()


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _header_name(header: list[str], index: int, letter: str) -> str:
    return header[index] if 0 <= index < len(header) and header[index] else letter


# Checking --------------------------------------------------------------------------------


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
    changes = []
    for name, index in (("value", _VAL), ("numerator", _NUM), ("denominator", _DEN)):
        before, after = existing[index], fields[name]
        if before != after:
            changes.append((name, number_text(before), number_text(after)))
    if existing[_COM] != fields["comment"]:
        changes.append(("comment", existing[_COM], fields["comment"]))
    return changes


def data_import(
    *,
    access: Access,
    data: bytes,
    filename: str,
    commit: bool,
    via: str = "import",
    reason: str = "",
    submission=None,
    progress: Callable[[int, int], None] | None = None,
    job: ImportJob | None = None,
    max_rows: int = MAX_ROWS,
) -> ImportResult:
    """Create or update data values from a tidy CSV/XLSX file, all or nothing.

    A row that changes an approved value is an error unless REASON (a correction) is given
    by a network admin. SUBMISSION links the written values to a Submission; PROGRESS is
    called with (rows done, rows in all) as the file is checked and written; JOB is the
    ImportJob the audit record points at (one is recorded for other doors)."""
    try:
        table = read_data_table(data, filename, max_rows=max_rows)
    except TableError as exc:
        return ImportResult(errors=[DataError(0, "", "", str(exc), rule="file")])
    except tabular.ImportFailed as exc:
        return ImportResult(errors=exc.errors)
    errors = tabular.check_columns(
        table, allowed=data_columns(access), required=["indicator", "period"]
    )
    if errors:
        return ImportResult(
            errors=[DataError(e.row, e.column, e.value, e.message, "column") for e in errors]
        )
    if not commit:
        plans, errors = _plan(access, table, reason, submission, progress)
        return ImportResult(plans=plans, errors=errors)
    try:
        with transaction.atomic():
            # Planned inside the transaction: the data may have moved since the preview.
            plans, errors = _plan(access, table, reason, submission, progress)
            if errors:
                raise tabular.ImportFailed(errors)
            from backbone.measurement.data_write import write_plans

            write_plans(access, plans, data, filename, via, reason, submission, progress, job)
    except tabular.ImportFailed as exc:
        return ImportResult(plans=plans, errors=exc.errors)
    return ImportResult(plans=plans, committed=True)


def _stored_values(access: Access, lookups: _Lookups, table: Table) -> dict[tuple, tuple]:
    """The stored values of the subjects the file names, by natural key. Read without
    the view scope: whether a key exists decides create or update, whoever may see it."""
    named = {values["indicator"] for _, values in table.rows}
    indicator_ids = [lookups.indicators[c].pk for c in named if c in lookups.indicators]
    measure_ids = [lookups.measures[c].pk for c in named if c in lookups.measures]
    stored = {}
    rows = DataValue.objects.filter(network=access.network)
    for ids, name in ((indicator_ids, "indicator_id"), (measure_ids, "measure_id")):
        if not ids:
            continue
        for row in rows.filter(**{f"{name}__in": ids}).values_list(*_STORED):
            kind, subject = ("i", row[_IND]) if row[_IND] else ("m", row[_MEA])
            stored[(kind, subject, row[_PER], row[_ORG], row[_AREA], row[_DIS])] = row
    return stored


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
    subjects: dict[str, tuple] = {}
    organizations = lookups.organizations
    areas = lookups.areas
    unchanged, create, update = RowPlan.UNCHANGED, RowPlan.CREATE, RowPlan.UPDATE
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
                found = (subject, message, kind, subject.pk, lookups.dimensions_of(subject))
            else:
                found = (None, message or "The indicator is missing.", "", None, set())
            subjects[code] = found
        subject, message, kind, subject_id, allowed = found
        if message:
            rule = "unknown-code" if code else "required"
            errors.append(DataError(number, "indicator", code, message, rule=rule))
        period, start, *end = lookups.period(values["period"])
        if period is None:
            errors.append(DataError(number, "period", values["period"], start, rule="period"))
        organization_id = None
        slug = values.get("organization", "")
        if slug:
            organization_id = organizations.get(slug)
            if organization_id is None:
                message = f"No organization of this network has the code “{slug}”."
                errors.append(DataError(number, "organization", slug, message, "unknown-code"))
        if not (slug and organization_id is None) and not lookups.can_add(organization_id):
            message = "You may report only your own organization's data."
            errors.append(DataError(number, "organization", slug, message, "permission"))
        owner = getattr(subject, "organization_id", None)
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
        categories = {}
        for column, dimension, codes, what in dimension_info:
            category = values[column]
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
        amounts = _check_amounts(subject, values, number, errors) if subject else None
        if len(errors) > count or amounts is None:
            continue
        if not categories:
            key_text = ""
        elif len(categories) == 1:
            ((dimension_code, category),) = categories.items()
            key_text = f"{dimension_code}={category}"
        else:
            key_text = disaggregation_key(categories)
        period_code = period.code
        key = (kind, subject_id, period_code, organization_id, area_id, key_text)
        if key in seen:
            message = f"Row {seen[key]} already gives this value."
            errors.append(DataError(number, "indicator", code, message, rule="duplicate"))
            continue
        seen[key] = number
        comment = values.get("comment", "")
        amounts["comment"] = comment
        rows.append(
            _Row(
                number, subject, period_code, organization_id, area_id, categories, amounts, comment
            )
        )
        label = " ".join(filter(None, (code, period_code, slug, area_code, key_text)))
        item = ValuePlan(number, label, key=key, fields=amounts)
        current = stored.get(key)
        if current is None:
            item.action = create
            amounts["_dates"] = (start, end[0], categories)
        else:
            item.existing = current
            item.changes = _changes(current, amounts)
            if item.changes:
                item.action = update
                if changeable is None:
                    changeable = _changeable(access, stored)
                _check_change(access, current, reason, number, errors, changeable)
        if item.action != unchanged:
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
        plans.append(item)
    if progress:
        progress(total, total)
    errors.extend(_check_sums(rows, lookups))
    outcomes = validation_rules.check(access, rows, lookups)
    by_row = {item.row: item for item in plans}
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
    for place, total in totals.items():
        subject = total.subject
        if subject.formula == Indicator.Formula.RATIO:
            names = ["numerator", "denominator"]
        elif subject.aggregation == Indicator.Aggregation.SUM:
            names = ["value"]
        else:
            continue
        for dimension in subject.dimensions.all():
            found = parts.get((*place, dimension.code), {})
            if not found:
                continue
            expected = lookups.dimension_codes(dimension)
            if not expected or set(found) != expected:
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


# Exporting -------------------------------------------------------------------------------


def data_export(
    *, access: Access, indicator: Indicator | PerformanceMeasure | None = None, filename="data.csv"
) -> bytes:
    """The data values this access may see, in the tidy format (CSV, or XLSX by FILENAME)."""
    values = access.scope(DataValue).select_related("indicator", "measure", "organization", "area")
    if isinstance(indicator, PerformanceMeasure):
        values = values.filter(measure=indicator)
    elif indicator is not None:
        values = values.filter(indicator=indicator)
    if not access.allows(PerformanceMeasure):
        values = values.filter(measure__isnull=True)
    used = set()
    for categories in values.values_list("categories", flat=True):
        used.update(categories)
    dimensions = [
        code
        for code in access.scope(Dimension)
        .order_by("position", "code")
        .values_list("code", flat=True)
        if code in used
    ]
    header = [*KEY_COLUMNS, *dimensions, *VALUE_COLUMNS]
    records = [header]
    for value in values.order_by(
        "indicator__position",
        "indicator__code",
        "measure__code",
        "period_start",
        "period",
        "organization__slug",
        "area__code",
        "disaggregation",
    ):
        records.append(
            [
                value.subject.code,
                value.period,
                value.organization.slug if value.organization else "",
                value.area.code if value.area else "",
                *(value.categories.get(code, "") for code in dimensions),
                number_text(value.value),
                number_text(value.numerator),
                number_text(value.denominator),
                value.comment,
            ]
        )
    return write_records(records, filename)


def write_records(records: list[list], filename: str) -> bytes:
    """RECORDS (the header first) as CSV, or as XLSX when FILENAME ends in .xlsx."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "data"
        for record in records:
            sheet.append(record)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\n").writerows(records)
    return text.getvalue().encode("utf-8")
