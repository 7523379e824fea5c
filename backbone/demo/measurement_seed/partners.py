"""Partner programs: measures, targets, assignments and their submission histories."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from backbone.core.models import Membership, NetworkRole
from backbone.demo.measurement_seed.common import (
    BATCH,
    FIRST_QUARTER,
    PLACES,
    SEED,
    TODAY,
    ratio_value,
    value_state,
    write_values,
)
from backbone.measurement import periods
from backbone.measurement.models import (
    DataValue,
    Indicator,
    MeasureTarget,
    PerformanceMeasure,
    ReportingAssignment,
    Result,
    Strategy,
    Submission,
)

# Partner programs and their reporting ------------------------------------------------


@dataclass(frozen=True)
class MeasureSpec:
    code: str
    name: str
    category: str
    unit: str  # count or percent
    base: float  # a count's first-quarter value, or a percent's first rate
    trend: float  # a count's growth per quarter, or a percent's last rate
    of: str = ""  # a percent's denominator, or the count a count is a share of
    share: tuple[float, float] = (0.0, 0.0)
    season: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    description: str = ""


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    strategy: str
    description: str
    sector: str
    mission: str  # a word of the organization's mission or name
    results: tuple[str, ...]
    indicators: tuple[str, ...]
    measures: tuple[MeasureSpec, ...]
    first_period: str = "2024-Q1"


SCHOOL_SEASON = (1.0, 1.0, 0.35, 1.05)  # little happens July to September
PROGRAMS = (
    ProgramSpec(
        "school-attendance",
        "Every Day Counts attendance outreach",
        "Family liaisons call and visit families of K–3 students who miss two or more days "
        "in a month, and make an attendance plan with them.",
        "school_district",
        "",
        ("early-grade-reading",),
        ("chronic-absence-k3", "grade3-reading"),
        (
            MeasureSpec(
                "attendance-families-contacted",
                "Families of K–3 students contacted about absences",
                "how_much",
                "count",
                380,
                1.015,
                season=(1.1, 0.9, 0.4, 1.2),
            ),
            MeasureSpec(
                "attendance-plans-made",
                "Contacted families with an attendance plan",
                "how_well",
                "percent",
                56,
                69,
                of="attendance-families-contacted",
            ),
            MeasureSpec(
                "attendance-improved",
                "Students in outreach whose attendance improved within 60 days",
                "better_off",
                "percent",
                41,
                52,
                of="attendance-families-contacted",
            ),
        ),
    ),
    ProgramSpec(
        "prek-quality",
        "Pre-K for every four-year-old",
        "Full-day pre-K classrooms with coached teachers and a family engagement plan.",
        "nonprofit",
        "early learning",
        ("kindergarten-readiness",),
        ("k-ready", "prek-enrollment"),
        (
            MeasureSpec(
                "prek-children-enrolled",
                "Children enrolled in pre-K",
                "how_much",
                "count",
                170,
                1.012,
                season=(1.0, 1.0, 0.8, 1.05),
            ),
            MeasureSpec(
                "prek-attending-85",
                "Enrolled children attending 85% of days or more",
                "how_well",
                "percent",
                68,
                76,
                of="prek-children-enrolled",
            ),
            MeasureSpec(
                "prek-ready-at-exit",
                "Children meeting the readiness benchmark at pre-K exit",
                "better_off",
                "percent",
                52,
                61,
                of="prek-children-enrolled",
            ),
        ),
    ),
    ProgramSpec(
        "reading-tutoring",
        "Reading corps",
        "Trained tutors read one-on-one with K–3 students below benchmark, four days a week.",
        "nonprofit",
        "tutoring",
        ("early-grade-reading",),
        ("grade3-reading",),
        (
            MeasureSpec(
                "tutoring-students-served",
                "K–3 students tutored",
                "how_much",
                "count",
                140,
                1.02,
                season=SCHOOL_SEASON,
            ),
            MeasureSpec(
                "tutoring-attending-80",
                "Tutored students attending 80% of sessions or more",
                "how_well",
                "percent",
                63,
                72,
                of="tutoring-students-served",
            ),
            MeasureSpec(
                "tutoring-reading-gains",
                "Tutored students gaining a grade level or more in reading",
                "better_off",
                "percent",
                47,
                57,
                of="tutoring-students-served",
            ),
        ),
    ),
    ProgramSpec(
        "college-access",
        "College and FAFSA advising",
        "Advisers in every high school help seniors apply to college and complete the FAFSA.",
        "nonprofit",
        "college advising",
        ("postsecondary-enrollment",),
        ("postsecondary-enrollment",),
        (
            MeasureSpec(
                "college-seniors-advised",
                "Seniors advised",
                "how_much",
                "count",
                250,
                1.01,
                season=(1.0, 0.6, 0.3, 1.2),
            ),
            MeasureSpec(
                "college-fafsa-completions",
                "Advised seniors completing the FAFSA",
                "how_well",
                "count",
                0,
                0,
                of="college-seniors-advised",
                share=(0.55, 0.74),
            ),
            MeasureSpec(
                "college-applied",
                "Advised seniors who applied to college or training",
                "better_off",
                "percent",
                66,
                78,
                of="college-seniors-advised",
            ),
        ),
    ),
    ProgramSpec(
        "job-training",
        "Career pathways training",
        "Sixteen-week training in health care, logistics and advanced manufacturing with "
        "employer partners, then job placement.",
        "nonprofit",
        "job training",
        ("career-entry",),
        ("youth-employment", "disconnected-youth"),
        (
            MeasureSpec(
                "training-enrolled",
                "Young adults enrolled in training",
                "how_much",
                "count",
                60,
                1.015,
            ),
            MeasureSpec(
                "training-completed",
                "Young adults completing training",
                "how_well",
                "count",
                0,
                0,
                of="training-enrolled",
                share=(0.62, 0.78),
            ),
            MeasureSpec(
                "training-placed",
                "Completers placed in a job paying $18 an hour or more",
                "better_off",
                "count",
                0,
                0,
                of="training-completed",
                share=(0.55, 0.75),
            ),
        ),
    ),
    ProgramSpec(
        "youth-workforce",
        "Opportunity youth reengagement",
        "Outreach, case management and paid work experience for 16–24-year-olds out of "
        "school and work.",
        "public_agency",
        "workforce",
        ("career-entry",),
        ("disconnected-youth", "youth-employment"),
        (
            MeasureSpec(
                "workforce-youth-served", "Young people served", "how_much", "count", 210, 1.01
            ),
            MeasureSpec(
                "workforce-credential",
                "Young people earning a credential",
                "how_well",
                "percent",
                54,
                63,
                of="workforce-youth-served",
            ),
            MeasureSpec(
                "workforce-employed",
                "Young people employed six months after exit",
                "better_off",
                "percent",
                61,
                69,
                of="workforce-youth-served",
            ),
        ),
    ),
    ProgramSpec(
        "developmental-screening",
        "Help Me Grow screening and referral",
        "Developmental screening at well-child visits, with a care coordinator for every "
        "child referred to early intervention.",
        "health_care",
        "",
        ("kindergarten-readiness",),
        ("k-ready",),
        (
            MeasureSpec(
                "screenings-completed",
                "Developmental screenings completed",
                "how_much",
                "count",
                520,
                1.01,
            ),
            MeasureSpec(
                "screenings-on-time",
                "Screenings done at the recommended age",
                "how_well",
                "percent",
                71,
                82,
                of="screenings-completed",
            ),
            MeasureSpec(
                "referrals-started-services",
                "Referred children who started services",
                "better_off",
                "count",
                0,
                0,
                of="screenings-completed",
                share=(0.07, 0.11),
            ),
        ),
    ),
    ProgramSpec(
        "family-resource",
        "Family resource centers",
        "Neighborhood centers with food, housing help, parenting classes and a family coach.",
        "nonprofit",
        "family resource",
        ("kindergarten-readiness", "early-grade-reading"),
        ("chronic-absence-k3", "k-ready"),
        (
            MeasureSpec("families-served", "Households served", "how_much", "count", 330, 1.01),
            MeasureSpec(
                "families-with-plan",
                "Households with a family goal plan",
                "how_well",
                "percent",
                62,
                74,
                of="families-served",
            ),
            MeasureSpec(
                "families-stably-housed",
                "Households stably housed 90 days after help",
                "better_off",
                "percent",
                70,
                77,
                of="families-served",
            ),
        ),
        first_period="2024-Q3",
    ),
    ProgramSpec(
        "first-year-success",
        "First-year success coaching",
        "Success coaches for first-generation students through their first year.",
        "higher_education",
        "",
        ("postsecondary-completion",),
        ("postsecondary-completion",),
        (
            MeasureSpec(
                "success-students-coached",
                "First-year students coached",
                "how_much",
                "count",
                300,
                1.01,
                season=(1.0, 0.9, 0.4, 1.2),
            ),
            MeasureSpec(
                "success-retained",
                "Coached students retained to the next term",
                "better_off",
                "percent",
                78,
                84,
                of="success-students-coached",
            ),
        ),
    ),
)

RETURN_COMMENTS = (
    "The count looks like the year-to-date total, not this quarter. Please enter the quarter only.",
    "This is well below last quarter and the roster we saw at the site visit. Please check "
    "the export from your case management system.",
    "One site is counted twice. Please correct the total and resubmit.",
)


@dataclass
class Program:
    spec: ProgramSpec
    organization: object
    measures: dict  # code -> PerformanceMeasure
    assignment: ReportingAssignment
    people: list  # the organization's users who report: [entry, submitter]


def _matches(spec: ProgramSpec, organization, sectors: set[str]) -> bool:
    if spec.sector not in sectors:
        return False
    text = f"{organization.name} {organization.mission}".lower()
    return not spec.mission or spec.mission in text


def seed_programs(network, indicators, organizations) -> list[Program]:
    """One partner per program: the first active partner of its sector and mission."""
    memberships = {
        m.organization_id: m
        for m in Membership.objects.filter(network=network, status="active", role="partner")
    }
    candidates = [o for o in organizations if o.pk in memberships]
    sectors: dict[int, set[str]] = {}
    for org_id, code in (
        Membership.objects.filter(network=network, organization__in=candidates)
        .values_list("organization_id", "organization__sectors__code")
        .distinct()
    ):
        sectors.setdefault(org_id, set()).add(code)
    roles: dict[int, list] = {}
    for role in (
        NetworkRole.objects.filter(network=network, organization__in=candidates)
        .select_related("user")
        .order_by("role", "user__email")
    ):
        roles.setdefault(role.organization_id, []).append(role)
    results = {r.code: r for r in Result.objects.filter(network=network)}
    existing_measures = {m.code: m for m in PerformanceMeasure.objects.filter(network=network)}
    programs, used = [], set()
    for spec in PROGRAMS:
        organization = next(
            (
                o
                for o in candidates
                if o.pk not in used and roles.get(o.pk) and _matches(spec, o, sectors[o.pk])
            ),
            None,
        )
        if organization is None:
            continue
        used.add(organization.pk)
        measures = {}
        for m in spec.measures:
            measure = existing_measures.get(m.code)
            if measure is None:
                ratio = m.unit == "percent"
                measure = PerformanceMeasure.objects.create(
                    network=network,
                    organization=organization,
                    code=m.code,
                    name=m.name,
                    description=m.description,
                    category=m.category,
                    unit=m.unit,
                    polarity="higher_is_better",
                    formula="ratio" if ratio else "direct",
                    aggregation="weighted" if ratio else "sum",
                    frequency="quarter",
                )
                measure.contributes_to.set([indicators[c] for c in spec.indicators])
            measures[m.code] = measure
        strategy, created = Strategy.objects.get_or_create(
            network=network,
            code=spec.key,
            defaults={"name": spec.strategy, "description": spec.description},
        )
        if created:
            strategy.organizations.set([organization])
            strategy.results.set([results[c] for c in spec.results if c in results])
            strategy.measures.set(list(measures.values()))
        assignment, created = ReportingAssignment.objects.get_or_create(
            network=network,
            organization=organization,
            name=f"{spec.strategy}: quarterly report",
            defaults={
                "frequency": Indicator.Frequency.QUARTER,
                "first_period": spec.first_period,
                "due_days": 30,
                "reminder_days": 7,
            },
        )
        if created:
            assignment.measures.set(list(measures.values()))
        people = [r.user for r in roles[organization.pk]]
        # Members enter the data; an organization admin (or the one person) submits it.
        admins = [r.user for r in roles[organization.pk] if r.role == "org_admin"] or people
        members = [r.user for r in roles[organization.pk] if r.role == "org_member"] or people
        programs.append(Program(spec, organization, measures, assignment, [members[0], admins[0]]))
    return programs


def _quarters(first: str) -> list[periods.Period]:
    """Every quarter from FIRST to the one TODAY lies in."""
    quarter = periods.parse(first)
    last = periods.Period(periods.QUARTER, TODAY.year, (TODAY.month - 1) // 3 + 1)
    found = []
    while quarter <= last:
        found.append(quarter)
        year, number = (
            (quarter.year, quarter.number + 1)
            if quarter.number < 4
            else (
                quarter.year + 1,
                1,
            )
        )
        quarter = periods.Period(periods.QUARTER, year, number)
    return found


def _plan_status(k: int, index: int, last: int, rng: random.Random) -> str:
    """The story of partner K's submission for quarter INDEX (LAST = the latest quarter
    past its due date): on time, late, returned then resubmitted, missing, awaiting
    review, returned (now), draft (the current quarter)."""
    if index > last:
        return "draft" if k % 2 == 0 else ""
    forced = {
        (1, last - 5): "missing",
        (6, last - 2): "missing",
        (3, last): "missing",
        (2, last - 3): "resubmitted",
        (4, last - 7): "resubmitted",
        (5, last): "returned",
        (0, last - 4): "late",
    }
    if (k, index) in forced:
        return forced[(k, index)]
    if index == last:
        return ("approved", "submitted", "submitted", "approved")[k % 4]
    return "late" if rng.random() < 0.15 else "approved"


def _measure_values(spec: ProgramSpec, index: int, quarter, rng) -> dict[str, tuple]:
    """{measure code: (value, numerator, denominator, target)} for one quarter."""
    found: dict[str, tuple] = {}
    span = 11
    for m in spec.measures:
        if m.unit == "percent":
            denominator = int(found[m.of][0])
            target = m.base + (m.trend - m.base) * min(index, span) / span
            rate = min(max(target + rng.gauss(-1.0, 4.0), 1.0), 99.0)
            numerator = round(denominator * rate / 100)
            found[m.code] = (None, numerator, denominator, round(target + 1.5))
        elif m.of:
            total = int(found[m.of][0])
            share = rng.uniform(*m.share)
            target = round(found[m.of][3] * sum(m.share) / 2)
            found[m.code] = (round(total * share), None, None, target)
        else:
            planned = m.base * m.trend**index * m.season[quarter.number - 1]
            value = round(planned * rng.uniform(0.82, 1.1))
            found[m.code] = (value, None, None, round(planned / 5) * 5)
    return found


def seed_submissions(network, programs: list[Program], admin, fiscal_start):
    """Quarterly submissions since each assignment began, and their values' histories."""
    if not programs:
        return 0, 0, 0
    done = set(
        Submission.objects.filter(assignment__in=[p.assignment for p in programs]).values_list(
            "assignment_id", "period"
        )
    )
    measure_targets = set(
        MeasureTarget.objects.filter(network=network).values_list("measure_id", "period")
    )
    submissions, targets, value_rows = [], [], []
    last_due = max(
        q for q in _quarters(FIRST_QUARTER.code) if q.end() + datetime.timedelta(days=30) < TODAY
    )
    for k, program in enumerate(programs):
        rng = random.Random(f"{SEED}:{network.slug}:submissions:{program.spec.key}")
        entry, submitter = program.people
        quarters = _quarters(program.spec.first_period)
        last = quarters.index(last_due)
        returned = 0
        for index, quarter in enumerate(quarters):
            status = _plan_status(k, index, last, rng)
            figures = _measure_values(program.spec, index, quarter, rng)
            for code, (_amount, _n, _d, target) in figures.items():
                measure = program.measures[code]
                if (measure.pk, quarter.code) not in measure_targets:
                    targets.append(
                        MeasureTarget(
                            network=network,
                            measure=measure,
                            organization=program.organization,
                            period=quarter.code,
                            value=Decimal(target),
                        )
                    )
            if not status or (program.assignment.pk, quarter.code) in done:
                continue
            end = quarter.end(fiscal_start)
            due = end + datetime.timedelta(days=program.assignment.due_days)
            timeline = _timeline(status, end, due, rng)
            comment = ""
            if status in ("resubmitted", "returned"):
                comment = RETURN_COMMENTS[(k + returned) % len(RETURN_COMMENTS)]
                returned += 1
            submission = Submission(
                network=network,
                assignment=program.assignment,
                organization=program.organization,
                period=quarter.code,
                period_start=quarter.start(fiscal_start),
                period_end=end,
                due_date=due,
                status={
                    "late": "approved",
                    "resubmitted": "approved",
                    "missing": "not_started",
                }.get(status, status),
                submitted_at=timeline.get("submitted"),
                submitted_by=submitter if timeline.get("submitted") else None,
                reviewed_at=timeline.get("reviewed"),
                reviewed_by=admin if timeline.get("reviewed") else None,
                review_comment=comment if status == "returned" else "",
            )
            submissions.append((submission, timeline))
            if status != "missing":
                value_rows.append(
                    (program, quarter, submission, status, timeline, figures, comment)
                )
    MeasureTarget.objects.bulk_create(targets, batch_size=BATCH, ignore_conflicts=True)
    Submission.objects.bulk_create([s for s, _t in submissions], batch_size=BATCH)
    for submission, timeline in submissions:
        Submission.objects.filter(pk=submission.pk).update(
            created_at=timeline["created"], updated_at=timeline["updated"]
        )
    items = []
    for program, quarter, submission, status, timeline, figures, comment in value_rows:
        entry, submitter = program.people
        for position, (code, (value, numerator, denominator, _target)) in enumerate(
            figures.items()
        ):
            measure = program.measures[code]
            if value is None:
                value = ratio_value(measure, numerator, denominator)
            fields = {
                "value": Decimal(value).quantize(PLACES),
                "numerator": None if numerator is None else Decimal(numerator).quantize(PLACES),
                "denominator": None
                if denominator is None
                else Decimal(denominator).quantize(PLACES),
            }
            steps = _value_history(
                status, timeline, fields, comment, position == 0, entry, submitter, admin
            )
            fields["value"] = Decimal(steps[-1][3]["value"]).quantize(PLACES)
            key_fields = {
                "measure_id": measure.pk,
                "submission_id": submission.pk,
                "organization_id": program.organization.pk,
                "period": quarter.code,
                "period_start": quarter.start(fiscal_start),
                "period_end": quarter.end(fiscal_start),
                "disaggregation": "",
                "categories": {},
            }
            items.append(({**key_fields, **fields}, steps))
    values, versions = write_values(network, items)
    return len(submissions), values, versions


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, 0), datetime.UTC)


def _timeline(status: str, end: datetime.date, due: datetime.date, rng) -> dict:
    """When a submission was started, submitted, returned, corrected, resubmitted and
    reviewed (as far as its STATUS goes)."""
    days = datetime.timedelta
    last_day = TODAY - days(1)
    if status == "missing":
        return {"created": _at(end + days(1), 6), "updated": _at(end + days(1), 6)}
    if status == "draft":
        stamp = _at(min(last_day, end - days(rng.randint(20, 40))), 16)
        return {"created": stamp, "updated": stamp}
    started = end + days(rng.randint(2, 12))
    if status == "late":
        submitted = due + days(rng.randint(4, 24))
    else:
        submitted = max(due - days(rng.randint(1, 8)), started + days(1))
    timeline = {"created": _at(started, 14), "submitted": _at(submitted, 11)}
    if status == "submitted":
        timeline["updated"] = timeline["submitted"]
        return timeline
    if status in ("returned", "resubmitted"):
        timeline["first_submitted"] = timeline["submitted"]
        timeline["returned"] = _at(min(submitted + days(3), last_day), 10)
    if status == "returned":
        timeline["reviewed"] = timeline["updated"] = timeline["returned"]
        return timeline
    reviewed = submitted + days(rng.randint(2, 9))
    if status == "resubmitted":
        timeline["corrected"] = _at(submitted + days(6), 15)
        timeline["submitted"] = _at(submitted + days(7), 9)
        reviewed = submitted + days(9)
    timeline["reviewed"] = timeline["updated"] = _at(min(reviewed, last_day), 13)
    return timeline


def _value_history(status, timeline, fields, comment, corrected, entry, submitter, admin):
    """The versions the services write for one value of a submission, as (when, who, old,
    new, reason, via); the last is its current state. In a returned submission the first
    measure (a count) was mistyped and is corrected before resubmitting."""
    final = value_state(**fields, status=DataValue.Status.DRAFT)
    first = final
    if status == "resubmitted" and corrected and fields["numerator"] is None:
        wrong = (fields["value"] * Decimal("2.4")).quantize(Decimal(1))
        first = value_state(**{**fields, "value": wrong}, status=DataValue.Status.DRAFT)
    steps = [(timeline["created"], entry, None, first, "", "web")]

    def step(when, user, status, *, state=None, reason="", review=""):
        old = steps[-1][3]
        new = {**(state or old), "status": status, "review_comment": review}
        steps.append((when, user, old, new, reason, "web"))

    if status == "draft":
        return steps
    if status in ("returned", "resubmitted"):
        step(timeline["first_submitted"], submitter, DataValue.Status.SUBMITTED)
        step(timeline["returned"], admin, DataValue.Status.RETURNED, reason=comment, review=comment)
        if status == "returned":
            return steps
        if first != final:
            # Editing a returned value makes it a draft again; its comment stays until submit.
            step(timeline["corrected"], entry, DataValue.Status.DRAFT, state=final, review=comment)
    step(timeline["submitted"], submitter, DataValue.Status.SUBMITTED)
    if status != "submitted":
        step(timeline["reviewed"], admin, DataValue.Status.APPROVED)
    return steps
