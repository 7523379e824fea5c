"""Reading uploaded tables (CSV or XLSX) and the shared shape of an import's report.

Imports of partners and areas both read a file into rows keyed by column name, check
every row, and report (row, column, value, message) for each problem. Row numbers are
the ones a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
EXTENSIONS = (".csv", ".xlsx")
LIST_SEPARATOR = ";"


class TableError(Exception):
    """The file as a whole cannot be read (wrong format, no header, too big)."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


@dataclass
class RowPlan:
    """What an import does with one row: create, update or leave unchanged."""

    row: int
    label: str
    action: str = "unchanged"
    # (what, before, after) for the preview
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass
class ImportResult:
    plans: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for plan in self.plans if plan.action == action)

    @property
    def created(self) -> int:
        return self.count(RowPlan.CREATE)

    @property
    def updated(self) -> int:
        return self.count(RowPlan.UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(RowPlan.UNCHANGED)

    def summary(self) -> str:
        if self.committed:
            return f"Created {self.created}, updated {self.updated}, unchanged {self.unchanged}."
        return f"Would create {self.created}, update {self.updated}; {self.unchanged} unchanged."


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, column -> text)


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 -> A, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def choice_code(value: str, choices) -> str | None:
    """The code of a TextChoices member named by VALUE (its code or label, any case)."""
    wanted = " ".join(value.split()).lower()
    for code, label in choices.choices:
        if wanted in (code.lower(), str(label).lower()):
            return code
    return None


def read_table(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Table:
    """The rows of a .csv (UTF-8, BOM or not) or .xlsx (first sheet) file."""
    if len(data) > MAX_BYTES:
        raise TableError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    name = filename.lower()
    if name.endswith(".csv"):
        return _table(_csv_records(data), max_rows)
    if name.endswith(".xlsx"):
        return _xlsx_table(data, max_rows)
    raise TableError("Upload a .csv or .xlsx file.")


def _csv_records(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(
            "The file is not UTF-8 text. In your spreadsheet program, save it as "
            "“CSV UTF-8” and upload it again."
        ) from exc
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise TableError(f"The CSV file cannot be read: {exc}.") from exc


def _xlsx_table(data: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError("The file is not a readable .xlsx workbook.") from exc
    try:
        if not workbook.worksheets:
            raise TableError("The workbook has no sheets.")
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        # Rows are read one at a time so that a huge sheet stops at MAX_ROWS.
        return _table(([_cell_text(value) for value in row] for row in rows), max_rows)
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(records: Iterator[list[str]], max_rows: int) -> Table:
    first = next(records, None)
    if not first or not any(cell.strip() for cell in first):
        raise TableError("The first row must name the columns; it is empty.")
    header = [" ".join(cell.split()).lower().replace(" ", "_") for cell in first]
    named = [i for i, name in enumerate(header) if name]
    seen: dict[str, int] = {}
    for i in named:
        if header[i] in seen:
            raise TableError(
                f"The column “{header[i]}” appears twice (columns "
                f"{column_letter(seen[header[i]])} and {column_letter(i)})."
            )
        seen[header[i]] = i
    rows = []
    for number, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue
        for i, cell in enumerate(record):
            if cell.strip() and (i >= len(header) or not header[i]):
                raise TableError(
                    f"Row {number} has a value in column {column_letter(i)}, which has no "
                    "name in the first row."
                )
        rows.append(
            (number, {header[i]: (record[i].strip() if i < len(record) else "") for i in named})
        )
        if len(rows) > max_rows:
            raise TableError(f"The file has more than {max_rows} rows; split it up.")
    return Table(columns=[header[i] for i in named], rows=rows)


def check_columns(table: Table, *, allowed: list[str], required: list[str]) -> list[RowError]:
    """Errors (on row 1) naming unknown and missing columns."""
    errors = []
    unknown = [name for name in table.columns if name not in allowed]
    if unknown:
        errors.append(
            RowError(
                row=1,
                column=", ".join(unknown),
                value="",
                message=f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                f"The columns are: {', '.join(allowed)}.",
            )
        )
    missing = [name for name in required if name not in table.columns]
    if missing:
        errors.append(
            RowError(
                row=1,
                column=", ".join(missing),
                value="",
                message=f"Missing required column{'s' if len(missing) > 1 else ''}: "
                f"{', '.join(missing)}.",
            )
        )
    if not table.rows and not errors:
        errors.append(RowError(row=2, column="", value="", message="The file has no rows."))
    return errors


def validation_errors(
    row: int, exc, values: dict[str, str], columns: dict[str, str] | None = None
) -> list[RowError]:
    """Row errors from a model ValidationError; COLUMNS maps field names to column names."""
    columns = columns or {}
    errors = []
    for field_name, messages in exc.message_dict.items():
        column = columns.get(field_name, "" if field_name == "__all__" else field_name)
        errors.extend(
            RowError(row=row, column=column, value=values.get(column, ""), message=message)
            for message in messages
        )
    return errors


class ImportFailed(Exception):
    """Raised while applying an import to roll the whole transaction back."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors


def run_import(
    *,
    data: bytes,
    filename: str,
    columns: list[str],
    required: list[str],
    plan,
    apply,
    commit: bool,
) -> ImportResult:
    """Read a CSV/XLSX table and plan every row (`plan(table) -> (plans, errors)`); with
    COMMIT, `apply(plans)` inside one transaction: all of it is written or none of it."""
    try:
        table = read_table(data, filename)
    except TableError as exc:
        return ImportResult(errors=[RowError(row=0, column="", value="", message=str(exc))])
    errors = check_columns(table, allowed=columns, required=required)
    if errors:
        return ImportResult(errors=errors)
    if not commit:
        plans, errors = plan(table)
        return ImportResult(plans=plans, errors=errors)
    try:
        with transaction.atomic():
            # Planned again inside the transaction: the data may have moved since the preview.
            plans, errors = plan(table)
            if errors:
                raise ImportFailed(errors)
            apply(plans)
    except ImportFailed as exc:
        return ImportResult(plans=plans, errors=exc.errors)
    return ImportResult(plans=plans, committed=True)
