"""Small-cell suppression for every figure that leaves the network.

Pure functions over a `Table`: cells holding counts (counts, numerators, denominators),
the linear relations between them (a total and its parts: along a dimension, or an area
and the areas inside it), and rates derived from a numerator and a denominator.

The method, in order (documented for people on the method page and in
docs/public-report-card.md):

1. Primary suppression: every count from 1 to k−1 (more precisely, above 0 and below k)
   is withheld. 0 is released.
2. Complementary suppression: in every relation (total = sum of parts) with exactly one
   withheld cell, the withheld value could be recovered by subtraction, so one more cell
   is withheld: the smallest released non-zero part, else the total, else a zero part.
   Repeated until no relation has exactly one withheld cell.
3. An exact check: the relations are solved for the withheld cells by elimination over
   the rationals; while any withheld cell is still uniquely determined (e.g. across linked
   relations of a two-way table), another cell of one of its relations is withheld and
   step 2 runs again.
4. Rates: a rate whose numerator or denominator is withheld is withheld (with the
   term's reason); so is a rate whose numerator is above 0 and below k or whose
   denominator is below k.

Cells the reader already knows (`known`: a partner's own figures, shown to that partner)
are released whatever their size and are never withheld as complements; since the reader
can subtract them, the other cells are protected as if they were released. A rate whose
small terms are all known is released.

Everything is deterministic: ties are broken by the order the cells were added.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

FEWER_THAN_K = "fewer than k"
COMPLEMENTARY = "complementary"
BUILT_ON_SUPPRESSED = "built on a suppressed count"
NOT_PUBLISHED = "not published"

FOOTNOTES = {
    FEWER_THAN_K: "Suppressed: fewer than {k}.",
    COMPLEMENTARY: "Suppressed so that another suppressed figure cannot be worked out.",
    BUILT_ON_SUPPRESSED: "Suppressed: built on a count of fewer than {k} or a suppressed count.",
    NOT_PUBLISHED: "Not published.",
}


@dataclass
class Table:
    """Cells and their structure. Keys are any hashable values, unique in the table."""

    counts: dict[Hashable, Decimal | None] = field(default_factory=dict)
    relations: list[tuple[Hashable, tuple[Hashable, ...]]] = field(default_factory=list)
    rates: dict[Hashable, tuple[Hashable | None, Hashable | None]] = field(default_factory=dict)
    hidden: set[Hashable] = field(default_factory=set)
    known: set[Hashable] = field(default_factory=set)

    def add_count(
        self, key: Hashable, value, *, hidden: bool = False, known: bool = False
    ) -> Hashable:
        """A count. HIDDEN: never published (e.g. a remainder), but part of the relations.
        KNOWN: the reader knows it already (its own figure), so it is shown as it is."""
        if key in self.counts or key in self.rates:
            raise ValueError(f"The cell {key!r} is in the table twice.")
        if hidden and known:
            raise ValueError(f"The cell {key!r} cannot be both hidden and known.")
        self.counts[key] = None if value is None else Decimal(value)
        if hidden:
            self.hidden.add(key)
        if known:
            self.known.add(key)
        return key

    def add_relation(self, total: Hashable, parts: Iterable[Hashable]) -> None:
        parts = tuple(parts)
        for key in (total, *parts):
            if key not in self.counts:
                raise ValueError(f"The relation names {key!r}, which is not a count.")
            if self.counts[key] is None:
                raise ValueError(f"The relation names {key!r}, which has no value.")
        if parts:
            self.relations.append((total, parts))

    def add_rate(self, key: Hashable, numerator: Hashable | None, denominator: Hashable | None):
        if key in self.counts or key in self.rates:
            raise ValueError(f"The cell {key!r} is in the table twice.")
        for term in (numerator, denominator):
            if term is not None and term not in self.counts:
                raise ValueError(f"The rate {key!r} names {term!r}, which is not a count.")
        self.rates[key] = (numerator, denominator)
        return key


@dataclass(frozen=True)
class Suppression:
    """The outcome: each withheld cell with its reason."""

    k: int
    reasons: dict[Hashable, str]

    def is_suppressed(self, key: Hashable) -> bool:
        return key in self.reasons

    def reason(self, key: Hashable) -> str | None:
        return self.reasons.get(key)

    def footnote(self, key: Hashable) -> str:
        reason = self.reasons.get(key)
        return FOOTNOTES[reason].format(k=self.k) if reason else ""


def is_small(value: Decimal | None, k: int) -> bool:
    """A count that primary suppression withholds: above 0 and below k."""
    return value is not None and 0 < value < k


def suppress(table: Table, k: int) -> Suppression:
    """Withhold every cell of TABLE that would disclose a count from 1 to k−1."""
    if k < 2:
        raise ValueError("k must be at least 2.")
    order = {key: index for index, key in enumerate(table.counts)}
    reasons: dict[Hashable, str] = {}
    for key, value in table.counts.items():
        if key in table.known:
            continue
        if key in table.hidden:
            reasons[key] = NOT_PUBLISHED
        elif value is None:
            continue
        elif is_small(value, k):
            reasons[key] = FEWER_THAN_K
    while True:
        _close_relations(table, reasons, order, k)
        determined = [key for key in _determined_cells(table, reasons) if _protect(table, key, k)]
        if not determined:
            break
        pick = _next_complement(table, determined, reasons, order)
        if pick is None:
            break  # every cell of every relation is withheld already
        reasons[pick] = COMPLEMENTARY
    for key, (numerator, denominator) in table.rates.items():
        # Known terms need no protection: the rate discloses nothing the reader lacks.
        num = None if numerator is None or numerator in table.known else table.counts[numerator]
        den = (
            None if denominator is None or denominator in table.known else table.counts[denominator]
        )
        terms = {reasons.get(numerator), reasons.get(denominator)} - {None}
        if FEWER_THAN_K in terms or is_small(num, k) or (den is not None and den < k):
            reasons[key] = FEWER_THAN_K
        elif COMPLEMENTARY in terms:
            reasons[key] = COMPLEMENTARY
        elif terms:
            reasons[key] = BUILT_ON_SUPPRESSED
    return Suppression(k=k, reasons=reasons)


def _protect(table: Table, key: Hashable, k: int) -> bool:
    """Whether a withheld cell must not be recoverable. A hidden cell (e.g. the remainder
    of a total over the parts reported) shields others, but needs shielding only if small."""
    return key not in table.hidden or is_small(table.counts[key], k)


def _close_relations(table: Table, reasons: dict, order: dict, k: int) -> None:
    """Step 2: no relation is left with exactly one withheld cell."""
    changed = True
    while changed:
        changed = False
        for relation in table.relations:
            withheld = [key for key in (relation[0], *relation[1]) if key in reasons]
            if len(withheld) == 1 and _protect(table, withheld[0], k):
                pick = _complement(table, relation, reasons, order)
                if pick is not None:
                    reasons[pick] = COMPLEMENTARY
                    changed = True


def _next_complement(table: Table, determined, reasons: dict, order: dict):
    """A cell to withhold so that the first determined cell that can be shielded is."""
    for key in sorted(determined, key=order.__getitem__):
        for relation in table.relations:
            if key in (relation[0], *relation[1]):
                pick = _complement(table, relation, reasons, order)
                if pick is not None:
                    return pick
    released = [
        key
        for rel in table.relations
        for key in (rel[0], *rel[1])
        if key not in reasons and key not in table.known
    ]
    return min(released, key=lambda key: (table.counts[key], order[key])) if released else None


def _complement(table: Table, relation, reasons: dict, order: dict) -> Hashable | None:
    """The cell to withhold next in RELATION: the smallest released non-zero part, else
    the total, else a released zero part."""
    total, parts = relation
    released = [key for key in parts if key not in reasons and key not in table.known]
    nonzero = [key for key in released if table.counts[key] != 0]
    if nonzero:
        return min(nonzero, key=lambda key: (table.counts[key], order[key]))
    if total not in reasons and total not in table.known:
        return total
    if released:
        return min(released, key=order.__getitem__)
    return None


def _determined_cells(table: Table, reasons: dict) -> list[Hashable]:
    """Withheld cells whose value the released cells pin down through the relations."""
    unknowns: list[Hashable] = []
    column: dict[Hashable, int] = {}
    rows: list[dict[int, Fraction]] = []
    for total, parts in table.relations:
        row: dict[int, Fraction] = {}
        for key, sign in ((total, -1), *((part, 1) for part in parts)):
            if key in reasons:
                if key not in column:
                    column[key] = len(unknowns)
                    unknowns.append(key)
                index = column[key]
                row[index] = row.get(index, Fraction(0)) + sign
        row = {index: coef for index, coef in row.items() if coef}
        if row:
            rows.append(row)
    pivots = _row_reduce(rows)
    return [unknowns[index] for index, row in pivots.items() if len(row) == 1]


def _row_reduce(rows: list[dict[int, Fraction]]) -> dict[int, dict[int, Fraction]]:
    """Reduced row echelon form of sparse rows: pivot column -> its row (pivot 1)."""
    pivots: dict[int, dict[int, Fraction]] = {}
    for row in rows:
        row = dict(row)
        for pivot, prow in pivots.items():
            coef = row.get(pivot)
            if coef:
                for index, value in prow.items():
                    row[index] = row.get(index, Fraction(0)) - coef * value
                row = {index: value for index, value in row.items() if value}
        if not row:
            continue
        pivot = min(row)
        scale = row[pivot]
        row = {index: value / scale for index, value in row.items()}
        for other, orow in pivots.items():
            coef = orow.get(pivot)
            if coef:
                for index, value in row.items():
                    orow[index] = orow.get(index, Fraction(0)) - coef * value
                pivots[other] = {index: value for index, value in orow.items() if value}
        pivots[pivot] = row
    return pivots
