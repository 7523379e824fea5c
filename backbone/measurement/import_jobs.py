"""Data files sent on the web or the API: stored as an ImportJob, checked by a background
task that reports its progress into the job, then committed whole by another run.

    import_job_create  → queued → checking → checked | invalid
    import_job_commit  → queued → committing → done | failed    (all or nothing)

An Idempotency-Key makes a retried request safe: the same key with the same file and
options returns the first job and does nothing new; the same key with anything else is
refused (IdempotencyConflict).
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from backbone.core.access import Access, access_for
from backbone.measurement import periods
from backbone.measurement.models import (
    Category,
    Dimension,
    Framework,
    ImportJob,
    ReportingAssignment,
    Submission,
)

MAX_REPORTED = 1000  # errors and warnings kept in a job's report
RUNNING = {ImportJob.Status.QUEUED, ImportJob.Status.CHECKING, ImportJob.Status.COMMITTING}


class IdempotencyConflict(Exception):
    """The key was used before for a different request."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_job_create(
    *,
    access: Access,
    data: bytes,
    filename: str,
    via: str = "web",
    commit: bool = False,
    reason: str = "",
    idempotency_key: str = "",
) -> tuple[ImportJob, bool]:
    """Store a data file as a job and queue its check (and, with COMMIT, its writing).
    Returns (job, created); created is False when IDEMPOTENCY_KEY names an earlier job
    of the same request."""
    access.require_add(ImportJob)
    digest = _sha256(data)
    key = idempotency_key.strip()
    if key:
        earlier = _same_request(access, key, digest, commit, reason)
        if earlier is not None:
            return earlier, False
    try:
        job = _create(access, data, filename, via, commit, reason, key, digest)
    except IntegrityError:
        # A concurrent request with the same key won the race.
        earlier = _same_request(access, key, digest, commit, reason)
        if earlier is None:
            raise
        return earlier, False
    run_import_job.enqueue(job.pk)
    return job, True


def _same_request(access, key, digest, commit, reason) -> ImportJob | None:
    earlier = ImportJob.objects.filter(network=access.network, idempotency_key=key).first()
    if earlier is None:
        return None
    if (
        earlier.created_by_id != getattr(access.user, "pk", None)
        or earlier.sha256 != digest
        or earlier.commit != commit
        or earlier.reason != reason
    ):
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request (another file "
            "or other options). Send a new key for a new request."
        )
    return earlier


@transaction.atomic
def _create(access, data, filename, via, commit, reason, key, digest) -> ImportJob:
    return ImportJob.objects.create(
        network=access.network,
        organization_id=access.organization_id,
        created_by=access.actor,
        filename=filename[:255],
        content=data,
        sha256=digest,
        idempotency_key=key,
        via=via,
        commit=commit,
        reason=reason,
    )


def import_job_commit(*, access: Access, job: ImportJob) -> ImportJob:
    """Write a checked job, all or nothing, in the background."""
    with transaction.atomic():
        job = access.get_object(ImportJob, pk=job.pk)
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.created_by_id != getattr(access.user, "pk", None) and not access.is_admin:
            raise PermissionDenied("Only the sender or a network admin commits a file.")
        if locked.status != ImportJob.Status.CHECKED:
            raise ValidationError(
                f"This file is {locked.get_status_display().lower()}; only a checked file "
                "can be committed."
            )
        locked.commit = True
        locked.status = ImportJob.Status.QUEUED
        locked.processed_rows = 0
        locked.save(update_fields=["commit", "status", "processed_rows"])
    run_import_job.enqueue(locked.pk)
    return locked


def _report(result) -> dict:
    def item(error) -> dict:
        return {
            "row": error.row,
            "column": error.column,
            "value": error.value,
            "rule": getattr(error, "rule", ""),
            "message": error.message,
        }

    notes = [note for plan in result.plans for note in getattr(plan, "notes", ())]
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "error_count": len(result.errors),
        "errors": [item(e) for e in result.errors[:MAX_REPORTED]],
        "warning_count": len(notes),
        "warnings": [item(n) for n in notes[:MAX_REPORTED]],
    }


@task()
def run_import_job(job_id: int) -> str:
    """Check (or commit) one job, reporting progress into it."""
    from backbone.measurement.data_file import data_import

    job = ImportJob.objects.select_related("network", "created_by").get(pk=job_id)
    if job.status not in RUNNING:
        return job.status
    access = access_for(job.created_by, job.network) if job.created_by else None
    failed = ImportJob.Status.FAILED if job.commit else ImportJob.Status.INVALID
    if access is None:
        message = "The sender no longer has a role in this network; nothing was written."
        return _finish(job, failed, {"errors": [{"row": 0, "message": message}]})
    job.status = ImportJob.Status.COMMITTING if job.commit else ImportJob.Status.CHECKING
    job.save(update_fields=["status"])

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=done, total_rows=total)

    result = data_import(
        access=access,
        data=bytes(job.content),
        filename=job.filename,
        commit=job.commit,
        via=job.via,
        reason=job.reason,
        progress=progress,
        job=job,
    )
    job.refresh_from_db(fields=["processed_rows", "total_rows"])
    report = _report(result)
    if result.errors:
        return _finish(job, failed, report)
    if result.committed:
        return _finish(job, ImportJob.Status.DONE, report, content=b"")
    return _finish(job, ImportJob.Status.CHECKED, report)


def _finish(job: ImportJob, status: str, report: dict, content: bytes | None = None) -> str:
    job.status = status
    job.report = report
    fields = ["status", "report", "processed_rows", "total_rows", "finished_at"]
    total = report.get("created", 0) + report.get("updated", 0) + report.get("unchanged", 0)
    # The rows of the file as counted by the check (a file with errors plans fewer).
    job.total_rows = job.processed_rows = max(job.total_rows, total)
    if status in (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.INVALID):
        job.finished_at = timezone.now()
    if content is not None:
        job.content = content
        fields.append("content")
    job.save(update_fields=fields)
    return status


# Templates per reporting assignment -------------------------------------------------------


def _current_period(assignment: ReportingAssignment, fiscal_start: int) -> periods.Period:
    """The period the assignment's organization owes now: its latest submission still
    open (a draft, returned, or not started for a period that has ended: an old gap does
    not hide the quarter being worked on); else the latest period that has ended (at most
    the last), else the first."""
    today = timezone.localdate()
    owed = (
        assignment.submissions.filter(
            Q(status__in=[Submission.Status.DRAFT, Submission.Status.RETURNED])
            | Q(status=Submission.Status.NOT_STARTED, period_end__lt=today)
        )
        .order_by("-period_start", "-pk")
        .values_list("period", flat=True)
        .first()
    )
    if owed:
        return periods.parse(owed)
    current = candidate = periods.parse(assignment.first_period)
    while candidate.end(fiscal_start) < today:
        current = candidate
        if candidate.code == assignment.last_period:
            break
        candidate = _following(candidate)
    return current


def _following(period: periods.Period) -> periods.Period:
    """The next period of the same kind."""
    kind, year, number = period.kind, period.year, period.number
    if kind == periods.MONTH:
        return periods.Period(kind, year + number // 12, number % 12 + 1)
    if kind == periods.QUARTER:
        return periods.Period(kind, year + number // 4, number % 4 + 1)
    return periods.Period(kind, year + 1, number)


def assignment_template(*, access: Access, assignment: ReportingAssignment, filename: str):
    """A tidy file with one key row per value the assignment expects for its current
    period: every measure and indicator × area × category combination of its dimensions
    (the total included); the value columns are left to fill in."""
    from backbone.measurement.data_file import KEY_COLUMNS, VALUE_COLUMNS, write_records

    framework = access.scope(Framework).first()
    fiscal_start = framework.fiscal_year_start_month if framework else 7
    period = _current_period(assignment, fiscal_start)
    subjects = [
        *assignment.measures.prefetch_related("dimensions").order_by("code"),
        *assignment.indicators.prefetch_related("dimensions").order_by("position", "code"),
    ]
    areas = [area.code for area in assignment.areas.order_by("code")] or [""]
    used = sorted(
        {d for s in subjects for d in s.dimensions.all()}, key=lambda d: (d.position, d.code)
    )
    columns = [d.code for d in used]
    categories = {
        d.code: list(
            access.scope(Category).filter(dimension=d).order_by("position", "code")
            .values_list("code", flat=True)
        )
        for d in used
        if d.kind != Dimension.Kind.GEOGRAPHY
    }  # fmt: skip
    records = [[*KEY_COLUMNS, *columns, *VALUE_COLUMNS]]
    for subject in subjects:
        own = [d.code for d in subject.dimensions.all() if d.code in categories]
        combinations = [{}]
        for code in own:
            combinations += [{code: c} for c in categories[code]]
        for area in areas:
            for combination in combinations:
                records.append(
                    [
                        subject.code,
                        period.code,
                        assignment.organization.slug,
                        area,
                        *(combination.get(code, "") for code in columns),
                        *([""] * len(VALUE_COLUMNS)),
                    ]
                )
    return write_records(records, filename), period
