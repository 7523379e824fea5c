"""Reporting assignments and submissions (services): who reports what and when, the grid
of one submission, and its review: draft → submitted → approved | returned.

The grid writes its values as tidy CSV rows through `data_file.data_import`, so a value
typed into a web form passes exactly the checks of a file upload, the CLI and the API.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from backbone.core import audit, services
from backbone.core.access import Access
from backbone.core.models import AuditEvent
from backbone.core.tabular import ImportResult
from backbone.measurement import data_file, periods, reporting
from backbone.measurement.models import (
    Category,
    DataValue,
    Dimension,
    Indicator,
    PerformanceMeasure,
    ReportingAssignment,
    Submission,
)
from backbone.measurement.services import data_values_review

EDITABLE = (Submission.Status.NOT_STARTED, Submission.Status.DRAFT, Submission.Status.RETURNED)
AMOUNTS = ("value", "numerator", "denominator", "comment")
LINES = re.compile(r" \(\d+–\d+\)")


# Assignments ----------------------------------------------------------------------------


def _check_assignment(fields: dict) -> None:
    """The first and last periods are of the assignment's frequency, in order."""
    errors = {}
    kind = fields.get("frequency")
    first = last = None
    for name in ("first_period", "last_period"):
        code = fields.get(name) or ""
        if not code:
            continue
        try:
            period = periods.parse(code)
        except periods.PeriodError as exc:
            errors[name] = str(exc)
            continue
        if period.kind != kind:
            errors[name] = (
                f"{code} is a {periods.KIND_LABELS[period.kind].lower()}; this assignment "
                f"reports by {periods.KIND_LABELS.get(kind, kind).lower()}."
            )
        elif name == "first_period":
            first = period
        else:
            last = period
    if first and last and last < first:
        errors["last_period"] = f"The last period ({last}) comes before the first ({first})."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def assignment_create(*, access: Access, fields: dict, via: str = "web") -> ReportingAssignment:
    """A new reporting assignment (network admins), with its past periods' submissions."""
    _check_assignment(fields)
    assignment = services.object_create(
        access=access, model=ReportingAssignment, fields=fields, via=via
    )
    reporting.submissions_sync(access.network, timezone.localdate())
    return assignment


@transaction.atomic
def assignment_update(
    *, access: Access, assignment: ReportingAssignment, fields: dict, via: str = "web"
) -> ReportingAssignment:
    """Change an assignment; open submissions take the new due date."""
    _check_assignment({"frequency": assignment.frequency, **fields})
    if fields.get("frequency", assignment.frequency) != assignment.frequency and (
        assignment.submissions.exclude(status=Submission.Status.NOT_STARTED).exists()
    ):
        raise ValidationError(
            {"frequency": "Data has been entered for this assignment; its frequency is fixed."}
        )
    assignment = services.object_update(access=access, instance=assignment, fields=fields, via=via)
    start = reporting.fiscal_start(access.network)
    for submission in assignment.submissions.filter(status__in=EDITABLE):
        due = reporting.due_date(assignment, periods.parse(submission.period), start)
        if submission.due_date != due:
            submission.due_date = due
            submission.save(update_fields=["due_date", "updated_at"])
    reporting.submissions_sync(access.network, timezone.localdate())
    return assignment


# The grid -------------------------------------------------------------------------------


@dataclass
class GridRow:
    """One line of the grid: a subject (indicator or measure) × area × categories."""

    key: str
    subject: Indicator | PerformanceMeasure
    area: object | None
    categories: dict[str, str]
    labels: list[str]  # the category names, for people
    value: DataValue | None = None
    entered: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # column ("" = row) -> why

    @property
    def is_ratio(self) -> bool:
        return self.subject.formula == Indicator.Formula.RATIO

    @property
    def disaggregation(self) -> str:
        return data_file.disaggregation_key(self.categories)

    @property
    def label(self) -> str:
        """The row for people: "reading, Harbor County, Race: Asian"."""
        where = self.area.name if self.area else "whole network"
        return ", ".join([self.subject.code, where, *(self.labels or ["total"])])

    @property
    def shown(self) -> dict[str, str]:
        """What each input shows: what was typed, else the saved value."""
        return {name: self.current(name) for name in AMOUNTS}

    @property
    def row_errors(self) -> list[str]:
        return self.errors.get("", [])

    @property
    def field_errors(self) -> dict[str, str]:
        return {name: " ".join(self.errors.get(name, [])) for name in AMOUNTS}

    def current(self, name: str) -> str:
        if name in self.entered:
            return self.entered[name]
        if self.value is None:
            return ""
        if name == "comment":
            return self.value.comment
        return data_file.number_text(getattr(self.value, name))


def _combinations(subject, categories_of: dict[int, list[Category]]):
    """The total, then each category of each categorical dimension of SUBJECT."""
    yield {}, []
    for dimension in subject.dimensions.all():
        if dimension.kind != Dimension.Kind.CATEGORICAL:
            continue
        for category in categories_of.get(dimension.pk, []):
            yield {dimension.code: category.code}, [f"{dimension.name}: {category.name}"]


def grid_rows(*, access: Access, submission: Submission) -> list[GridRow]:
    """The rows of SUBMISSION's grid with the values already saved in them."""
    assignment = submission.assignment
    subjects = [
        *assignment.indicators.filter(pk__in=access.scope(Indicator).values("pk"))
        .prefetch_related("dimensions")
        .order_by("position", "code"),
        *assignment.measures.filter(pk__in=access.scope(PerformanceMeasure).values("pk"))
        .prefetch_related("dimensions")
        .order_by("code"),
    ]
    areas = list(assignment.areas.order_by("name")) or [None]
    categories_of: dict[int, list[Category]] = {}
    for category in access.scope(Category).order_by("position", "code"):
        categories_of.setdefault(category.dimension_id, []).append(category)
    saved = {}
    for value in access.scope(DataValue).filter(
        organization=submission.organization, period=submission.period
    ):
        subject_key = f"i{value.indicator_id}" if value.indicator_id else f"m{value.measure_id}"
        saved[(subject_key, value.area_id, value.disaggregation)] = value
    rows = []
    for subject in subjects:
        subject_key = f"{'i' if isinstance(subject, Indicator) else 'm'}{subject.pk}"
        for area in areas:
            for categories, labels in _combinations(subject, categories_of):
                disaggregation = data_file.disaggregation_key(categories)
                area_pk = area.pk if area else None
                rows.append(
                    GridRow(
                        key=f"{subject_key}-{area_pk or 0}-{disaggregation}",
                        subject=subject,
                        area=area,
                        categories=categories,
                        labels=labels,
                        value=saved.get((subject_key, area_pk, disaggregation)),
                    )
                )
    return rows


def _import(access: Access, data: bytes, submission: Submission, reason: str) -> ImportResult:
    return data_file.data_import(
        access=access,
        data=data,
        filename="grid.csv",
        commit=True,
        via="web",
        reason=reason,
        submission=submission,
    )


@transaction.atomic
def submission_save(
    *,
    access: Access,
    submission: Submission,
    entries: dict[str, dict[str, str]],
    reason: str = "",
) -> tuple[list[GridRow], list[str]]:
    """Save the grid of SUBMISSION as a draft: ENTRIES maps a row key to what was typed
    (value, numerator, denominator, comment). Blank rows are left alone. A network admin
    changes an approved submission only as a correction with a REASON, which makes new
    versions and keeps the values approved. Returns the rows (with what was typed and
    the errors per cell) and every problem as a sentence naming its row and field; on any
    error nothing is written."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    access.require("change", submission)
    correcting = submission.status == Submission.Status.APPROVED
    if correcting and not access.is_admin:
        raise PermissionDenied("This submission is approved and locked.")
    if correcting and not reason.strip():
        raise ValidationError("Correcting approved data needs a reason.")
    if not correcting and submission.status not in EDITABLE:
        raise ValidationError(
            f"This submission is {submission.get_status_display().lower()}; "
            "it can be changed again if it is returned."
        )
    rows = grid_rows(access=access, submission=submission)
    columns = data_file.data_columns(access)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    by_line: dict[int, GridRow] = {}
    for row in rows:
        typed = {name: (entries.get(row.key, {}).get(name) or "").strip() for name in AMOUNTS}
        row.entered = typed
        if not any(typed[name] for name in AMOUNTS[:3]) and not (row.value and typed["comment"]):
            continue
        record = {
            "indicator": row.subject.code,
            "period": submission.period,
            "organization": submission.organization.slug,
            "area": row.area.code if row.area else "",
            **row.categories,
            **typed,
        }
        writer.writerow([record.get(column, "") for column in columns])
        by_line[len(by_line) + 2] = row  # the header is line 1
    if not by_line:
        return rows, ["Nothing to save: enter at least one value."]
    result = _import(access, buffer.getvalue().encode("utf-8"), submission, reason)
    problems = []
    for error in result.errors:
        row = by_line.get(error.row)
        if row is None:
            problems.append(str(error))
            continue
        column = error.column if error.column in AMOUNTS else ""
        # The import's line numbers mean nothing on the grid; the cell marks say where.
        message = LINES.sub("", error.message)
        row.errors.setdefault(column, []).append(message)
        problems.append(f"{row.label}, {column or 'row'}: {message}")
    if problems:
        return rows, problems
    if not correcting:
        before = audit.snapshot(submission)
        submission.status = Submission.Status.DRAFT
        submission.save(update_fields=["status", "updated_at"])
        audit.record_for(
            access,
            action=AuditEvent.Action.UPDATE,
            obj=submission,
            before=before,
            after=audit.snapshot(submission),
        )
    return grid_rows(access=access, submission=submission), []


# Review ---------------------------------------------------------------------------------


def _review(access: Access, submission: Submission, *, action: str, status: str, comment=""):
    values = list(submission.values.all())
    sources = {"submit": EDITABLE, "approve": (Submission.Status.SUBMITTED,)}
    sources["return"] = sources["approve"]
    if submission.status not in sources[action]:
        raise ValidationError(
            f"This submission is {submission.get_status_display().lower()}; "
            f"it cannot be {'submitted' if action == 'submit' else action + 'ed'} now."
        )
    if not values:
        raise ValidationError("This submission has no data yet: save some values first.")
    value_sources = {
        "submit": (DataValue.Status.DRAFT, DataValue.Status.RETURNED),
        "approve": (DataValue.Status.SUBMITTED,),
        "return": (DataValue.Status.SUBMITTED,),
    }[action]
    if action == "approve":
        changed = [v for v in values if v.status not in (*value_sources, DataValue.Status.APPROVED)]
        if changed:
            raise ValidationError(
                f"{len(changed)} value{'s' if len(changed) > 1 else ''} of this submission "
                "changed after it was submitted; return it so the organization submits again."
            )
    data_values_review(
        access=access,
        values=[v for v in values if v.status in value_sources],
        action=action,
        comment=comment,
    )
    before = audit.snapshot(submission)
    submission.status = status
    now = timezone.now()
    if action == "submit":
        submission.submitted_at, submission.submitted_by = now, access.actor
        submission.review_comment = ""
    else:
        submission.reviewed_at, submission.reviewed_by = now, access.actor
        submission.review_comment = comment
    submission.save()
    audit.record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=submission,
        before=before,
        after=audit.snapshot(submission),
    )
    return submission


@transaction.atomic
def submission_submit(*, access: Access, submission: Submission) -> Submission:
    """Send a draft (or returned) submission for review: all its values become submitted."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    access.require("change", submission)
    return _review(access, submission, action="submit", status=Submission.Status.SUBMITTED)


@transaction.atomic
def submission_approve(*, access: Access, submission: Submission) -> Submission:
    """Approve a submitted submission (network admins): its values are approved and locked."""
    if not access.is_admin:
        raise PermissionDenied("Only network admins approve data.")
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    return _review(access, submission, action="approve", status=Submission.Status.APPROVED)


@transaction.atomic
def submission_return(*, access: Access, submission: Submission, comment: str) -> Submission:
    """Return a submitted submission with a comment saying what to fix (network admins)."""
    if not access.is_admin:
        raise PermissionDenied("Only network admins return data.")
    if not comment.strip():
        raise ValidationError("Returning a submission needs a comment saying what to fix.")
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    return _review(
        access, submission, action="return", status=Submission.Status.RETURNED, comment=comment
    )
