"""Referral network analytics: how many referrals partners receive, how many they accept
and how fast, how many loops close, and why referrals are declined (by service and area).

Definitions (also in docs/referrals.md, "Network analytics"):

- received: referrals sent in the period (by `sent_at`), forwarded ones included;
- accepted: a receiver answered (`responded_at`) and the referral is accepted, in service,
  completed, or closed after it was accepted; declined: status declined. The acceptance
  rate is accepted ÷ (accepted + declined): referrals still waiting, forwarded ones and
  ones the sender cancelled count in neither;
- on time: accepted no later than the network's response standard (`respond_by`);
- time to accept: calendar hours from sent to accepted (nights and weekends count), to the
  nearest tenth of an hour; the median and 75th percentile;
- loop closed: an accepted referral whose end is recorded (completed with an outcome, or
  closed without service). The loop-closure rate is loops closed ÷ accepted.

Everything is aggregated in SQL (GROUP BY over the indexed network column) and cached per
network and data version (`insights_cache`: served stale while a task recomputes after a
change). Every figure shown passes the report card's small-cell suppression.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

from backbone.core.models import Area, Network, Organization
from backbone.directory.models import Service
from backbone.insights import suppression
from backbone.measurement.models import Framework
from backbone.referrals.insights_cache import (
    Freshness,
    cached,
    rebuilt_in_background,
)
from backbone.referrals.models import Person, Referral

TOP_ROWS = 20  # rows of the by-service and by-organization tables; the rest are summed
HOUR_STEP = 10  # time to accept is bucketed in tenths of an hour
ACCEPTED_STATUSES = ("accepted", "in_service", "completed")
ENDED_STATUSES = ("completed", "closed")
REASONS = dict(Referral.DeclineReason.choices)
NO_AREA = "No area recorded"
DASH = "–"


# SQL in the database's own dialect ---------------------------------------------------------


def accepted_sql(alias: str = "") -> str:
    """Accepted by the receiver. A referral closed straight from sent (cancelled by its
    sender) was answered and closed at the same instant; one closed after it was accepted
    was closed later."""
    a = f"{alias}." if alias else ""
    return (
        f"({a}responded_at IS NOT NULL AND ({a}status IN {ACCEPTED_STATUSES!r} "
        f"OR ({a}status = 'closed' AND {a}closed_at > {a}responded_at)))"
    )


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def sql_hours(later: str, earlier: str) -> str:
    if is_postgres():
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


def sql_day(column: str) -> str:
    """The UTC calendar day of a timestamp column, comparable with a date column."""
    if is_postgres():
        return f"CAST(timezone('UTC', {column}) AS date)"
    return f"date({column})"


def sql_days_between(later: str, earlier: str) -> str:
    if is_postgres():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def sql_quarter(column: str) -> str:
    """'2026-Q3' of a timestamp column (UTC)."""
    if is_postgres():
        return f"to_char(timezone('UTC', {column}), 'YYYY-\"Q\"Q')"
    return (
        f"(strftime('%Y', {column}) || '-Q' || "
        f"((CAST(strftime('%m', {column}) AS INTEGER) + 2) / 3))"
    )


def sql_json_text(column: str) -> tuple[str, Callable[[str], str]]:
    """An expression taking one parameter (a key) that reads COLUMN->>key, and how the
    key is passed."""
    if is_postgres():
        return f"({column} ->> %s)", lambda key: key
    return f"json_extract({column}, %s)", lambda key: f'$."{key}"'


def run(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def suppression_k(network: Network) -> int:
    framework = Framework.objects.filter(network=network).only("suppression_k").first()
    return framework.suppression_k if framework else 11


# Shown figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure as shown: its text, or a dash with the reason it is withheld."""

    text: str
    value: float | None = None
    footnote: str = ""

    @property
    def suppressed(self) -> bool:
        return bool(self.footnote)


def count_figure(result: suppression.Suppression, key, value) -> Figure:
    if result.is_suppressed(key):
        return Figure(DASH, None, result.footnote(key))
    return Figure(f"{int(value):,}", float(value))


def rate_figure(result: suppression.Suppression, key, numerator, denominator) -> Figure:
    if result.is_suppressed(key):
        return Figure(DASH, None, result.footnote(key))
    if not denominator:
        return Figure(DASH)
    share = 100 * float(numerator) / float(denominator)
    return Figure(f"{share:.1f}%", share)


def statistic_figure(result: suppression.Suppression, key, value, unit: str) -> Figure:
    if result.is_suppressed(key):
        return Figure(DASH, None, result.footnote(key))
    if value is None:
        return Figure(DASH)
    return Figure(f"{value:,.1f} {unit}", float(value))


def percentile(histogram: dict[float, int], share: float) -> float | None:
    """The value at SHARE (0.5 for the median) of a {value: count} histogram, interpolated
    between the two nearest ranks as `statistics.quantiles(method="inclusive")` does."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = share * (total - 1)
    below, fraction = int(rank), rank - int(rank)
    low = high = None
    seen = 0
    for value, count in sorted(histogram.items()):
        seen += count
        if low is None and seen > below:
            low = value
        if seen > below + 1 or (seen > below and fraction == 0):
            high = value
            break
    if high is None:
        high = low
    return low + (high - low) * fraction


# The analytics ----------------------------------------------------------------------------

COUNTS = ("received", "accepted", "declined", "other", "on_time", "closed_loop")
SHOWN_COUNTS = ("received", "accepted", "declined", "on_time", "closed_loop")


def _count_columns() -> str:
    accepted = accepted_sql()
    return (
        "COUNT(*), "
        f"SUM(CASE WHEN {accepted} THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'declined' THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {accepted} AND responded_at <= respond_by THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {accepted} AND status IN {ENDED_STATUSES!r} THEN 1 ELSE 0 END)"
    )


def _window(period) -> tuple[str, list]:
    if period is None:
        return "", []
    start, end = period
    return " AND sent_at >= %s AND sent_at < %s", [
        datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), datetime.UTC),
    ]


def referral_counts(network_id: int, *, group: str = "", period=None) -> dict:
    """{group value: (received, accepted, declined, on_time, closed_loop)} of a network's
    referrals, grouped by GROUP (an integer column of the referral table, a foreign key;
    "" for the total).

    The group is read as `column + 0` so that SQLite scans the table and sorts the groups:
    on a bare column it walks the column's index instead and fetches every row out of
    order, which took 19.5 s instead of 9 s over 10 million referrals."""
    table = Referral._meta.db_table
    where, params = _window(period)
    select = f"{group} + 0, " if group else ""
    grouping = " GROUP BY 1" if group else ""
    rows = run(
        f"SELECT {select}{_count_columns()} FROM {table} "  # noqa: S608 (no user text)
        f"WHERE network_id = %s{where}{grouping}",
        [network_id, *params],
    )
    out = {}
    for row in rows:
        key, numbers = (row[0], row[1:]) if group else (None, row)
        out[key] = tuple(int(n or 0) for n in numbers)
    return out


def decline_counts(network_id: int, *, group: str, period=None) -> dict[tuple, int]:
    """{(group value, reason): declined referrals}."""
    table = Referral._meta.db_table
    where, params = _window(period)
    rows = run(
        f"SELECT {group}, decline_reason, COUNT(*) FROM {table} "  # noqa: S608
        f"WHERE network_id = %s AND status = 'declined'{where} GROUP BY {group}, decline_reason",
        [network_id, *params],
    )
    return {(group_value, reason): int(n) for group_value, reason, n in rows}


def accept_hours(network_id: int, *, organization_id: int | None = None, period=None):
    """{hours (to a tenth): accepted referrals} for the network or one receiver."""
    table = Referral._meta.db_table
    where, params = _window(period)
    if organization_id is not None:
        where += " AND to_organization_id = %s"
        params.append(organization_id)
    hours = sql_hours("responded_at", "sent_at")
    rows = run(
        f"SELECT ROUND({hours} * {HOUR_STEP}), COUNT(*) FROM {table} "  # noqa: S608
        f"WHERE network_id = %s AND {accepted_sql()}{where} GROUP BY 1",
        [network_id, *params],
    )
    return {float(bucket) / HOUR_STEP: int(n) for bucket, n in rows if bucket is not None}


@dataclass
class MetricsRow:
    label: str
    received: Figure
    accepted: Figure
    declined: Figure
    acceptance: Figure
    on_time: Figure
    loop_closure: Figure
    is_own: bool = False


@dataclass
class DeclineRow:
    label: str
    declined: Figure
    reasons: list[Figure]


@dataclass
class NetworkMetrics(Freshness):
    k: int
    period_label: str
    total: MetricsRow
    median_hours: Figure
    p75_hours: Figure
    own: MetricsRow | None
    own_median_hours: Figure | None
    by_organization: list[MetricsRow]
    reasons: list[str]
    reason_totals: list[Figure]
    declines_by_service: list[DeclineRow]
    declines_by_area: list[DeclineRow]
    footnotes: list[str] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.total.received.text not in ("0", DASH) or self.total.received.suppressed


def _add_rows(table: suppression.Table, prefix, counts: dict, own=None) -> None:
    """Counts of each group, with the relations total = Σ groups and, within a group,
    received = accepted + declined + other (so the unshown "other" cannot be worked out).
    The group OWN is the reader's organization: its figures are its own referrals, known
    to it already, so they are shown as they are and the others are protected against a
    reader who can subtract them."""
    for group, (received, accepted, declined, on_time, closed) in counts.items():
        key = (prefix, group)
        known = own is not None and group == own
        table.add_count((*key, "received"), received, known=known)
        table.add_count((*key, "accepted"), accepted, known=known)
        table.add_count((*key, "declined"), declined, known=known)
        other = received - accepted - declined
        table.add_count((*key, "other"), other, hidden=not known, known=known)
        table.add_count((*key, "on_time"), on_time, known=known)
        table.add_count((*key, "closed_loop"), closed, known=known)
        table.add_relation(
            (*key, "received"), [(*key, "accepted"), (*key, "declined"), (*key, "other")]
        )
        # accepted ÷ (accepted + declined) discloses no more than its two terms: it is
        # withheld with either (see _acceptance), so it takes no denominator here.
        table.add_rate((*key, "acceptance"), (*key, "accepted"), None)
        table.add_rate((*key, "on_time_rate"), (*key, "on_time"), (*key, "received"))
        table.add_rate((*key, "loop_closure"), (*key, "closed_loop"), (*key, "accepted"))


def _acceptance(result, key, accepted: int, declined: int, known: bool = False) -> Figure:
    for term in ("acceptance", "declined"):
        if result.is_suppressed((*key, term)):
            reason = result.reason((*key, term))
            reason = suppression.BUILT_ON_SUPPRESSED if term == "declined" else reason
            return Figure(DASH, None, suppression.FOOTNOTES[reason].format(k=result.k))
    if not known and 0 < accepted + declined < result.k:
        return Figure(
            DASH, None, suppression.FOOTNOTES[suppression.FEWER_THAN_K].format(k=result.k)
        )
    return rate_figure(result, (*key, "acceptance"), accepted, accepted + declined)


def _metrics_row(result, prefix, group, numbers, label, is_own=False) -> MetricsRow:
    received, accepted, declined, on_time, closed = numbers
    key = (prefix, group)
    return MetricsRow(
        label,
        count_figure(result, (*key, "received"), received),
        count_figure(result, (*key, "accepted"), accepted),
        count_figure(result, (*key, "declined"), declined),
        _acceptance(result, key, accepted, declined, known=is_own),
        rate_figure(result, (*key, "on_time_rate"), on_time, received),
        rate_figure(result, (*key, "loop_closure"), closed, accepted),
        is_own,
    )


def _top(counts: dict, keep: set, size: int, index: int = 0) -> tuple[list, dict]:
    """The SIZE largest groups (and those in KEEP), and the rest summed under "rest"."""
    ordered = sorted(counts, key=lambda g: (-counts[g][index], str(g)))
    chosen = [g for g in ordered[:size]] + [g for g in ordered[size:] if g in keep]
    rest = [g for g in ordered if g not in chosen]
    shown = {g: counts[g] for g in chosen}
    if rest:
        shown["rest"] = tuple(sum(counts[g][i] for g in rest) for i in range(len(counts[rest[0]])))
    return chosen + (["rest"] if rest else []), shown


def _sum(rows) -> tuple:
    rows = list(rows)
    return tuple(sum(r[i] for r in rows) for i in range(len(rows[0]))) if rows else (0,) * 5


def _decline_table(table, prefix, counts: dict[tuple, int], reasons, labels, keep, declined):
    """Declines by group × reason, top groups plus the rest, with row and column totals
    that add up to the network's DECLINED count."""
    by_group: dict = defaultdict(lambda: [0] * len(reasons))
    for (group, reason), n in counts.items():
        if reason in reasons:
            by_group[group][reasons.index(reason)] += n
    totals = {g: (sum(v), *v) for g, v in by_group.items()}
    order, shown = _top(totals, keep, TOP_ROWS)
    for group in order:
        row = shown[group]
        table.add_count((prefix, group, "all"), row[0])
        for index, reason in enumerate(reasons):
            table.add_count((prefix, group, reason), row[1 + index])
        table.add_relation((prefix, group, "all"), [(prefix, group, r) for r in reasons])
    if order:
        for index, reason in enumerate(reasons):
            column = sum(shown[g][1 + index] for g in order)
            table.add_count((prefix, "total", reason), column)
            table.add_relation((prefix, "total", reason), [(prefix, g, reason) for g in order])
        if sum(row[0] for row in shown.values()) == table.counts[declined]:
            table.add_relation(declined, [(prefix, "total", r) for r in reasons])

    def rows(result) -> list[DeclineRow]:
        out = []
        for group in order:
            row = shown[group]
            out.append(
                DeclineRow(
                    labels(group),
                    count_figure(result, (prefix, group, "all"), row[0]),
                    [
                        count_figure(result, (prefix, group, r), row[1 + i])
                        for i, r in enumerate(reasons)
                    ],
                )
            )
        return out

    return rows


def _compute(network: Network, organization_id: int | None, period, period_label: str):
    network_id = network.pk
    k = suppression_k(network)
    by_org = referral_counts(network_id, group="to_organization_id", period=period)
    total = _sum(by_org.values())  # every referral has one receiver: no second scan
    by_service = decline_counts(network_id, group="to_service_id", period=period)
    by_area = decline_counts(network_id, group="area_id", period=period)
    hours = accept_hours(network_id, period=period)
    own_hours = (
        accept_hours(network_id, organization_id=organization_id, period=period)
        if organization_id
        else None
    )

    table = suppression.Table()
    _add_rows(table, "network", {None: total})
    keep = {organization_id} if organization_id in by_org else set()
    order, shown = _top(by_org, keep, TOP_ROWS)
    _add_rows(table, "org", shown, own=organization_id)
    if order:
        for name in COUNTS:
            table.add_relation(("network", None, name), [("org", g, name) for g in order])
    accepted_key = ("network", None, "accepted")
    table.add_rate("median_hours", None, accepted_key)
    table.add_rate("p75_hours", None, accepted_key)
    if own_hours is not None:
        own_accepted = by_org.get(organization_id, (0,) * 5)[1]
        own_key = ("org", organization_id, "accepted") if organization_id in shown else None
        if own_key is None:
            table.add_count(("own", "accepted"), own_accepted, known=True)
            own_key = ("own", "accepted")
        table.add_rate("own_median_hours", None, own_key)

    reasons = list(REASONS)
    service_names = dict(
        Service.objects.filter(pk__in={g for g, _ in by_service}).values_list("pk", "name")
    )
    area_names = dict(Area.objects.filter(pk__in={g for g, _ in by_area}).values_list("pk", "name"))
    org_names = dict(Organization.objects.filter(pk__in=list(by_org)).values_list("pk", "name"))

    def service_label(group):
        return "All other services" if group == "rest" else service_names.get(group, "A service")

    def area_label(group):
        if group == "rest":
            return "All other areas"
        return area_names.get(group, NO_AREA) if group is not None else NO_AREA

    declined = ("network", None, "declined")
    service_rows = _decline_table(table, "svc", by_service, reasons, service_label, set(), declined)
    area_rows = _decline_table(table, "area", by_area, reasons, area_label, set(), declined)

    result = suppression.suppress(table, k)
    org_rows = []
    for group in order:
        label = "All other organizations" if group == "rest" else org_names.get(group, "")
        org_rows.append(
            _metrics_row(result, "org", group, shown[group], label, group == organization_id)
        )
    own = None
    own_median = None
    if organization_id:
        own = next((row for row in org_rows if row.is_own), None)
        if own is None:
            name = org_names.get(organization_id) or "Your organization"
            own = MetricsRow(name, *[Figure("0", 0.0)] * 3, *[Figure(DASH)] * 3, is_own=True)
        own_median = statistic_figure(
            result, "own_median_hours", percentile(own_hours or {}, 0.5), "hours"
        )
    reason_totals = []
    for reason in reasons:
        column = sum(n for (_, r), n in by_service.items() if r == reason)
        key = ("svc", "total", reason)
        reason_totals.append(
            count_figure(result, key, column) if key in table.counts else Figure("0", 0.0)
        )
    metrics = NetworkMetrics(
        k=k,
        period_label=period_label,
        total=_metrics_row(result, "network", None, total, "The network"),
        median_hours=statistic_figure(result, "median_hours", percentile(hours, 0.5), "hours"),
        p75_hours=statistic_figure(result, "p75_hours", percentile(hours, 0.75), "hours"),
        own=own,
        own_median_hours=own_median,
        by_organization=org_rows,
        reasons=[REASONS[r] for r in reasons],
        reason_totals=reason_totals,
        declines_by_service=service_rows(result),
        declines_by_area=area_rows(result),
    )
    metrics.footnotes = sorted({f.footnote for f in _figures(metrics) if f.footnote})
    return metrics


def _figures(obj):
    """Every Figure in a tree of dataclasses and lists (for the footnotes shown)."""
    if isinstance(obj, Figure):
        yield obj
    elif dataclasses.is_dataclass(obj):
        for item in dataclasses.fields(obj):
            yield from _figures(getattr(obj, item.name))
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _figures(item)


def network_metrics(
    network: Network, *, organization_id: int | None = None, period=None, period_label=""
) -> NetworkMetrics | None:
    """The network's referral analytics for PERIOD ((first day, last day) or None for all
    time), suppressed; ORGANIZATION_ID's own row is kept in the by-organization table.
    None while a large network's first computation runs as a task (insights_cache)."""
    params = {
        "organization": organization_id,
        "period": [day.isoformat() for day in period] if period else None,
        "label": period_label,
    }
    return cached(network.pk, "metrics", params, lambda: _metrics_of(network, params))


@rebuilt_in_background("metrics")
def _metrics_of(network: Network, params: dict) -> NetworkMetrics:
    period = params["period"]
    if period:
        period = tuple(datetime.date.fromisoformat(day) for day in period)
    return _compute(network, params["organization"], period, params["label"] or "All time")


def capacity_declines(network_id: int, *, since: datetime.datetime) -> dict[tuple, tuple]:
    """{(service id, area id or None): (referrals received, declined for no capacity)}
    since SINCE, for the gap map. The area is the referral's, else the person's."""
    referral, person = Referral._meta.db_table, Person._meta.db_table

    def compute():
        rows = run(
            f"SELECT r.to_service_id, COALESCE(r.area_id, p.area_id), COUNT(*), "  # noqa: S608
            f"SUM(CASE WHEN r.status = 'declined' AND r.decline_reason = 'no_capacity' "
            f"THEN 1 ELSE 0 END) FROM {referral} r JOIN {person} p ON p.id = r.person_id "
            f"WHERE r.network_id = %s AND r.sent_at >= %s GROUP BY 1, 2",
            [network_id, since],
        )
        return {(s, a): (int(n), int(d or 0)) for s, a, n, d in rows}

    return cached(network_id, "capacity", {"since": since.date()}, compute)
