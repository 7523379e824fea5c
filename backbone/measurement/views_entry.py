"""Reporting pages: assignments, "My reporting", the data-entry grid of a submission, the
review queue, a submission's history and the completeness of the network's reporting."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from backbone.core.models import Organization
from backbone.core.web import members_only, network_view
from backbone.measurement import reporting, submissions
from backbone.measurement.forms_entry import AssignmentForm, CorrectionForm, ReturnForm
from backbone.measurement.models import (
    Category,
    DataValue,
    DataValueVersion,
    Dimension,
    ReportingAssignment,
    Submission,
)
from backbone.measurement.services import TRACKED


def _url(name: str, access, *args) -> str:
    return reverse(f"measurement:{name}", args=[access.network.slug, *args])


def _sync(access) -> None:
    reporting.submissions_sync(access.network, timezone.localdate())


# Assignments ----------------------------------------------------------------------------


@network_view
@members_only
def assignment_list(request, access):
    access.require_allowed(ReportingAssignment)
    assignments = (
        access.scope(ReportingAssignment)
        .select_related("organization")
        .prefetch_related("indicators", "measures", "areas")
        .order_by("organization__name", "pk")
    )
    page = Paginator(assignments, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "measurement/assignment_list.html",
        {"access": access, "page": page, "can_add": access.allows(ReportingAssignment, "add")},
    )


def _assignment_form(request, access, form, heading):
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": heading,
            "intro": "Which organization reports which indicators and measures, for which "
            "areas, how often and by when.",
            "cancel_url": _url("assignment-list", access),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@network_view
@members_only
def assignment_create(request, access):
    access.require_allowed(ReportingAssignment, "add")
    form = AssignmentForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            assignment = submissions.assignment_create(access=access, fields=form.model_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Added the assignment “{assignment}”.")
            return redirect(_url("assignment-list", access))
    return _assignment_form(request, access, form, "Add a reporting assignment")


@network_view
@members_only
def assignment_edit(request, access, pk: int):
    assignment = access.get_object(ReportingAssignment, "change", pk=pk)
    form = AssignmentForm(request.POST or None, instance=assignment, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            submissions.assignment_update(
                access=access, assignment=assignment, fields=form.model_fields()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved the assignment “{assignment}”.")
            return redirect(_url("assignment-list", access))
    return _assignment_form(request, access, form, f"Edit “{assignment}”")


# My reporting and the review queue --------------------------------------------------------


@network_view
@members_only
def submission_list(request, access):
    access.require_allowed(Submission)
    _sync(access)
    queryset = access.scope(Submission).select_related("organization", "assignment")
    status = request.GET.get("status", "")
    if status in Submission.Status.values:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset.order_by("-due_date", "organization__name", "pk"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "measurement/submission_list.html",
        {
            "access": access,
            "page": page,
            "status": status,
            "statuses": Submission.Status.choices,
            "today": timezone.localdate(),
            "heading": "Reporting" if access.is_admin else "My reporting",
        },
    )


@network_view
@members_only
def review_list(request, access):
    if not access.is_admin:
        raise PermissionDenied("Only network admins review submissions.")
    queryset = (
        access.scope(Submission)
        .filter(status=Submission.Status.SUBMITTED)
        .select_related("organization", "assignment", "submitted_by")
        .order_by("submitted_at", "pk")
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "measurement/review_list.html", {"access": access, "page": page})


# One submission ---------------------------------------------------------------------------


def _entries(post) -> dict[str, dict[str, str]]:
    entries: dict[str, dict[str, str]] = {}
    for name, text in post.items():
        key, _, column = name.rpartition(":")
        if key.startswith("row-") and column in submissions.AMOUNTS:
            entries.setdefault(key.removeprefix("row-"), {})[column] = text
    return entries


@network_view
@members_only
def submission_edit(request, access, pk: int):
    submission = access.get_object(Submission, "change", pk=pk)
    correcting = submission.status == Submission.Status.APPROVED
    if correcting and not access.is_admin:
        raise PermissionDenied("This submission is approved and locked.")
    rows = submissions.grid_rows(access=access, submission=submission)
    errors, reason_form = [], CorrectionForm(request.POST or None) if correcting else None
    if request.method == "POST" and (reason_form is None or reason_form.is_valid()):
        reason = reason_form.cleaned_data["reason"] if reason_form else ""
        try:
            rows, errors = submissions.submission_save(
                access=access, submission=submission, entries=_entries(request.POST), reason=reason
            )
            if not errors and request.POST.get("action") == "submit":
                submissions.submission_submit(access=access, submission=submission)
                messages.success(request, "Submitted for review.")
                return redirect(_url("submission-detail", access, submission.pk))
        except ValidationError as exc:
            errors = [" ".join(exc.messages)]
        if not errors:
            messages.success(request, "Correction saved." if correcting else "Draft saved.")
            return redirect(_url("submission-edit", access, submission.pk))
    return render(
        request,
        "measurement/submission_grid.html",
        {
            "access": access,
            "submission": submission,
            "rows": rows,
            "errors": errors,
            "reason_form": reason_form,
            "editable": correcting or submission.status in submissions.EDITABLE,
        },
        status=400 if errors or (reason_form is not None and reason_form.errors) else 200,
    )


def _changes(version: DataValueVersion) -> list[tuple[str, str, str]]:
    old, new = version.old or {}, version.new or {}
    if version.old is None:  # the first version: what it was created with
        return [(name, "", new[name]) for name in TRACKED if new.get(name)]
    return [
        (name, old.get(name) or "", new.get(name) or "")
        for name in TRACKED
        if (old.get(name) or "") != (new.get(name) or "")
    ]


def _breakdown(access, values) -> dict[int, str]:
    """Each value's categories for people: "Race: Asian" ("Total" when there are none)."""
    dimensions = dict(access.scope(Dimension).values_list("code", "name"))
    names = {
        (dimension, code): name
        for dimension, code, name in access.scope(Category).values_list(
            "dimension__code", "code", "name"
        )
    }
    return {
        value.pk: ", ".join(
            f"{dimensions.get(d, d)}: {names.get((d, c), c)}"
            for d, c in sorted(value.categories.items())
        )
        or "Total"
        for value in values
    }


@network_view
@members_only
def submission_detail(request, access, pk: int):
    submission = access.get_object(Submission, pk=pk)
    values = (
        access.scope(DataValue)
        .filter(submission=submission)
        .select_related("indicator", "measure", "area")
        .order_by("indicator__code", "measure__code", "area__name", "disaggregation")
    )
    breakdown = _breakdown(access, values)
    versions = {}
    for version in (
        access.scope(DataValueVersion)
        .filter(data_value__submission=submission)
        .select_related("changed_by")
        .order_by("data_value", "version")
    ):
        versions.setdefault(version.data_value_id, []).append((version, _changes(version)))
    return render(
        request,
        "measurement/submission_detail.html",
        {
            "access": access,
            "submission": submission,
            "values": [
                (value, breakdown[value.pk], versions.get(value.pk, [])) for value in values
            ],
            "return_form": ReturnForm(),
            "can_edit": access.can("change", submission)
            and (submission.status in submissions.EDITABLE or access.is_admin),
        },
    )


@network_view
@members_only
@require_POST
def submission_review(request, access, pk: int):
    submission = access.get_object(Submission, pk=pk)
    if not access.is_admin:
        raise PermissionDenied("Only network admins review submissions.")
    action = request.POST.get("action")
    form = ReturnForm(request.POST)
    try:
        if action == "approve":
            submissions.submission_approve(access=access, submission=submission)
            messages.success(request, f"Approved {submission}.")
        elif action == "return" and form.is_valid():
            submissions.submission_return(
                access=access, submission=submission, comment=form.cleaned_data["comment"]
            )
            messages.success(request, f"Returned {submission} with your comment.")
        else:
            messages.error(request, "To return a submission, say what to fix in the comment.")
            return redirect(_url("submission-detail", access, submission.pk))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(_url("review-list", access))


# Completeness -----------------------------------------------------------------------------


@network_view
@members_only
def completeness_report(request, access):
    access.require_allowed(Submission)
    _sync(access)
    organization = None
    slug = request.GET.get("organization", "")
    if slug:
        organization = access.scope(Organization).filter(slug=slug).first()
    today = timezone.localdate()
    report = reporting.completeness(access, today=today, organization=organization)
    rows = [
        (
            org,
            [report.cells.get((org.pk, code)) for code in report.periods],
            report.by_organization[org.pk],
        )
        for org in report.organizations
    ]
    return render(
        request,
        "measurement/completeness.html",
        {
            "access": access,
            "report": report,
            "rows": rows,
            "totals": [report.by_period[code] for code in report.periods],
            "today": today,
        },
    )
