"""Reporting cycles (selectors): which periods an assignment expects, when each is due,
the Submission rows that track them, and how complete the network's reporting is.

A period is expected once it has ended; its data is due `due_days` after its end. A
submission counts as *on time* when it was submitted (and is submitted or approved) by
its due date; *late* when it was submitted after it, or is not submitted and past it;
*missing* when it is not submitted and past due.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from backbone.core.access import Access
from backbone.core.models import Network
from backbone.measurement import periods
from backbone.measurement.models import Framework, ReportingAssignment, Submission

DONE = (Submission.Status.SUBMITTED, Submission.Status.APPROVED)
OPEN = (Submission.Status.NOT_STARTED, Submission.Status.DRAFT, Submission.Status.RETURNED)


def fiscal_start(network: Network) -> int:
    """The month the network's fiscal year starts in (July when it has no framework yet)."""
    framework = Framework.objects.filter(network=network).first()
    return framework.fiscal_year_start_month if framework else 7


def next_period(period: periods.Period) -> periods.Period:
    """The period of the same kind that follows PERIOD."""
    if period.kind == periods.MONTH:
        year, month = divmod(period.year * 12 + period.number, 12)
        return periods.Period(periods.MONTH, year, month + 1)
    if period.kind == periods.QUARTER:
        year, quarter = divmod(period.year * 4 + period.number, 4)
        return periods.Period(periods.QUARTER, year, quarter + 1)
    return periods.Period(period.kind, period.year + 1)


def expected_periods(
    assignment: ReportingAssignment, *, until: datetime.date, fiscal_year_start: int
) -> list[periods.Period]:
    """The periods ASSIGNMENT expects data for that have ended on or before UNTIL, from its
    first period to its last (or on, when it is ongoing)."""
    current = periods.parse(assignment.first_period)
    last = periods.parse(assignment.last_period) if assignment.last_period else None
    found = []
    while current.end(fiscal_year_start) <= until:
        if last is not None and current.start(fiscal_year_start) > last.start(fiscal_year_start):
            break
        found.append(current)
        current = next_period(current)
    return found


def due_date(
    assignment: ReportingAssignment, period: periods.Period, fiscal_year_start: int
) -> datetime.date:
    return period.end(fiscal_year_start) + datetime.timedelta(days=assignment.due_days)


@transaction.atomic
def submissions_sync(network: Network, today: datetime.date) -> int:
    """Create the missing Submission rows (not started) of every active assignment of
    NETWORK for the periods that have ended by TODAY; returns how many were made.
    Derived rows with no author, so no audit record: the audit starts with the first
    save of data."""
    start = fiscal_start(network)
    existing = set(Submission.objects.filter(network=network).values_list("assignment", "period"))
    made = []
    assignments = ReportingAssignment.objects.filter(network=network, is_active=True)
    for assignment in assignments:
        for period in expected_periods(assignment, until=today, fiscal_year_start=start):
            if (assignment.pk, period.code) in existing:
                continue
            made.append(
                Submission(
                    network=network,
                    assignment=assignment,
                    organization_id=assignment.organization_id,
                    period=period.code,
                    period_start=period.start(start),
                    period_end=period.end(start),
                    due_date=due_date(assignment, period, start),
                )
            )
    Submission.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


def is_on_time(submission: Submission) -> bool:
    return (
        submission.status in DONE
        and submission.submitted_at is not None
        and submission.submitted_at.date() <= submission.due_date
    )


def state(submission: Submission, today: datetime.date) -> str:
    """on_time | late | missing | pending (not submitted, not yet due)."""
    if is_on_time(submission):
        return "on_time"
    if submission.status in DONE:
        return "late"
    if today > submission.due_date:
        return "missing"
    return "pending"


STATE_LABELS = {
    "on_time": "On time",
    "late": "Late",
    "missing": "Missing",
    "pending": "Not yet due",
}


@dataclass
class Rate:
    """How many submissions were expected (due by today, or already sent) and how many
    came in on time."""

    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0

    def add(self, which: str) -> None:
        setattr(self, which, getattr(self, which) + 1)
        if which != "pending":
            self.expected += 1

    @property
    def rate(self) -> Decimal | None:
        """On time ÷ expected, as a percent with one decimal; None when nothing is due."""
        if not self.expected:
            return None
        share = Decimal(self.on_time * 100) / Decimal(self.expected)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Completeness:
    periods: list[str]  # period codes, oldest first
    organizations: list  # Organization rows, by name
    cells: dict[tuple[int, str], Rate]  # (organization pk, period) -> rate
    by_organization: dict[int, Rate]
    by_period: dict[str, Rate]
    total: Rate
    late: list[Submission] = field(default_factory=list)
    missing: list[Submission] = field(default_factory=list)


def completeness(
    access: Access, *, today: datetime.date, organization=None, period: str = ""
) -> Completeness:
    """The reporting rate per organization and period, the network's totals, and the
    late and missing submissions, over the submissions ACCESS may see."""
    submissions = (
        access.scope(Submission)
        .select_related("organization", "assignment")
        .order_by("period_start", "period", "organization__name", "pk")
    )
    if organization is not None:
        submissions = submissions.filter(organization=organization)
    if period:
        submissions = submissions.filter(period=period)
    cells: dict[tuple[int, str], Rate] = defaultdict(Rate)
    by_organization: dict[int, Rate] = defaultdict(Rate)
    by_period: dict[str, Rate] = defaultdict(Rate)
    total = Rate()
    codes: dict[str, tuple] = {}
    organizations = {}
    late, missing = [], []
    for submission in submissions:
        which = state(submission, today)
        for rate in (
            cells[(submission.organization_id, submission.period)],
            by_organization[submission.organization_id],
            by_period[submission.period],
            total,
        ):
            rate.add(which)
        codes.setdefault(submission.period, (submission.period_start, submission.period_end))
        organizations[submission.organization_id] = submission.organization
        if which == "late":
            late.append(submission)
        elif which == "missing":
            missing.append(submission)
    return Completeness(
        periods=sorted(codes, key=lambda code: (*codes[code], code)),
        organizations=sorted(organizations.values(), key=lambda o: o.name.lower()),
        cells=dict(cells),
        by_organization=dict(by_organization),
        by_period=dict(by_period),
        total=total,
        late=late,
        missing=missing,
    )
