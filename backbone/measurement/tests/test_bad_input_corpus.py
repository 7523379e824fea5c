# ruff: noqa: F811 - `framework` is a fixture imported from test_data_file
"""Every file of the bad-input corpus (tests/corpus, made by corpus/make_corpus.py) gives
its specific error, naming the row, the column and why, and writes nothing."""

from pathlib import Path

import pytest

from backbone.core.models import AuditEvent
from backbone.measurement import data_file
from backbone.measurement.data_file import data_import
from backbone.measurement.models import DataValue, DataValueVersion, ImportJob
from backbone.measurement.tests.test_data_file import admin, framework  # noqa: F401

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parent / "corpus"

# file: (row, column, rule, words of the message); row 0 = the whole file.
EXPECTED = {
    "unknown_column.csv": (1, "colour", "column", "Unknown column: colour"),
    "missing_period_column.csv": (1, "period", "column", "Missing required column: period"),
    "no_value_column.csv": (1, "value", "column", "Give a value column"),
    "semicolon_separated.csv": (1, "indicator;period;value", "column", "Unknown column"),
    "duplicate_column.csv": (0, "", "file", "“value” appears twice (columns C and D)"),
    "value_in_unnamed_column.csv": (0, "", "file", "Row 2 has a value in column D"),
    "blank_header.csv": (0, "", "file", "The first row must name the columns"),
    "header_only.csv": (2, "", "column", "The file has no rows"),
    "empty.csv": (0, "", "file", "The file is empty"),
    "whitespace_only.csv": (0, "", "file", "The file is empty"),
    "date_period_iso.csv": (2, "period", "period", "Dates are not periods"),
    "date_period_us.csv": (2, "period", "period", "Dates are not periods"),
    "period_month_name.csv": (2, "period", "period", "'May 2024' is not a period code"),
    "period_quarter_5.csv": (2, "period", "period", "'2024-Q5' is not a period code"),
    "missing_period.csv": (2, "period", "period", "The period is missing"),
    "negative_count.csv": (3, "value", "range", "A count must be a whole number, 0 or more"),
    "fractional_count.csv": (2, "value", "range", "A count must be a whole number"),
    "not_a_number.csv": (2, "value", "type", "This is not a number"),
    "decimal_comma.csv": (2, "value", "type", "This is not a number"),
    "too_large_number.csv": (2, "value", "range", "This number is too large"),
    "missing_value.csv": (2, "value", "type", "The value is missing"),
    "missing_indicator.csv": (2, "indicator", "required", "The indicator is missing"),
    "direct_with_numerator.csv": (2, "numerator", "type", "takes a direct value"),
    "percent_over_100.csv": (2, "numerator", "ratio", "a percent cannot exceed 100"),
    "zero_denominator.csv": (2, "denominator", "range", "The denominator cannot be 0"),
    "ratio_missing_denominator.csv": (2, "denominator", "type", "give its numerator and"),
    "ratio_value_mismatch.csv": (2, "value", "ratio", "does not match numerator / denominator"),
    "duplicate_rows.csv": (4, "indicator", "duplicate", "Row 2 already gives this value"),
    "unknown_indicator.csv": (3, "indicator", "unknown-code", "has the code “enroled”"),
    "unknown_organization.csv": (2, "organization", "unknown-code", "“ghost-org”"),
    "unknown_area.csv": (2, "area", "unknown-code", "No area of this network has the code"),
    "unknown_category.csv": (2, "race-ethnicity", "unknown-code", "Race has no category"),
    "geography_wrong_level.csv": (2, "geography", "unknown-code", "Geography has no area"),
    "dimension_not_used.csv": (2, "geography", "dimension", "reading is not broken down by"),
    "parts_do_not_sum.csv": (2, "value", "sum", "rows (3–5) add up to 400, not to this total"),
    "utf8_bom_negative.csv": (3, "value", "range", "A count must be a whole number"),
    "latin1.csv": (0, "", "file", "not UTF-8 text"),
    "utf16.csv": (0, "", "file", "not UTF-8 text"),
    "workbook_named_csv.csv": (0, "", "file", "a spreadsheet saved under a .csv name"),
    "negative_count.xlsx": (3, "value", "range", "A count must be a whole number"),
    "formula.xlsx": (2, "value", "file", "Cell C2 holds a formula"),
    "merged_cells.xlsx": (2, "indicator", "file", "Cells A2:A3 are merged"),
    "date_cell_period.xlsx": (2, "period", "period", "Dates are not periods"),
    "empty_sheet.xlsx": (0, "", "file", "The first row must name the columns"),
    "xlsx_unknown_column.xlsx": (1, "amount", "column", "Unknown column: amount"),
    "not_a_workbook.xlsx": (0, "", "file", "not a readable .xlsx workbook"),
    "values.txt": (0, "", "file", "Upload a .csv or .xlsx file"),
}


def stored(world) -> tuple[int, int, int, int]:
    return (
        DataValue.objects.filter(network=world.network).count(),
        DataValueVersion.objects.filter(network=world.network).count(),
        AuditEvent.objects.filter(network=world.network).count(),
        ImportJob.objects.filter(network=world.network).count(),
    )


def test_the_corpus_has_every_file_and_at_least_30():
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.is_file()}
    assert files == set(EXPECTED) and len(files) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_file_gives_its_error_and_writes_nothing(framework, name):
    row, column, rule, words = EXPECTED[name]
    before = stored(framework)

    result = data_import(
        access=admin(framework),
        data=(CORPUS / name).read_bytes(),
        filename=name,
        commit=True,
    )

    assert not result.committed
    found = [(e.row, e.column, getattr(e, "rule", ""), e.message) for e in result.errors]
    assert any(
        (r, c, k) == (row, column, rule) and words in message for r, c, k, message in found
    ), found
    assert stored(framework) == before


def test_a_file_over_the_size_limit_is_refused_at_once(framework):
    before = stored(framework)
    data = b"indicator,period,value\n" + b"x" * data_file.MAX_BYTES

    result = data_import(access=admin(framework), data=data, filename="big.csv", commit=True)

    assert [(e.row, e.rule) for e in result.errors] == [(0, "file")]
    assert "larger than 100 MB" in result.errors[0].message
    assert stored(framework) == before


def test_a_file_over_the_row_limit_is_refused(framework):
    before = stored(framework)
    rows = b"enrolled,2024,1\n" * (data_file.MAX_ROWS + 1)

    result = data_import(
        access=admin(framework),
        data=b"indicator,period,value\n" + rows,
        filename="many.csv",
        commit=True,
    )

    assert [(e.row, e.rule) for e in result.errors] == [(0, "file")]
    assert "more than 1,000,000 rows; split it up" in result.errors[0].message
    assert stored(framework) == before
