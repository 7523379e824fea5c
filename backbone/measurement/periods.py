"""Reporting periods and their codes.

    2024        calendar year           2024-01-01 .. 2024-12-31
    2024-Q2     quarter                 2024-04-01 .. 2024-06-30
    2024-05     month                   2024-05-01 .. 2024-05-31
    SY2023-24   school year (July–June) 2023-07-01 .. 2024-06-30
    FY2024      fiscal year             named by the calendar year it ends in; with a
                                        July start, FY2024 is 2023-07-01 .. 2024-06-30

The fiscal year's start month belongs to the network (`Framework.fiscal_year_start_month`),
so every date function takes it; codes themselves do not depend on it.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

YEAR = "calendar_year"
QUARTER = "quarter"
MONTH = "month"
SCHOOL_YEAR = "school_year"
FISCAL_YEAR = "fiscal_year"
KINDS = (MONTH, QUARTER, SCHOOL_YEAR, YEAR, FISCAL_YEAR)
KIND_LABELS = {
    MONTH: "Month",
    QUARTER: "Quarter",
    SCHOOL_YEAR: "School year (July–June)",
    YEAR: "Calendar year",
    FISCAL_YEAR: "Fiscal year",
}
SCHOOL_YEAR_START_MONTH = 7
MIN_YEAR, MAX_YEAR = 1000, 9998

_PATTERNS = [
    (YEAR, re.compile(r"(\d{4})", re.ASCII)),
    (QUARTER, re.compile(r"(\d{4})-Q([1-4])", re.ASCII)),
    (MONTH, re.compile(r"(\d{4})-(\d{2})", re.ASCII)),
    (SCHOOL_YEAR, re.compile(r"SY(\d{4})-(\d{2})", re.ASCII)),
    (FISCAL_YEAR, re.compile(r"FY(\d{4})", re.ASCII)),
]
EXAMPLES = "2024, 2024-Q2, 2024-05, SY2023-24 or FY2024"


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period. `year` is the calendar year for years, quarters and months,
    the starting year for school years and the ending year for fiscal years."""

    kind: str
    year: int
    number: int = 0  # the quarter (1–4) or month (1–12); 0 otherwise

    @property
    def code(self) -> str:
        if self.kind == YEAR:
            return f"{self.year:04d}"
        if self.kind == QUARTER:
            return f"{self.year:04d}-Q{self.number}"
        if self.kind == MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind == SCHOOL_YEAR:
            return f"SY{self.year:04d}-{(self.year + 1) % 100:02d}"
        return f"FY{self.year:04d}"

    def __str__(self) -> str:
        return self.code

    def start(self, fiscal_year_start: int = 1) -> datetime.date:
        if self.kind == YEAR:
            return datetime.date(self.year, 1, 1)
        if self.kind == QUARTER:
            return datetime.date(self.year, 3 * self.number - 2, 1)
        if self.kind == MONTH:
            return datetime.date(self.year, self.number, 1)
        if self.kind == SCHOOL_YEAR:
            return datetime.date(self.year, SCHOOL_YEAR_START_MONTH, 1)
        _check_month(fiscal_year_start)
        if fiscal_year_start == 1:
            return datetime.date(self.year, 1, 1)
        return datetime.date(self.year - 1, fiscal_year_start, 1)

    def end(self, fiscal_year_start: int = 1) -> datetime.date:
        start = self.start(fiscal_year_start)
        length = {YEAR: 12, QUARTER: 3, MONTH: 1}.get(self.kind, 12)
        last = _add_months(start, length - 1)
        return last.replace(day=calendar.monthrange(last.year, last.month)[1])

    def months(self, fiscal_year_start: int = 1) -> list[Period]:
        """The months that make up this period, in order."""
        first = self.start(fiscal_year_start)
        count = {YEAR: 12, QUARTER: 3, MONTH: 1}.get(self.kind, 12)
        return [
            Period(MONTH, day.year, day.month)
            for day in (_add_months(first, n) for n in range(count))
        ]

    def contains(self, other: Period, fiscal_year_start: int = 1) -> bool:
        """Whether OTHER lies wholly inside this period (a month in its quarter, ...)."""
        return self.start(fiscal_year_start) <= other.start(fiscal_year_start) and other.end(
            fiscal_year_start
        ) <= self.end(fiscal_year_start)


def parse(code: str) -> Period:
    """The period a code names; PeriodError says what is wrong with a bad one."""
    if not isinstance(code, str):
        raise PeriodError(f"A period code must be text like {EXAMPLES}, not {code!r}.")
    text = code.strip()
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodError(f"{code!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}.")
        if kind == QUARTER:
            return Period(kind, year, int(match.group(2)))
        if kind == MONTH:
            month = int(match.group(2))
            if not 1 <= month <= 12:
                raise PeriodError(f"{code!r}: the month must be between 01 and 12.")
            return Period(kind, year, month)
        if kind == SCHOOL_YEAR:
            expected = (year + 1) % 100
            if int(match.group(2)) != expected:
                raise PeriodError(
                    f"{code!r}: a school year runs July to June of the next year, "
                    f"so it is written SY{year}-{expected:02d}."
                )
        return Period(kind, year)
    raise PeriodError(f"{code!r} is not a period code; use one like {EXAMPLES}.")


def format(period: Period) -> str:  # noqa: A001 - the inverse of parse
    return period.code


def validate_period_code(value: str) -> None:
    """A model field validator."""
    try:
        parse(value)
    except PeriodError as exc:
        raise ValidationError(str(exc), code="invalid_period") from exc


def _check_month(month: int) -> None:
    if not 1 <= month <= 12:
        raise PeriodError(f"The fiscal year must start in a month 1–12, not {month}.")


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)
