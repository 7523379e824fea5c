"""Open data: the released figures as one tidy CSV and a Frictionless Data Package
(https://specs.frictionlessdata.io/): datapackage.json describing the CSV as a
tabular-data-resource with a Table Schema, its license and sources."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

from django.utils import timezone

from backbone.insights.suppression import (
    BUILT_ON_SUPPRESSED,
    COMPLEMENTARY,
    FEWER_THAN_K,
    NOT_PUBLISHED,
)

CSV_NAME = "values.csv"
LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
REASONS = [FEWER_THAN_K, COMPLEMENTARY, BUILT_ON_SUPPRESSED, NOT_PUBLISHED]

# (name, Table Schema type, description, constraints)
FIELDS = [
    ("indicator", "string", "The indicator's code.", {"required": True}),
    ("indicator_name", "string", "The indicator's name.", {"required": True}),
    ("result", "string", "The result (condition of well-being) it measures.", {}),
    (
        "unit",
        "string",
        "count, percent, rate (per rate_per), currency (dollars) or score.",
        {"required": True, "enum": ["count", "percent", "rate", "currency", "score"]},
    ),
    ("rate_per", "integer", "For rates: per how many people.", {}),
    (
        "period",
        "string",
        "The period: 2024 (calendar year), 2024-Q2, 2024-05, SY2023-24 (school year, "
        "July to June) or FY2024 (fiscal year, named by the year it ends in).",
        {"required": True},
    ),
    ("period_start", "date", "The first day of the period.", {}),
    ("period_end", "date", "The last day of the period.", {}),
    (
        "breakdown",
        "string",
        "total (the whole network), group (one category of a dimension) or area.",
        {"required": True, "enum": ["total", "group", "area"]},
    ),
    ("dimension", "string", "For groups: the dimension's code (e.g. race-ethnicity).", {}),
    ("group", "string", "For groups: the category's code; for areas: the area's code.", {}),
    ("group_name", "string", "The category's or the area's name.", {}),
    (
        "value",
        "number",
        "The figure; blank when suppressed (see the suppressed column).",
        {},
    ),
    ("numerator", "number", "For ratios: the count on top; blank when suppressed.", {}),
    ("denominator", "number", "For ratios: the population counted; blank when suppressed.", {}),
    (
        "suppressed",
        "string",
        "Why the value is withheld, blank when it is released: 'fewer than k' (a count, "
        "or a rate's numerator, from 1 to k-1, or a rate's denominator below k), "
        "'complementary' (withheld so that another suppressed figure cannot be worked out "
        "by subtraction), 'built on a suppressed count', 'not published' (a ratio "
        "reported without its counts).",
        {"enum": REASONS},
    ),
]
COLUMNS = [name for name, *_ in FIELDS]


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text


def records(released: list) -> list[dict[str, str]]:
    """One dict per released row, in COLUMNS order; rows with no data are left out."""
    out = []
    for item in released:
        indicator = item.indicator
        for row in item.rows:
            figure = row.figure
            if figure.value is None and not figure.suppressed:
                continue
            if row.dimension is not None:
                breakdown, dimension = "group", row.dimension.code
            else:
                breakdown, dimension = ("area" if row.is_area else "total"), ""
            out.append(
                {
                    "indicator": indicator.code,
                    "indicator_name": indicator.name,
                    "result": indicator.result.name,
                    "unit": indicator.unit,
                    "rate_per": str(indicator.rate_per or ""),
                    "period": row.period,
                    "period_start": row.period_start.isoformat() if row.period_start else "",
                    "period_end": row.period_end.isoformat() if row.period_end else "",
                    "breakdown": breakdown,
                    "dimension": dimension,
                    "group": row.category.code if row.category is not None else "",
                    "group_name": row.category.name if row.category is not None else "",
                    "value": _number(figure.value),
                    "numerator": _number(figure.numerator),
                    "denominator": _number(figure.denominator),
                    "suppressed": figure.reason or "",
                }
            )
    return out


def values_csv(released: list) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records(released))
    return buffer.getvalue()


def descriptor(*, network, k: int, released: list, homepage: str, method_url: str) -> dict:
    """The datapackage.json of the network's open data."""
    sources = [{"title": f"{network.name}: approved, population-level data", "path": homepage}]
    for item in released:
        if item.indicator.data_source:
            sources.append({"title": f"{item.indicator.code}: {item.indicator.data_source}"})
    fields = []
    for name, kind, description, constraints in FIELDS:
        entry = {"name": name, "type": kind, "description": description}
        if kind == "date":
            entry["format"] = "default"
        if constraints:
            entry["constraints"] = constraints
        fields.append(entry)
    return {
        "profile": "tabular-data-package",
        "name": f"{network.slug}-report-card",
        "title": f"{network.name}: report card open data",
        "description": (
            f"The public indicators of {network.name}, from approved population-level data. "
            f"Small cells are suppressed with k = {k}: no count, numerator or denominator "
            f"from 1 to {k - 1} is released, nor any figure from which one could be worked "
            f"out. Method: {method_url}"
        ),
        "homepage": homepage,
        "created": timezone.now().replace(microsecond=0).isoformat(),
        "keywords": ["collective impact", "indicators", "report card"],
        "licenses": [LICENSE],
        "sources": sources,
        "resources": [
            {
                "name": "values",
                "path": CSV_NAME,
                "profile": "tabular-data-resource",
                "title": "Released indicator values",
                "description": "One row per indicator, period and total, group or area.",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "header": True},
                "schema": {"fields": fields, "missingValues": [""]},
            }
        ],
    }


def package_zip(descriptor_data: dict, csv_text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", json.dumps(descriptor_data, indent=2))
        archive.writestr(CSV_NAME, csv_text)
    return buffer.getvalue()
