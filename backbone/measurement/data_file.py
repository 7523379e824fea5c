"""The tidy interchange format of indicator data: one row per value.

    indicator, period, organization, area, <one column per dimension>, value,
    numerator, denominator, comment

`organization` is the organization's slug (blank for population data), `area` an area
code (blank for the whole network), a dimension column holds a category code (an area
code for a geography dimension; blank = total). Direct indicators take `value`, ratios
`numerator` and `denominator` (a `value` beside them must match). Every row is checked
before anything is written, and the whole file is written in one transaction; importing
the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from backbone.core.access import Access
from backbone.core.models import Area, Membership
from backbone.core.tabular import ImportResult, RowError, RowPlan, Table, run_import
from backbone.measurement import periods, services
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Framework,
    Indicator,
    Unit,
)

KEY_COLUMNS = ["indicator", "period", "organization", "area"]
VALUE_COLUMNS = ["value", "numerator", "denominator", "comment"]
PLACES = Decimal("0.0001")
THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
LIMIT = Decimal(10) ** 14
# Parts may differ from their total by rounding: 0.5% of the total or one unit.
SUM_SHARE, SUM_UNITS = Decimal("0.005"), Decimal(1)
# A value is an outlier when it is further from the median of its history than both
# 3 median absolute deviations (with 3+ earlier values) and half the median.
OUTLIER_MADS, OUTLIER_SHARE, OUTLIER_MIN_HISTORY = 3, Decimal("0.5"), 3


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
    existing: DataValue | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    indicator: Indicator
    period: str
    organization_id: int | None
    area_id: int | None
    categories: dict[str, str]
    amounts: dict[str, Decimal | None]


class _Lookups:
    """Everything a file may name, read once per import through the access's scope."""

    def __init__(self, access: Access):
        self.access = access
        framework = access.scope(Framework).first()
        self.fiscal_start = framework.fiscal_year_start_month if framework else 7
        self.indicators = {
            i.code: i for i in access.scope(Indicator).prefetch_related("dimensions")
        }
        self.dimensions = {d.code: d for d in access.scope(Dimension)}
        self.categories: dict[int, set[str]] = {}
        for dimension_id, code in access.scope(Category).values_list("dimension_id", "code"):
            self.categories.setdefault(dimension_id, set()).add(code)
        self.areas = {a.code: a for a in access.scope(Area)}
        self.levels: dict[int, set[str]] = {}
        self.organizations = {
            m.organization.slug: m.organization
            for m in access.scope(Membership).select_related("organization")
        }

    def dimension_codes(self, dimension: Dimension) -> set[str]:
        """Every category of DIMENSION; for geography, the areas at its level."""
        if dimension.kind != Dimension.Kind.GEOGRAPHY:
            return self.categories.get(dimension.pk, set())
        if dimension.pk not in self.levels:
            self.levels[dimension.pk] = {
                code
                for code, area in self.areas.items()
                if not dimension.area_kind or area.kind == dimension.area_kind
            }
        return self.levels[dimension.pk]


def data_columns(access: Access) -> list[str]:
    dimensions = access.scope(Dimension).order_by("position", "code").values_list("code", flat=True)
    return [*KEY_COLUMNS, *dimensions, *VALUE_COLUMNS]


def _number(text: str, column: str, row: int, errors: list[RowError]) -> Decimal | None:
    if not text:
        return None
    try:
        number = Decimal(text.replace(",", "") if THOUSANDS.fullmatch(text) else text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        errors.append(RowError(row, column, text, "This is not a number."))
        return None
    if abs(number) >= LIMIT:
        errors.append(RowError(row, column, text, "This number is too large."))
        return None
    return number


def _check_amounts(indicator: Indicator, values: dict, row: int, errors: list[RowError]):
    """The value, numerator and denominator of a row per the indicator's formula, unit and
    range; None when they are wrong (and ERRORS says why)."""
    given = {name: _number(values.get(name, ""), name, row, errors) for name in VALUE_COLUMNS[:3]}
    if any(values.get(name) and given[name] is None for name in given):
        return None
    value, numerator, denominator = given["value"], given["numerator"], given["denominator"]
    count = len(errors)

    def error(column: str, message: str) -> None:
        errors.append(RowError(row, column, values.get(column, ""), message))

    if indicator.formula == Indicator.Formula.RATIO:
        for name, amount in (("numerator", numerator), ("denominator", denominator)):
            if amount is None:
                error(name, f"{indicator.code} is a ratio: give its numerator and denominator.")
            elif amount < 0:
                error(name, "This cannot be negative.")
        if len(errors) > count:
            return None
        if denominator == 0:
            error("denominator", "The denominator cannot be 0.")
            return None
        if indicator.unit == Unit.PERCENT and numerator > denominator:
            error(
                "numerator",
                f"The numerator ({number_text(numerator)}) is larger than the denominator "
                f"({number_text(denominator)}); a percent cannot exceed 100.",
            )
            return None
        scale = {Unit.PERCENT: 100, Unit.RATE: indicator.rate_per or 1}.get(indicator.unit, 1)
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
                )
                return None
        value = computed
    else:
        if numerator is not None or denominator is not None:
            column = "numerator" if numerator is not None else "denominator"
            error(column, f"{indicator.code} takes a direct value, not a numerator/denominator.")
        if value is None:
            error("value", "The value is missing.")
        if len(errors) > count:
            return None
        if indicator.unit == Unit.PERCENT and not 0 <= value <= 100:
            error("value", "A percent must be between 0 and 100.")
        elif indicator.unit == Unit.COUNT and (value < 0 or value != value.to_integral_value()):
            error("value", "A count must be a whole number, 0 or more.")
        elif indicator.unit in (Unit.RATE, Unit.CURRENCY) and value < 0:
            error("value", "This cannot be negative.")
        if len(errors) > count:
            return None
    return {
        "value": value.quantize(PLACES),
        "numerator": None if numerator is None else numerator.quantize(PLACES),
        "denominator": None if denominator is None else denominator.quantize(PLACES),
    }


def _changes(existing: DataValue, fields: dict) -> list[tuple[str, str, str]]:
    changes = []
    for name in VALUE_COLUMNS:
        before, after = getattr(existing, name), fields[name]
        if before != after:
            if name != "comment":
                before, after = number_text(before), number_text(after)
            changes.append((name, before, after))
    return changes


def data_import(
    *,
    access: Access,
    data: bytes,
    filename: str,
    commit: bool,
    via: str = "import",
    reason: str = "",
) -> ImportResult:
    """Create or update data values from a tidy CSV/XLSX file, all or nothing. A row that
    changes an approved value is an error unless REASON (a correction) is given by a
    network admin."""
    columns = data_columns(access)

    def plan(table: Table):
        return _plan(access, table, reason)

    def apply(plans: list[ValuePlan]) -> None:
        for item in plans:
            if item.action == RowPlan.CREATE:
                services.data_value_create(access=access, fields=item.fields, via=via)
            elif item.action == RowPlan.UPDATE:
                values = {name: item.fields[name] for name in VALUE_COLUMNS}
                services.data_value_update(
                    access=access, value=item.existing, fields=values, reason=reason, via=via
                )

    return run_import(
        data=data,
        filename=filename,
        columns=columns,
        required=["indicator", "period"],
        plan=plan,
        apply=apply,
        commit=commit,
    )


def _plan(access: Access, table: Table, reason: str):
    lookups = _Lookups(access)
    dimension_columns = [c for c in table.columns if c in lookups.dimensions]
    if not any(c in table.columns for c in ("value", "numerator")):
        error = RowError(1, "value", "", "Give a value column, or numerator and denominator.")
        return [], [error]
    existing = {}
    history: dict[tuple, list[tuple[str, str, Decimal]]] = {}
    named = {values["indicator"] for _, values in table.rows}
    for v in access.scope(DataValue).filter(indicator__code__in=named):
        existing[(v.indicator_id, v.period, v.organization_id, v.area_id, v.disaggregation)] = v
        series = (v.indicator_id, v.organization_id, v.area_id, v.disaggregation)
        history.setdefault(series, []).append((periods.parse(v.period).kind, v.period, v.value))
    plans: list[ValuePlan] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    rows: list[_Row] = []
    for number, values in table.rows:
        count = len(errors)

        def error(column: str, message: str, number=number, values=values) -> None:
            errors.append(RowError(number, column, values.get(column, ""), message))

        indicator = lookups.indicators.get(values["indicator"])
        if not values["indicator"]:
            error("indicator", "The indicator is missing.")
        elif indicator is None:
            error("indicator", f"No indicator has the code “{values['indicator']}”.")
        period = None
        try:
            period = periods.parse(values["period"])
        except periods.PeriodError as exc:
            error("period", str(exc) if values["period"] else "The period is missing.")
        organization = None
        slug = values.get("organization", "")
        if slug:
            organization = lookups.organizations.get(slug)
            if organization is None:
                error("organization", f"No organization of this network has the code “{slug}”.")
        if not access.is_admin and (
            not slug or (organization and organization.pk != access.organization_id)
        ):
            error("organization", "You may report only your own organization's data.")
        area = None
        if values.get("area"):
            area = lookups.areas.get(values["area"])
            if area is None:
                error("area", f"No area of this network has the code “{values['area']}”.")
        categories = {}
        allowed = {d.code for d in indicator.dimensions.all()} if indicator else set()
        for column in dimension_columns:
            code = values[column]
            if not code:
                continue
            dimension = lookups.dimensions[column]
            if indicator and column not in allowed:
                error(column, f"{indicator.code} is not broken down by {dimension.name}.")
            elif code not in lookups.dimension_codes(dimension):
                what = "area" if dimension.kind == Dimension.Kind.GEOGRAPHY else "category"
                error(column, f"{dimension.name} has no {what} “{code}”.")
            else:
                categories[column] = code
        amounts = _check_amounts(indicator, values, number, errors) if indicator else None
        if len(errors) > count or amounts is None:
            continue
        key_text = disaggregation_key(categories)
        key = (
            indicator.pk,
            period.code,
            getattr(organization, "pk", None),
            getattr(area, "pk", None),
            key_text,
        )
        if key in seen:
            error("indicator", f"Row {seen[key]} already gives this value.")
            continue
        seen[key] = number
        fields = {**amounts, "comment": values.get("comment", "")}
        rows.append(_Row(number, indicator, period.code, key[2], key[3], categories, amounts))
        label = " ".join(
            part
            for part in (indicator.code, period.code, slug, values.get("area", ""), key_text)
            if part
        )
        item = ValuePlan(row=number, label=label)
        current = existing.get(key)
        if current is None:
            item.action = RowPlan.CREATE
            item.fields = {
                "indicator": indicator,
                "period": period.code,
                "period_start": period.start(lookups.fiscal_start),
                "period_end": period.end(lookups.fiscal_start),
                "organization": organization,
                "area": area,
                "disaggregation": key_text,
                "categories": categories,
                **fields,
            }
        else:
            item.existing, item.fields = current, fields
            item.changes = _changes(current, fields)
            if item.changes:
                item.action = RowPlan.UPDATE
                _check_change(access, current, reason, number, errors)
        if item.action != RowPlan.UNCHANGED:
            series = history.get((key[0], key[2], key[3], key[4]), [])
            earlier = [v for kind, code, v in series if kind == period.kind and code != period.code]
            warning = _outlier(amounts["value"], earlier)
            if warning and not fields["comment"]:
                error("comment", f"{warning} Check it, and explain it in the comment column.")
            elif warning:
                item.warnings.append(warning)
        plans.append(item)
    errors.extend(_check_sums(rows, lookups))
    errors.sort(key=lambda e: (e.row, e.column))
    return plans, errors


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


def _check_change(access, current: DataValue, reason: str, row: int, errors: list[RowError]):
    if current.status != DataValue.Status.APPROVED:
        if not access.can("change", current):
            errors.append(RowError(row, "value", "", "Your role may not change this value."))
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
    errors.append(RowError(row, "value", number_text(current.value), message))


def _check_sums(rows: list[_Row], lookups: _Lookups) -> list[RowError]:
    """Where a file has a total and every category of one dimension, the parts must add
    up to the total (within rounding)."""
    totals: dict[tuple, _Row] = {}
    parts: dict[tuple, dict[str, _Row]] = {}
    for row in rows:
        place = (row.indicator.pk, row.period, row.organization_id, row.area_id)
        if not row.categories:
            totals[place] = row
        elif len(row.categories) == 1:
            ((dimension, code),) = row.categories.items()
            parts.setdefault((*place, dimension), {})[code] = row
    errors = []
    for place, total in totals.items():
        indicator = total.indicator
        if indicator.formula == Indicator.Formula.RATIO:
            names = ["numerator", "denominator"]
        elif indicator.aggregation == Indicator.Aggregation.SUM:
            names = ["value"]
        else:
            continue
        for dimension in indicator.dimensions.all():
            found = parts.get((*place, dimension.code), {})
            expected = lookups.dimension_codes(dimension)
            if not expected or set(found) != expected:
                continue
            for name in names:
                whole = total.amounts[name]
                added = sum((part.amounts[name] for part in found.values()), Decimal(0))
                if abs(added - whole) > max(abs(whole) * SUM_SHARE, SUM_UNITS):
                    first, last = (
                        min(r.number for r in found.values()),
                        max(r.number for r in found.values()),
                    )
                    errors.append(
                        RowError(
                            total.number,
                            name,
                            number_text(whole),
                            f"The {dimension.name} rows ({first}–{last}) add up to "
                            f"{number_text(added)}, not to this total.",
                        )
                    )
    return errors


def data_export(
    *, access: Access, indicator: Indicator | None = None, filename: str = "data.csv"
) -> bytes:
    """The data values this access may see, in the tidy format (CSV, or XLSX by FILENAME)."""
    values = access.scope(DataValue).select_related("indicator", "organization", "area")
    if indicator is not None:
        values = values.filter(indicator=indicator)
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
        "period_start",
        "period",
        "organization__slug",
        "area__code",
        "disaggregation",
    ):
        records.append(
            [
                value.indicator.code,
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
