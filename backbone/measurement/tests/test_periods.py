import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backbone.measurement import periods
from backbone.measurement.periods import Period, PeriodError, parse

years = st.integers(min_value=periods.MIN_YEAR + 1, max_value=periods.MAX_YEAR - 1)
fiscal_starts = st.integers(min_value=1, max_value=12)
any_period = st.one_of(
    st.builds(Period, st.just(periods.YEAR), years),
    st.builds(Period, st.just(periods.QUARTER), years, st.integers(1, 4)),
    st.builds(Period, st.just(periods.MONTH), years, st.integers(1, 12)),
    st.builds(Period, st.just(periods.SCHOOL_YEAR), years),
    st.builds(Period, st.just(periods.FISCAL_YEAR), years),
)


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("2024", "2024-01-01", "2024-12-31"),
        ("2024-Q2", "2024-04-01", "2024-06-30"),
        ("2024-05", "2024-05-01", "2024-05-31"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("SY2023-24", "2023-07-01", "2024-06-30"),
        ("SY1999-00", "1999-07-01", "2000-06-30"),
        ("FY2024", "2023-07-01", "2024-06-30"),
    ],
)
def test_codes_name_their_dates(code, start, end):
    period = parse(code)
    assert period.start(fiscal_year_start=7).isoformat() == start
    assert period.end(fiscal_year_start=7).isoformat() == end


def test_fiscal_year_is_named_by_the_year_it_ends_in():
    assert parse("FY2024").start(fiscal_year_start=10) == datetime.date(2023, 10, 1)
    assert parse("FY2024").end(fiscal_year_start=10) == datetime.date(2024, 9, 30)
    assert parse("FY2024").start(fiscal_year_start=1) == datetime.date(2024, 1, 1)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("2024-13", "month must be between 01 and 12"),
        ("2024-Q5", "is not a period code"),
        ("SY2023-25", "written SY2023-24"),
        ("FY24", "is not a period code"),
        ("", "is not a period code"),
        ("0999", "year must be between"),
    ],
)
def test_bad_codes_say_what_is_wrong(code, message):
    with pytest.raises(PeriodError, match=message):
        parse(code)


def test_bad_fiscal_start_month_is_refused():
    with pytest.raises(PeriodError, match="month 1–12"):
        parse("FY2024").start(fiscal_year_start=13)


def test_containment():
    assert parse("2024-Q2").contains(parse("2024-05"))
    assert parse("2024").contains(parse("2024-Q2"))
    assert not parse("2024-Q2").contains(parse("2024-07"))
    assert parse("SY2023-24").contains(parse("2023-07"))
    assert parse("SY2023-24").contains(parse("2024-Q2"))
    assert not parse("SY2023-24").contains(parse("2024-Q3"))
    assert parse("FY2024").contains(parse("2023-10"), fiscal_year_start=10)
    assert not parse("2024").contains(parse("SY2023-24"))


@given(any_period)
def test_round_trip(period):
    assert parse(periods.format(period)) == period


@given(any_period, fiscal_starts)
def test_start_is_before_end(period, fiscal_start):
    assert period.start(fiscal_start) <= period.end(fiscal_start)


@given(any_period, fiscal_starts)
def test_months_partition_the_period(period, fiscal_start):
    months = period.months(fiscal_start)
    assert months[0].start() == period.start(fiscal_start)
    assert months[-1].end() == period.end(fiscal_start)
    for before, after in zip(months, months[1:], strict=False):
        assert before.end() + datetime.timedelta(days=1) == after.start()
    assert all(period.contains(month, fiscal_start) for month in months)


@given(years, st.integers(1, 12))
def test_a_month_is_in_its_quarter_and_year(year, month):
    inner = Period(periods.MONTH, year, month)
    quarter = Period(periods.QUARTER, year, (month - 1) // 3 + 1)
    assert quarter.contains(inner)
    assert Period(periods.YEAR, year).contains(quarter)
    school_year = Period(periods.SCHOOL_YEAR, year if month >= 7 else year - 1)
    assert school_year.contains(inner)


@given(st.text(max_size=12))
def test_any_text_parses_to_its_own_code_or_is_refused(text):
    try:
        period = parse(text)
    except PeriodError:
        return
    assert period.code == text.strip()
