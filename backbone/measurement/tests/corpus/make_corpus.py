"""Writes the bad-input corpus next to this script: `python make_corpus.py`.

The files are committed; this script says how each was made (the XLSX ones with
openpyxl). test_bad_input_corpus.py holds what each must report.
"""

from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEADER = (
    "indicator,period,organization,area,race-ethnicity,geography,value,numerator,denominator,"
    "comment"
)


CSV = {
    "unknown_column.csv": "indicator,period,colour,value\nenrolled,2024,red,1\n",
    "missing_period_column.csv": "indicator,value\nenrolled,1\n",
    "no_value_column.csv": "indicator,period,comment\nenrolled,2024,hi\n",
    "semicolon_separated.csv": "indicator;period;value\nenrolled;2024;1\n",
    "duplicate_column.csv": "indicator,period,value,value\nenrolled,2024,1,2\n",
    "value_in_unnamed_column.csv": "indicator,period,value\nenrolled,2024,1,surprise\n",
    "blank_header.csv": "\n\nenrolled,2024,1\n",
    "header_only.csv": HEADER + "\n",
    "empty.csv": "",
    "whitespace_only.csv": "  \n\n \n",
    "date_period_iso.csv": "indicator,period,value\nenrolled,2024-05-01,1\n",
    "date_period_us.csv": "indicator,period,value\nenrolled,05/01/2024,1\n",
    "period_month_name.csv": "indicator,period,value\nenrolled,May 2024,1\n",
    "period_quarter_5.csv": "indicator,period,value\nenrolled,2024-Q5,1\n",
    "missing_period.csv": "indicator,period,value\nenrolled,,1\n",
    "negative_count.csv": "indicator,period,value\nenrolled,2024,12\nenrolled,2023,-3\n",
    "fractional_count.csv": "indicator,period,value\nenrolled,2024,2.5\n",
    "not_a_number.csv": "indicator,period,value\nenrolled,2024,n/a\n",
    "decimal_comma.csv": 'indicator,period,value\nenrolled,2024,"1,5"\n',
    "too_large_number.csv": "indicator,period,value\nenrolled,2024,1e20\n",
    "missing_value.csv": "indicator,period,value\nenrolled,2024,\n",
    "missing_indicator.csv": "indicator,period,value\n,2024,1\n",
    "direct_with_numerator.csv": "indicator,period,value,numerator\nenrolled,2024,1,1\n",
    "percent_over_100.csv": "indicator,period,numerator,denominator\nreading,2024,60,50\n",
    "zero_denominator.csv": "indicator,period,numerator,denominator\nreading,2024,0,0\n",
    "ratio_missing_denominator.csv": "indicator,period,numerator,denominator\nreading,2024,5,\n",
    "ratio_value_mismatch.csv": "indicator,period,value,numerator,denominator\n"
    "reading,2024,55,45,100\n",
    "duplicate_rows.csv": "indicator,period,value\n"
    "enrolled,2024,1\nenrolled,2023,1\nenrolled,2024,1\n",
    "unknown_indicator.csv": "indicator,period,value\nenrolled,2024,1\nenroled,2024,1\n",
    "unknown_organization.csv": "indicator,period,organization,value\nenrolled,2024,ghost-org,1\n",
    "unknown_area.csv": "indicator,period,area,value\nenrolled,2024,atlantis,1\n",
    "unknown_category.csv": "indicator,period,race-ethnicity,value\nenrolled,2024,purple,1\n",
    "geography_wrong_level.csv": "indicator,period,geography,value\nenrolled,2024,county,1\n",
    "dimension_not_used.csv": "indicator,period,geography,numerator,denominator\n"
    "reading,2024,z1,1,2\n",
    "parts_do_not_sum.csv": "indicator,period,race-ethnicity,value\nenrolled,2024,,300\n"
    "enrolled,2024,asian,50\nenrolled,2024,black,100\nenrolled,2024,white,250\n",
}


def write_csvs() -> None:
    for name, text in CSV.items():
        (HERE / name).write_text(text, encoding="utf-8", newline="")
    bom = "indicator,period,value\nenrolled,2024,1\nenrolled,2023,-1\n"
    (HERE / "utf8_bom_negative.csv").write_bytes(b"\xef\xbb\xbf" + bom.encode())
    latin = "indicator,period,value,comment\nenrolled,2024,1,Données révisées\n"
    (HERE / "latin1.csv").write_bytes(latin.encode("latin-1"))
    (HERE / "utf16.csv").write_bytes(latin.encode("utf-16"))
    (HERE / "workbook_named_csv.csv").write_bytes((HERE / "negative_count.xlsx").read_bytes())


def sheet(rows):
    workbook = Workbook()
    worksheet = workbook.active
    for row in rows:
        worksheet.append(row)
    return workbook, worksheet


def write_xlsxs() -> None:
    import datetime

    header = ["indicator", "period", "value"]
    workbook, _ = sheet([header, ["enrolled", "2024", 4], ["enrolled", "2023", -4]])
    workbook.save(HERE / "negative_count.xlsx")
    workbook, _ = sheet([header, ["enrolled", "2024", "=2+2"]])
    workbook.save(HERE / "formula.xlsx")
    workbook, worksheet = sheet([header, ["enrolled", "2024", 1], [None, "2023", 1]])
    worksheet.merge_cells("A2:A3")
    workbook.save(HERE / "merged_cells.xlsx")
    workbook, _ = sheet([header, ["enrolled", datetime.date(2024, 5, 1), 1]])
    workbook.save(HERE / "date_cell_period.xlsx")
    workbook, _ = sheet([])
    workbook.save(HERE / "empty_sheet.xlsx")
    workbook, _ = sheet([["indicator", "period", "amount"], ["enrolled", "2024", 1]])
    workbook.save(HERE / "xlsx_unknown_column.xlsx")
    (HERE / "not_a_workbook.xlsx").write_text("indicator,period,value\nenrolled,2024,1\n")
    (HERE / "values.txt").write_text("indicator,period,value\nenrolled,2024,1\n")


if __name__ == "__main__":
    write_xlsxs()
    write_csvs()
