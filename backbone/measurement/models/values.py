"""Data values: the current value of each indicator or measure per period, organization,
area and disaggregation, and the history of every change."""

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from backbone.core.models import Area, Network, Organization
from backbone.measurement.models.framework import Indicator, PerformanceMeasure
from backbone.measurement.periods import validate_period_code


def _natural_key(subject: str) -> models.UniqueConstraint:
    """The natural key (network, SUBJECT, period, organization, area, disaggregation) of
    the values of one kind of subject, as one unique index on SQLite and PostgreSQL.

    NULLs are distinct in unique indexes, so the absent organization and area are keyed
    as 0 (no row has that id). The indicator's index holds every row (a measure's value,
    whose indicator is NULL, never clashes in it), so its leading columns also serve the
    lookups by network alone; the measure's holds only measure values.
    """
    blank = {"output_field": models.BigIntegerField()}
    return models.UniqueConstraint(
        F("network"),
        F(subject),
        F("period"),
        Coalesce("organization", Value(0), **blank),
        Coalesce("area", Value(0), **blank),
        F("disaggregation"),
        condition=None if subject == "indicator" else Q(**{f"{subject}__isnull": False}),
        name=f"datavalue_{subject}_natural_key",
        violation_error_message="This value already exists (same subject, period, "
        "organization, area and disaggregation).",
    )


class DataValue(models.Model):
    """The current value of one indicator (or one performance measure) for one period,
    organization, area and disaggregation. Its history lives in DataValueVersion;
    approved values are locked. Exactly one of `indicator` and `measure` is set."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned with comments"

    # Every index is paid for on each of millions of imported rows, so the table keeps
    # only those a query uses (see Meta): the natural keys lead with (network, subject,
    # period) and serve the lookups by network and subject; submission and organization
    # have partial indexes; no query looks values up by the other foreign keys.
    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="data_values", db_index=False
    )
    indicator = models.ForeignKey(
        Indicator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,
    )
    measure = models.ForeignKey(
        PerformanceMeasure,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,
    )
    submission = models.ForeignKey(
        "Submission",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="values",
        db_index=False,
    )
    period = models.CharField(max_length=12, validators=[validate_period_code])
    period_start = models.DateField()
    period_end = models.DateField()
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_values",
        db_index=False,
    )
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_values",
        db_index=False,
    )
    disaggregation = models.CharField(
        max_length=400,
        blank=True,
        help_text='Sorted "dimension=category;..." codes; empty for the total.',
    )
    categories = models.JSONField(
        default=dict, blank=True, help_text="The same as a {dimension: category} mapping."
    )
    value = models.DecimalField(max_digits=18, decimal_places=4)
    numerator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    comment = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    review_comment = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )  # fmt: skip
    updated_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "period_start", "period", "organization", "area", "disaggregation"]
        constraints = [
            _natural_key("indicator"),
            _natural_key("measure"),
            models.CheckConstraint(
                condition=Q(indicator__isnull=False, measure__isnull=True)
                | Q(indicator__isnull=True, measure__isnull=False),
                name="datavalue_indicator_or_measure",
                violation_error_message="A data value is of an indicator or of a measure.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "approved", "returned"]),
                name="datavalue_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="datavalue_period_dates_ordered",
            ),
        ]
        indexes = [
            # A submission's values (review, approval); most imported values have none.
            models.Index(
                fields=["submission"],
                condition=Q(submission__isnull=False),
                name="datavalue_submission",
            ),
            # An organization's own values (its members' scope, partner dashboards);
            # population data, most of the rows, has none.
            models.Index(
                fields=["organization"],
                condition=Q(organization__isnull=False),
                name="datavalue_organization",
            ),
        ]

    def __str__(self) -> str:
        parts = [self.organization_id and str(self.organization), self.area_id and str(self.area)]
        where = "/".join(part for part in [*parts, self.disaggregation] if part)
        return f"{self.subject.code} {self.period} {where or 'total'}"

    @property
    def subject(self) -> Indicator | PerformanceMeasure:
        """The indicator or the performance measure this value is of."""
        return self.indicator if self.indicator_id else self.measure


class DataValueVersion(models.Model):
    """One change of a data value: who, when, the values before and after, and why."""

    # One row per imported value: only the unique (data_value, version) is indexed; it
    # serves a value's history and the cascade from the value.
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    data_value = models.ForeignKey(
        DataValue, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    version = models.PositiveIntegerField()
    changed_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )  # fmt: skip
    changed_at = models.DateTimeField(auto_now_add=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField()
    reason = models.TextField(blank=True)
    via = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["data_value", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["data_value", "version"], name="datavalueversion_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_value} v{self.version}"
