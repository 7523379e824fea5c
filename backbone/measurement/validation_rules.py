"""A network's own checks on reported data (`ValidationRule`): LEFT OPERATOR RIGHT.

Each side is a sum or difference of terms: an indicator or measure code, optionally with
categories in brackets (`enrolled[gender=female]`), or a number. Terms are separated by
` + ` or ` - ` with spaces, because codes contain hyphens:

    grade3-proficient <= grade3-tested
    enrolled[gender=female] + enrolled[gender=male] <= enrolled
    tutoring-hours >= 10 * 0 + 1          (numbers are terms too; no other arithmetic)

A rule is evaluated for every place (period, organization, area, disaggregation) where a
row of the file gives one of its terms; each term takes the file's value there or, if the
file has none, the stored one. A place where a term has no value at all is skipped. An
error rule blocks the import; a warning rule needs a comment on the reported row.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from backbone.core.access import Access
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Indicator,
    PerformanceMeasure,
    ValidationRule,
)

SEPARATOR = re.compile(r"\s+([+-])\s+")
TERM = re.compile(r"([a-z0-9][a-z0-9_-]*)(?:\[([^\]]*)\])?")
OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}


class RuleSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    sign: int
    code: str = ""  # an indicator or measure code; "" for a number
    categories: tuple[tuple[str, str], ...] = ()
    number: Decimal | None = None


def parse_side(text: str) -> list[Term]:
    """The terms of one side; RuleSyntaxError says what is wrong."""
    text = " ".join(text.split())
    if not text:
        raise RuleSyntaxError("This side is empty.")
    signed = f" {text}" if text[:2] in ("+ ", "- ") else f" + {text}"
    parts = SEPARATOR.split(signed)  # ["", sign, term, sign, term, ...]
    terms = []
    if parts[0].strip() or any(not item.strip() for item in parts[2::2]):
        raise RuleSyntaxError(f"Cannot read “{text}”.")
    for sign, item in zip(parts[1::2], parts[2::2], strict=True):
        item = item.strip()
        factor = -1 if sign == "-" else 1
        try:
            terms.append(Term(factor, number=Decimal(item)))
            continue
        except InvalidOperation:
            pass
        match = TERM.fullmatch(item)
        if not match:
            raise RuleSyntaxError(
                f"“{item}” is neither a code nor a number; separate terms with “ + ” or "
                "“ - ” (spaces around)."
            )
        categories = []
        for pair in filter(None, (p.strip() for p in (match.group(2) or "").split(","))):
            dimension, _, category = pair.partition("=")
            if not dimension.strip() or not category.strip():
                raise RuleSyntaxError(f"Write categories as [dimension=category], not [{pair}].")
            categories.append((dimension.strip(), category.strip()))
        terms.append(Term(factor, match.group(1), tuple(sorted(categories))))
    return terms


def check_definition(access: Access, left: str, right: str) -> dict[str, str]:
    """Problems with a rule's sides, by field: syntax, unknown codes and categories."""
    problems = {}
    codes = set(access.scope(Indicator).values_list("code", flat=True))
    codes |= set(access.scope(PerformanceMeasure).values_list("code", flat=True))
    dimensions = {d.code: d for d in access.scope(Dimension)}
    categories = set(access.scope(Category).values_list("dimension__code", "code"))
    for name, text in (("left", left), ("right", right)):
        try:
            terms = parse_side(text)
        except RuleSyntaxError as exc:
            problems[name] = str(exc)
            continue
        for term in terms:
            if term.code and term.code not in codes:
                problems[name] = f"No indicator or measure has the code “{term.code}”."
            for dimension, category in term.categories:
                if dimension not in dimensions:
                    problems[name] = f"No dimension has the code “{dimension}”."
                elif (
                    dimensions[dimension].kind != Dimension.Kind.GEOGRAPHY
                    and (dimension, category) not in categories
                ):
                    problems[name] = f"{dimensions[dimension].name} has no category “{category}”."
        if name not in problems and not any(term.code for term in terms) and name == "left":
            problems[name] = "Name at least one indicator or measure."
    return problems


@dataclass
class Outcome:
    row: int
    error: object  # a data_file.DataError
    blocks: bool


def _key(categories: dict[str, str]) -> str:
    return ";".join(f"{d}={c}" for d, c in sorted(categories.items()))


def _total(terms: list[Term], values: dict, place: tuple, categories: dict):
    """The side's sum at PLACE, the file rows it used, or None when a term has no value."""
    total, used = Decimal(0), []
    for term in terms:
        if not term.code:
            total += term.sign * term.number
            continue
        key = _key({**categories, **dict(term.categories)})
        found = values.get((term.code, *place, key))
        if found is None:
            return None, used
        amount, row = found
        total += term.sign * amount
        if row:
            used.append(row)
    return total, used


def check(access: Access, rows: list, lookups) -> list[Outcome]:
    """Evaluate the network's active rules over the file's ROWS (data_file._Row) and the
    stored values of the same places."""
    from backbone.measurement.data_file import DataError, number_text

    rules = []
    for rule in access.scope(ValidationRule).filter(is_active=True):
        try:
            rules.append((rule, parse_side(rule.left), parse_side(rule.right)))
        except RuleSyntaxError:
            continue  # saved rules are checked on save; one broken later is skipped
    if not rules or not rows:
        return []
    wanted = {t.code for _, left, right in rules for t in (*left, *right) if t.code}
    relevant = [row for row in rows if row.subject.code in wanted]
    if not relevant:
        return []
    values: dict[tuple, tuple[Decimal, object]] = {}
    places = {(r.period, r.organization_id, r.area_id) for r in relevant}
    period_codes = {p[0] for p in places}
    stored = (
        access.scope(DataValue)
        .filter(period__in=period_codes)
        .filter(indicator__code__in=wanted)
        .values_list(
            "indicator__code", "period", "organization_id", "area_id", "disaggregation", "value"
        )
    )
    stored_measures = (
        access.scope(DataValue)
        .filter(period__in=period_codes, measure__code__in=wanted)
        .values_list(
            "measure__code", "period", "organization_id", "area_id", "disaggregation", "value"
        )
    )
    for code, period, organization_id, area_id, key, value in [*stored, *stored_measures]:
        if (period, organization_id, area_id) in places:
            values[(code, period, organization_id, area_id, key)] = (value, None)
    for row in relevant:
        key = _key(row.categories)
        values[(row.subject.code, row.period, row.organization_id, row.area_id, key)] = (
            row.amounts["value"],
            row,
        )
    outcomes = []
    for rule, left, right in rules:
        codes = {t.code for t in (*left, *right) if t.code}
        done = set()
        for row in relevant:
            if row.subject.code not in codes:
                continue
            place = (row.period, row.organization_id, row.area_id)
            # The row's categories minus those a term names itself: the base of the place.
            named = {d for t in (*left, *right) for d, _ in t.categories}
            base = {d: c for d, c in row.categories.items() if d not in named}
            marker = (place, _key(base))
            if marker in done:
                continue
            done.add(marker)
            left_total, left_rows = _total(left, values, place, base)
            right_total, right_rows = _total(right, values, place, base)
            if left_total is None or right_total is None:
                continue
            if OPERATORS[rule.operator](left_total, right_total):
                continue
            used = [*left_rows, *right_rows]
            if not used:
                continue
            target = used[0]
            message = (
                f"Rule {rule.code}: {rule.left} is {number_text(left_total)}, which must be "
                f"{rule.get_operator_display()} {rule.right} ({number_text(right_total)})."
            )
            if rule.message:
                message += f" {rule.message}"
            blocks = rule.severity == ValidationRule.Severity.ERROR
            column = "value"
            if not blocks and not target.comment:
                blocks, column = True, "comment"
                message += " Explain it in the comment column."
            error = DataError(
                target.number,
                column,
                number_text(target.amounts["value"]) if column == "value" else "",
                message,
                rule=rule.code,
            )
            outcomes.append(Outcome(target.number, error, blocks))
    return outcomes
