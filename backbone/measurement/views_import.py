"""Web upload of data files with a progress bar, the per-assignment templates, and the
network's validation rules (list, add, edit, delete through core.crud)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from backbone.core.crud import Column, Crud
from backbone.core.forms import ScopedModelForm
from backbone.core.web import members_only, network_view
from backbone.measurement import data_file, import_jobs, validation_rules
from backbone.measurement.models import ImportJob, ReportingAssignment, ValidationRule

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class DataUploadForm(forms.Form):
    file = forms.FileField(
        label="Data file",
        help_text="A .csv file (UTF-8) or an .xlsx workbook (the first sheet), at most "
        f"{data_file.MAX_BYTES // (1024 * 1024)} MB, in the tidy format: one row per value.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        if upload.size > data_file.MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {data_file.MAX_BYTES // (1024 * 1024)} MB; split it."
            )
        return upload


@network_view
@members_only
def import_job_create(request, access):
    """Upload a data file: it is stored as a job and checked in the background."""
    access.require_allowed(ImportJob, "add", message="Your role does not report data.")
    form = DataUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job, _ = import_jobs.import_job_create(
            access=access, data=upload.read(), filename=upload.name, via="web"
        )
        return redirect("measurement:import-job-detail", access.network.slug, job.pk)
    jobs = access.scope(ImportJob).defer("content").select_related("created_by")[:20]
    return render(
        request,
        "measurement/import/upload.html",
        {
            "access": access,
            "form": form,
            "jobs": jobs,
            "columns": data_file.data_columns(access),
            "assignments": access.scope(ReportingAssignment)
            .filter(is_active=True)
            .select_related("organization")[:50],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@network_view
@members_only
def import_job_detail(request, access, pk: int):
    """The job's progress (polled by htmx while it runs), preview and report."""
    job = access.get_object(ImportJob, pk=pk)
    page = {
        "access": access,
        "job": job,
        "running": job.status in import_jobs.RUNNING,
        "percent": int(100 * job.processed_rows / job.total_rows) if job.total_rows else 0,
        "report": job.report or {},
        "can_commit": job.status == ImportJob.Status.CHECKED
        and (job.created_by_id == request.user.pk or access.is_admin),
    }
    if request.headers.get("HX-Request"):
        return render(request, "measurement/import/_job.html", page)
    return render(request, "measurement/import/job.html", page)


@network_view
@members_only
def import_job_commit(request, access, pk: int):
    job = access.get_object(ImportJob, pk=pk)
    if request.method != "POST":
        return redirect("measurement:import-job-detail", access.network.slug, job.pk)
    try:
        import_jobs.import_job_commit(access=access, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("measurement:import-job-detail", access.network.slug, job.pk)


@network_view
@members_only
def assignment_template(request, access, pk: int, extension: str):
    """The tidy file to fill in for an assignment's current period."""
    assignment = access.get_object(ReportingAssignment, pk=pk)
    filename = f"{access.network.slug}-assignment-{assignment.pk}.{extension}"
    data, period = import_jobs.assignment_template(
        access=access, assignment=assignment, filename=filename
    )
    name = f"{access.network.slug}-{assignment.organization.slug}-{period.code}.{extension}"
    response = HttpResponse(data, content_type=CONTENT_TYPES[extension])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# Validation rules --------------------------------------------------------------------------


class ValidationRuleForm(ScopedModelForm):
    class Meta:
        model = ValidationRule
        fields = ["code", "name", "left", "operator", "right", "severity", "message", "is_active"]
        help_texts = {
            "left": "Indicator or measure codes and numbers joined by “ + ” or “ - ” "
            "(spaces around), e.g. grade3-proficient or enrolled[gender=female] + "
            "enrolled[gender=male].",
            "right": "The same, e.g. grade3-tested or enrolled.",
        }

    def clean(self):
        cleaned = super().clean()
        problems = validation_rules.check_definition(
            self.access, cleaned.get("left", ""), cleaned.get("right", "")
        )
        for name, message in problems.items():
            self.add_error(name, message)
        return cleaned


rules = Crud(
    model=ValidationRule,
    form_class=ValidationRuleForm,
    entity="validation-rule",
    prefix="data/rules",
    title="Validation rules",
    intro="The network's own checks on reported data, applied to every import, upload and "
    "API call: the left side compared with the right side within the same period, "
    "organization, area and categories. An error blocks the data; a warning needs a comment.",
    columns=[
        Column("Code", lambda r: r.code),
        Column("Rule", lambda r: r.name),
        Column("Check", lambda r: f"{r.left} {r.operator} {r.right}"),
        Column("Severity", lambda r: r.get_severity_display()),
        Column("Active", lambda r: "yes" if r.is_active else "no"),
    ],
    search_fields=["code", "name", "left", "right"],
)
