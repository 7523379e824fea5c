"""The tidy interchange format of indicator and measure data: one row per value.

    indicator, period, organization, area, <one column per dimension>, value,
    numerator, denominator, comment

`indicator` is an indicator's or a performance measure's code, `organization` the
organization's slug (blank for population data), `area` an area code (blank for the whole
network), a dimension column holds a category code (an area code for a geography
dimension; blank = total). Direct subjects take `value`, ratios `numerator` and
`denominator` (a `value` beside them must match).

Every row is checked before anything is written (data_check: the plan is made in memory
with dict lookups), then the whole file is written in one transaction (data_write): the
values, one DataValueVersion per created or changed value (who, when, old, new, why) and
one audit record for the whole import. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import functools
import gc
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from backbone.core import tabular
from backbone.core.access import Access
from backbone.core.models import Area, Membership
from backbone.core.tabular import ImportResult, RowError, RowPlan, Table, TableError
from backbone.measurement import periods
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Framework,
    ImportJob,
    Indicator,
    PerformanceMeasure,
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


class ValuePlan(RowPlan):
    """What an import does with one value: RowPlan's row, label, action and changes, the
    checked amounts (`fields`), the stored row it updates (`existing`, see _STORED), its
    natural `key` and its warnings (`notes`: the same with their cells).

    A plain class, not a dataclass: a file of a million values makes a million of them,
    and the dataclass __init__ with its default factories was a tenth of the check."""

    def __init__(
        self,
        row: int,
        label: str | tuple[str, ...],
        action: str = RowPlan.UNCHANGED,
        changes: list | None = None,
        fields: dict | None = None,
        existing: tuple | None = None,
        key: tuple = (),
    ):
        self.row = row
        self._label = label
        self.action = action
        self.changes = [] if changes is None else changes
        self.fields = {} if fields is None else fields
        self.existing = existing
        self.key = key
        self.warnings: list[str] = []
        self.notes: list[DataError] = []

    @property
    def label(self) -> str:
        """What the row is about: its codes, joined when first asked for (LABEL may be
        given as a tuple of parts; most plans of a big file are never shown)."""
        if isinstance(self._label, tuple):
            self._label = " ".join(filter(None, self._label))
        return self._label

    @label.setter
    def label(self, value: str) -> None:
        self._label = value

    def warn(self, note: DataError) -> None:
        self.warnings.append(note.message)
        self.notes.append(note)


@dataclass(slots=True)
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
        if (indicator or measure) and (indicator or measure).system_source:
            return None, (
                f"{code} is computed by Backbone from {(indicator or measure).system_source}; "
                "its values cannot be entered or imported."
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


# Importing -------------------------------------------------------------------------------


def _collector_paused(function):
    """Run FUNCTION with Python's cyclic garbage collector off. A file of a million
    values makes millions of small objects and no reference cycles; the collector's
    full passes over them were a third of the check. Collection resumes afterwards."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


@_collector_paused
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
    from backbone.measurement.data_check import _plan

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
