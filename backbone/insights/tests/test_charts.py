"""Charts drawn on the server: valid, accessible SVG whose table holds the plotted figures."""

import datetime
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

import pytest

from backbone.insights import charts

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Cell:
    """The shape of analytics.Cell (charts read only these attributes)."""

    period: str
    period_start: datetime.date
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    sources: int = 1


def school_years(*values):
    return [
        Cell(f"SY{2019 + i}-{(2020 + i) % 100:02d}", datetime.date(2019 + i, 7, 1), value)
        for i, value in enumerate(Decimal(v) if v is not None else None for v in values)
    ]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_trend_chart_is_accessible_svg_with_title_and_description():
    cells = school_years("41.5", "40.2", "43.8")
    chart = charts.trend_chart(
        "3rd-grade reading",
        cells,
        unit="percent",
        targets=[("SY2022-23", Decimal(45)), ("SY2023-24", Decimal(47))],
        forecast=[("SY2023-24", Decimal("44.9"))],
    )
    root = parse(chart.svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "3rd-grade reading"
    assert desc.text == chart.description
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert chart.description == (
        "Line chart of 3rd-grade reading from 41.5% in SY2019-20 to 43.8% in SY2021-22; "
        "target 47.0% for SY2023-24; forecast 44.9% for SY2023-24."
    )


def test_trend_table_has_every_period_with_actual_target_and_forecast():
    chart = charts.trend_chart(
        "Enrolled",
        school_years("1204", None, "1310"),
        unit="count",
        targets=[("SY2021-22", Decimal(1300))],
        forecast=[("SY2022-23", Decimal("1350.4"))],
    )
    assert chart.columns == ["Period", "Actual", "Target", "Forecast"]
    assert chart.rows == [
        ["SY2019-20", "1,204", "", ""],
        ["SY2020-21", "no data", "", ""],
        ["SY2021-22", "1,310", "1,300", ""],
        ["SY2022-23", "", "", "1,350.4"],
    ]
    # The plotted points are the table's figures.
    plotted = {
        (p["period"], p["series"]): p["value"]
        for p in chart.spec["data"]["values"]
        if p["period"] != "SY2021-22" or p["series"] != "Forecast"
    }
    assert plotted == {
        ("SY2019-20", "Actual"): 1204.0,
        ("SY2021-22", "Actual"): 1310.0,
        ("SY2021-22", "Target"): 1300.0,
        ("SY2022-23", "Forecast"): 1350.4,
    }


def test_trend_without_forecast_has_no_forecast_column():
    chart = charts.trend_chart("Enrolled", school_years("5", "6"), unit="count")
    assert chart.columns == ["Period", "Actual", "Target"]


def test_empty_trend_says_there_is_no_data():
    chart = charts.trend_chart("Enrolled", [], unit="count")
    assert chart.rows == []
    assert chart.description == "Line chart of Enrolled: no reported data yet."
    assert parse(chart.svg).get("role") == "img"


def test_svg_has_no_external_urls_fonts_or_scripts():
    chart = charts.trend_chart("Reading", school_years("1", "2"), unit="score")
    svg = chart.svg
    assert "<script" not in svg and "@font-face" not in svg and "@import" not in svg
    assert not re.search(r"url\(|href=", svg)
    # The only URL is the SVG namespace, which is a name, not a download.
    assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]


def test_chart_marks_are_hidden_from_assistive_technology():
    """The chart is one image; its inner marks carry no roles to be read one by one."""
    chart = charts.bar_chart("By race", [("Black", Decimal("31.2"))], unit="percent")
    inner = chart.svg.split("</desc>", 1)[1]
    assert 'role="' not in inner
    assert "aria-label=" not in inner


def test_bar_chart_table_and_description():
    chart = charts.bar_chart(
        "Reading by race",
        [("Black", Decimal("31.2")), ("White", Decimal("52.94")), ("Asian", None)],
        unit="percent",
        label="Race and ethnicity",
        extra_columns=[("Reports", ["3", "4", "0"])],
    )
    assert chart.columns == ["Race and ethnicity", "Percent", "Reports"]
    assert chart.rows == [
        ["Black", "31.2%", "3"],
        ["White", "52.9%", "4"],
        ["Asian", "no data", "0"],
    ]
    assert chart.description == (
        "Bar chart of Reading by race for 2 groups: highest White (52.9%), "
        "lowest Black (31.2%); 1 without data."
    )
    assert [p["value"] for p in chart.spec["data"]["values"]] == [31.2, 52.94, None]
    assert parse(chart.svg).find(f"{SVG}title").text == "Reading by race"


def test_bars_of_withheld_figures_say_so():
    chart = charts.bar_chart(
        "Acceptance", [("A", Decimal(80)), ("B", None)], unit="percent", missing="not shown"
    )
    assert chart.rows == [["A", "80.0%"], ["B", "not shown"]]
    assert chart.description.endswith("; 1 not shown.")
    assert "not shown" in chart.svg and "no data" not in chart.svg


def test_two_charts_on_one_page_have_distinct_ids():
    one = charts.bar_chart("A", [("x", Decimal(1))], unit="count")
    two = charts.bar_chart("B", [("x", Decimal(2))], unit="count")
    ids = re.findall(r'id="([^"]+)"', one.svg + two.svg)
    assert len(ids) == 4 and len(set(ids)) == 4


def test_rendered_svg_is_cached_by_spec(monkeypatch):
    calls = []
    real = charts.vl_convert.vegalite_to_svg

    def counting(spec):
        calls.append(1)
        return real(spec)

    monkeypatch.setattr(charts.vl_convert, "vegalite_to_svg", counting)
    first = charts.bar_chart("Cached", [("x", Decimal(7))], unit="count")
    second = charts.bar_chart("Cached", [("x", Decimal(7))], unit="count")
    assert first.svg == second.svg
    assert len(calls) == 1
    charts.bar_chart("Cached", [("x", Decimal(8))], unit="count")
    assert len(calls) == 2


def test_chart_png_is_a_png_image():
    chart = charts.trend_chart("Reading", school_years("40", "42"), unit="percent")
    png = charts.chart_png(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    assert width > 600  # drawn at twice the size for print


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (Decimal("42.449"), "percent", "42.4%"),
        (Decimal("42.45"), "percent", "42.5%"),
        (Decimal("1204"), "count", "1,204"),
        (Decimal("1204.5"), "count", "1,204.5"),
        (Decimal("3400.4"), "currency", "$3,400"),
        (Decimal("12.34"), "rate", "12.3"),
        (None, "percent", "no data"),
    ],
)
def test_format_value(value, unit, text):
    assert charts.format_value(value, unit) == text


def test_sparkline_is_small_accessible_svg_with_gaps():
    svg = charts.sparkline_svg(
        [Decimal(1), Decimal(3), None, Decimal(2), Decimal(5)], label="Reading", unit="count"
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Reading: 1, 3, no data, 2, 5"
    lines = root.findall(f"{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    dot = root.find(f"{SVG}circle")
    assert float(dot.get("cx")) > 90 and float(dot.get("cy")) < 5  # the last, highest value


def test_sparkline_without_values_says_so():
    root = parse(charts.sparkline_svg([None, None], label="Reading"))
    assert root.find(f"{SVG}title").text == "Reading: no data"
    assert root.find(f"{SVG}polyline") is None
