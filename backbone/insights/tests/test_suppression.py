"""Small-cell suppression: no released count from 1 to k−1, nothing recoverable by
subtraction, rates on suppressed counts withheld, and the same answer every time."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backbone.insights.suppression import (
    BUILT_ON_SUPPRESSED,
    COMPLEMENTARY,
    FEWER_THAN_K,
    NOT_PUBLISHED,
    Table,
    suppress,
)

# Counts: many small ones (the cells at risk), some zeros, some large.
counts = st.one_of(
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=1, max_value=25),
    st.integers(min_value=20, max_value=500),
)
ks = st.integers(min_value=2, max_value=20)


def one_way(values, total_key="total", prefix="part"):
    table = Table()
    table.add_count(total_key, sum(values))
    parts = [table.add_count(f"{prefix}{i}", v) for i, v in enumerate(values)]
    table.add_relation(total_key, parts)
    return table


def two_way(grid):
    """A rows × columns table with its row, column and grand totals."""
    table = Table()
    rows, cols = len(grid), len(grid[0])
    for r in range(rows):
        for c in range(cols):
            table.add_count(("cell", r, c), grid[r][c])
    for r in range(rows):
        table.add_count(("row", r), sum(grid[r]))
        table.add_relation(("row", r), [("cell", r, c) for c in range(cols)])
    for c in range(cols):
        table.add_count(("col", c), sum(grid[r][c] for r in range(rows)))
        table.add_relation(("col", c), [("cell", r, c) for r in range(rows)])
    table.add_count("grand", sum(map(sum, grid)))
    table.add_relation("grand", [("row", r) for r in range(rows)])
    table.add_relation("grand", [("col", c) for c in range(cols)])
    return table


def hierarchy(groups):
    """Areas: a network total, counties as its parts, cities as each county's parts."""
    table = Table()
    table.add_count("network", sum(map(sum, groups)))
    counties = []
    for g, cities in enumerate(groups):
        county = table.add_count(("county", g), sum(cities))
        counties.append(county)
        parts = [table.add_count(("city", g, i), v) for i, v in enumerate(cities)]
        table.add_relation(county, parts)
    table.add_relation("network", counties)
    return table


def released(table, result):
    return {key: v for key, v in table.counts.items() if not result.is_suppressed(key)}


def assert_no_small_cell_released(table, result, k):
    for key, value in released(table, result).items():
        assert not (0 < value < k), f"{key} = {value} released with k = {k}"


def assert_every_relation_has_zero_or_two_withheld(table, result):
    for total, parts in table.relations:
        withheld = [key for key in (total, *parts) if result.is_suppressed(key)]
        assert len(withheld) != 1, f"{withheld[0]} recoverable from {total} = sum{parts}"


def rank(matrix: list[list[Fraction]]) -> int:
    """Rank by Gaussian elimination on a dense copy (independent of the module's sparse
    reduced-row-echelon code)."""
    m = [row[:] for row in matrix]
    rank_, cols = 0, len(m[0]) if m else 0
    for col in range(cols):
        pivot = next((r for r in range(rank_, len(m)) if m[r][col] != 0), None)
        if pivot is None:
            continue
        m[rank_], m[pivot] = m[pivot], m[rank_]
        for r in range(len(m)):
            if r != rank_ and m[r][col] != 0:
                factor = m[r][col] / m[rank_][col]
                m[r] = [a - factor * b for a, b in zip(m[r], m[rank_], strict=True)]
        rank_ += 1
    return rank_


def assert_nothing_recoverable(table, result):
    """Substitute the released cells into every relation; a withheld cell is recoverable
    exactly when its unit vector lies in the row space of what is left (adding it does
    not raise the rank)."""
    unknown = [key for key in table.counts if result.is_suppressed(key)]
    index = {key: i for i, key in enumerate(unknown)}
    matrix = []
    for total, parts in table.relations:
        row = [Fraction(0)] * len(unknown)
        for key, sign in ((total, -1), *((p, 1) for p in parts)):
            if key in index:
                row[index[key]] += sign
        matrix.append(row)
    if not unknown:
        return
    base = rank(matrix)
    for key, i in index.items():
        if key in table.hidden and not (0 < table.counts[key] < result.k):
            continue  # a large unpublished remainder may be worked out; it is no small cell
        unit = [Fraction(int(j == i)) for j in range(len(unknown))]
        assert rank([*matrix, unit]) > base, f"{key} can be worked out from the released cells"


@settings(max_examples=300, deadline=None)
@given(values=st.lists(counts, min_size=1, max_size=8), k=ks)
def test_one_way_tables_release_no_small_or_recoverable_cell(values, k):
    table = one_way(values)
    result = suppress(table, k)
    assert_no_small_cell_released(table, result, k)
    assert_every_relation_has_zero_or_two_withheld(table, result)
    assert_nothing_recoverable(table, result)
    assert suppress(table, k) == result


@settings(max_examples=300, deadline=None)
@given(
    grid=st.integers(min_value=1, max_value=5).flatmap(
        lambda cols: st.lists(
            st.lists(counts, min_size=cols, max_size=cols), min_size=1, max_size=5
        )
    ),
    k=ks,
)
def test_two_way_tables_release_no_small_or_recoverable_cell(grid, k):
    table = two_way(grid)
    result = suppress(table, k)
    assert_no_small_cell_released(table, result, k)
    assert_every_relation_has_zero_or_two_withheld(table, result)
    assert_nothing_recoverable(table, result)
    assert suppress(table, k) == result


@settings(max_examples=200, deadline=None)
@given(
    groups=st.lists(st.lists(counts, min_size=1, max_size=4), min_size=1, max_size=4),
    k=ks,
)
def test_area_hierarchies_release_no_small_or_recoverable_cell(groups, k):
    table = hierarchy(groups)
    result = suppress(table, k)
    assert_no_small_cell_released(table, result, k)
    assert_every_relation_has_zero_or_two_withheld(table, result)
    assert_nothing_recoverable(table, result)


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(counts, counts).map(lambda p: (min(p), max(p))), min_size=1, max_size=6
    ),
    k=ks,
)
def test_rates_are_withheld_when_their_terms_are(pairs, k):
    table = Table()
    table.add_count(("num", "total"), sum(n for n, _ in pairs))
    table.add_count(("den", "total"), sum(d for _, d in pairs))
    for i, (n, d) in enumerate(pairs):
        table.add_count(("num", i), n)
        table.add_count(("den", i), d)
    table.add_relation(("num", "total"), [("num", i) for i in range(len(pairs))])
    table.add_relation(("den", "total"), [("den", i) for i in range(len(pairs))])
    for key in ["total", *range(len(pairs))]:
        table.add_rate(("rate", key), ("num", key), ("den", key))
    result = suppress(table, k)
    assert_no_small_cell_released(table, result, k)
    assert_nothing_recoverable(table, result)
    for key, (num, den) in table.rates.items():
        if result.is_suppressed(key):
            continue
        assert not result.is_suppressed(num) and not result.is_suppressed(den)
        assert table.counts[den] >= k
        assert table.counts[num] == 0 or table.counts[num] >= k


def assert_known_cells_released_and_nothing_else_small(table, result, k):
    for key in table.known:
        assert not result.is_suppressed(key), f"{key} is the reader's own and was withheld"
    for key, value in released(table, result).items():
        if key not in table.known:
            assert not (0 < value < k), f"{key} = {value} released with k = {k}"


@settings(max_examples=300, deadline=None)
@given(
    grid=st.integers(min_value=1, max_value=5).flatmap(
        lambda cols: st.lists(
            st.lists(counts, min_size=cols, max_size=cols), min_size=2, max_size=5
        )
    ),
    own=st.integers(min_value=0, max_value=4),
    k=ks,
)
def test_the_readers_own_row_is_shown_and_still_protects_the_others(grid, own, k):
    """A partner sees its own row of a two-way table as it is. Everything else is
    protected against a reader who knows that row: the recoverability check treats the
    known cells as released, so subtracting them recovers no withheld cell."""
    own %= len(grid)
    table = Table()
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            table.add_count(("cell", r, c), value, known=r == own)
        table.add_count(("row", r), sum(row), known=r == own)
        table.add_relation(("row", r), [("cell", r, c) for c in range(len(row))])
    for c in range(len(grid[0])):
        table.add_count(("col", c), sum(row[c] for row in grid))
        table.add_relation(("col", c), [("cell", r, c) for r in range(len(grid))])
    result = suppress(table, k)
    assert_known_cells_released_and_nothing_else_small(table, result, k)
    assert_nothing_recoverable(table, result)
    assert suppress(table, k) == result


def test_a_known_small_part_does_not_shield_another_small_part():
    """Own 3 and another's 4 of a total 60: without `known` the two withheld cells shield
    each other, but the reader knows its 3 and would get the 4 back by subtraction."""
    table = Table()
    table.add_count("total", 60)
    table.add_count("own", 3, known=True)
    table.add_count("other", 4)
    table.add_count("third", 53)
    table.add_relation("total", ["own", "other", "third"])
    result = suppress(table, 11)
    assert not result.is_suppressed("own")
    assert result.reasons == {"other": FEWER_THAN_K, "third": COMPLEMENTARY}


def test_a_rate_on_the_readers_own_small_counts_is_shown():
    table = Table()
    table.add_count("accepted", 4, known=True)
    table.add_count("received", 6, known=True)
    table.add_rate("rate", "accepted", "received")
    table.add_count("others accepted", 4)
    table.add_count("others received", 6)
    table.add_rate("others rate", "others accepted", "others received")
    result = suppress(table, 11)
    assert not result.is_suppressed("rate")
    assert result.reason("others rate") == FEWER_THAN_K


def test_a_cell_cannot_be_hidden_and_known():
    with pytest.raises(ValueError, match="both hidden and known"):
        Table().add_count("x", 3, hidden=True, known=True)


def test_one_small_part_takes_the_smallest_other_part_with_it():
    table = one_way([3, 40, 20, 0])
    result = suppress(table, 11)
    assert result.reasons == {"part0": FEWER_THAN_K, "part2": COMPLEMENTARY}
    assert result.footnote("part0") == "Suppressed: fewer than 11."
    assert not result.is_suppressed("total")  # 63 is still released


def test_zeros_are_released_beside_a_small_part_and_its_equal_total():
    table = one_way([0, 4, 0])
    result = suppress(table, 11)
    assert result.reasons == {"part1": FEWER_THAN_K, "total": FEWER_THAN_K}


def test_a_lone_withheld_part_among_zeros_takes_the_total():
    """Row 0 is [3, 0] and column 0 is [3, 30]: the column complement (30) is alone in
    row 1 beside a zero, so row 1's total goes."""
    result = suppress(two_way([[3, 0], [30, 0]]), 11)
    assert result.reason(("cell", 0, 0)) == FEWER_THAN_K
    assert result.reason(("cell", 1, 0)) == COMPLEMENTARY
    assert not result.is_suppressed(("cell", 0, 1)) and not result.is_suppressed(("cell", 1, 1))


def test_a_small_total_suppresses_the_total_and_its_parts():
    table = one_way([5, 4])
    result = suppress(table, 10)
    assert set(result.reasons) == {"total", "part0", "part1"}
    assert result.reason("total") == FEWER_THAN_K


def test_two_way_table_needs_more_than_one_complement_per_row():
    """Rows and columns linked: suppressing [0][0] needs a rectangle of four cells."""
    result = suppress(two_way([[2, 30, 40], [50, 60, 70]]), 11)
    withheld = {key for key in result.reasons if key[0] == "cell"}
    assert withheld == {("cell", 0, 0), ("cell", 0, 1), ("cell", 1, 0), ("cell", 1, 1)}
    assert not result.is_suppressed("grand")


def test_a_rate_on_a_small_denominator_is_withheld():
    table = Table()
    table.add_count("num", 0)
    table.add_count("den", 7)
    table.add_rate("rate", "num", "den")
    table.add_count("n2", 40)
    table.add_count("d2", 80)
    table.add_rate("rate2", "n2", "d2")
    result = suppress(table, 11)
    assert result.reason("rate") == FEWER_THAN_K
    assert not result.is_suppressed("rate2") and not result.is_suppressed("num")


def test_a_rate_takes_the_reason_of_its_withheld_terms():
    table = Table()
    table.add_count("total-num", 100)
    table.add_count("a-num", 3)
    table.add_count("b-num", 97)
    table.add_count("hidden-num", 40, hidden=True)
    table.add_count("den", 500)
    table.add_relation("total-num", ["a-num", "b-num"])
    table.add_rate("a", "a-num", "den")
    table.add_rate("b", "b-num", "den")
    table.add_rate("h", "hidden-num", "den")
    result = suppress(table, 11)
    assert (result.reason("a"), result.reason("b"), result.reason("h")) == (
        FEWER_THAN_K,
        COMPLEMENTARY,
        BUILT_ON_SUPPRESSED,
    )


def test_a_small_unpublished_remainder_is_protected_and_a_large_one_shields():
    table = Table()
    table.add_count("total", 100)
    table.add_count("a", 60)
    table.add_count("b", 37)
    table.add_count("rest", 3, hidden=True)  # 3 people in groups not published
    table.add_relation("total", ["a", "b", "rest"])
    result = suppress(table, 11)
    assert result.reason("rest") == NOT_PUBLISHED and result.reason("b") == COMPLEMENTARY
    shielded = Table()
    shielded.add_count("total", 100)
    shielded.add_count("a", 5)
    shielded.add_count("b", 50)
    shielded.add_count("rest", 45, hidden=True)
    shielded.add_relation("total", ["a", "b", "rest"])
    assert set(suppress(shielded, 11).reasons) == {"a", "rest"}


@pytest.mark.parametrize("k", [0, 1])
def test_k_below_two_is_refused(k):
    with pytest.raises(ValueError, match="k must be at least 2"):
        suppress(one_way([1, 2]), k)


def test_a_relation_on_an_unknown_cell_is_refused():
    table = Table()
    table.add_count("total", Decimal(5))
    with pytest.raises(ValueError, match="'missing', which is not a count"):
        table.add_relation("total", ["missing"])
