"""Reporting: assignments, submissions, validation rules, import jobs and the narratives
published with the results."""

from django.db import models
from django.db.models import Q

from backbone.core.models import Area, Network, Organization
from backbone.measurement.models.framework import (
    CODE_HELP,
    Indicator,
    PerformanceMeasure,
    Result,
    _check_member,
)
from backbone.measurement.periods import validate_period_code


class ReportingAssignment(models.Model):
    """Which organization reports which measures and indicators, for which areas, how
    often and by when. Each period it covers expects one Submission."""

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="reporting_assignments"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="reporting_assignments"
    )
    name = models.CharField(max_length=200, blank=True)
    measures = models.ManyToManyField(PerformanceMeasure, blank=True, related_name="assignments")
    indicators = models.ManyToManyField(Indicator, blank=True, related_name="assignments")
    areas = models.ManyToManyField(
        Area,
        blank=True,
        related_name="reporting_assignments",
        help_text="Blank: the whole network.",
    )
    frequency = models.CharField(max_length=20, choices=Indicator.Frequency.choices)
    first_period = models.CharField(max_length=12, validators=[validate_period_code])
    last_period = models.CharField(
        max_length=12, blank=True, validators=[validate_period_code], help_text="Blank: ongoing."
    )
    due_days = models.PositiveSmallIntegerField(
        default=30, help_text="Data is due this many days after the period ends."
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=7, help_text="Remind the organization this many days before the due date."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "organization", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.organization} reports {self.get_frequency_display().lower()}"

    def clean(self) -> None:
        _check_member(self.network_id, self.organization_id)


class Submission(models.Model):
    """One organization's data for one assignment and period, reviewed as a whole:
    draft → submitted → approved | returned with comments. Its values follow it."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned with comments"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="submissions")
    assignment = models.ForeignKey(
        ReportingAssignment, on_delete=models.CASCADE, related_name="submissions"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="submissions"
    )
    period = models.CharField(max_length=12, validators=[validate_period_code])
    period_start = models.DateField()
    period_end = models.DateField()
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_comment = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["network", "-period_start", "organization", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "period"], name="submission_unique_period"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["not_started", "draft", "submitted", "approved", "returned"]
                ),
                name="submission_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["network", "status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.organization} {self.period}"

    @property
    def is_late(self) -> bool:
        """Submitted after the due date, or not submitted and past it."""
        from django.utils import timezone

        if self.submitted_at:
            return self.submitted_at.date() > self.due_date
        return timezone.localdate() > self.due_date


class ValidationRule(models.Model):
    """A network's own check on reported data: LEFT OPERATOR RIGHT, each side a sum of
    indicator or measure codes and numbers (e.g. `grade3-proficient <= grade3-tested`),
    compared within the same period, organization, area and disaggregation."""

    class Operator(models.TextChoices):
        LT = "<", "less than"
        LE = "<=", "at most"
        EQ = "==", "equal to"
        NE = "!=", "not equal to"
        GE = ">=", "at least"
        GT = ">", "more than"

    class Severity(models.TextChoices):
        ERROR = "error", "Error: the data cannot be saved"
        WARNING = "warning", "Warning: needs a comment"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="validation_rules")
    code = models.SlugField(max_length=60, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    left = models.CharField(max_length=500, help_text="e.g. grade3-proficient")
    operator = models.CharField(max_length=2, choices=Operator.choices)
    right = models.CharField(max_length=500, help_text="e.g. grade3-tested")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.ERROR)
    message = models.CharField(max_length=300, blank=True, help_text="Shown when the rule fails.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["network", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="validationrule_unique_code"),
            models.CheckConstraint(
                condition=Q(operator__in=["<", "<=", "==", "!=", ">=", ">"]),
                name="validationrule_operator_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.left} {self.operator} {self.right}"


class ImportJob(models.Model):
    """A data file sent on the web or the API: checked, previewed, then committed whole
    by a background task that reports its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Checked: ready to commit"
        INVALID = "invalid", "Has errors: nothing written"
        COMMITTING = "committing", "Writing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed: nothing written"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="import_jobs")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.BinaryField(help_text="The file as sent, until the job is done.")
    sha256 = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=200, blank=True)
    via = models.CharField(max_length=20, default="web")
    reason = models.TextField(blank=True)
    commit = models.BooleanField(default=False, help_text="Write when the check passes.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    report = models.JSONField(
        default=dict, blank=True, help_text="Errors, warnings and counts of the check and commit."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["network", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="importjob_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class ResultNarrative(models.Model):
    """The "story behind the curve" of a result for one year (Results-Based
    Accountability): what drives the trend, who can help, what works, what we will do."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="narratives")
    year = models.PositiveSmallIntegerField()
    story = models.TextField(help_text="The story behind the curve.")
    partners = models.TextField(blank=True, help_text="Partners with a role to play.")
    what_works = models.TextField(blank=True, help_text="What works to turn the curve.")
    action_plan = models.TextField(blank=True, help_text="What the network will do.")
    updated_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["network", "result", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["result", "year"], name="resultnarrative_unique_year"),
        ]

    def __str__(self) -> str:
        return f"{self.result.code} {self.year}"
