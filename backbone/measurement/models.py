"""The results framework: results, indicators, partner performance measures, strategies,
disaggregation dimensions and the targets set against them.

Every row carries `network` (STYLE.md); stable `code`s are the natural keys that the
YAML export and import use.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from backbone.core.models import Area, LifeStage, Membership, Network, Organization
from backbone.measurement.periods import validate_period_code

CODE_HELP = "A stable code; files refer to the row by it."


class Framework(models.Model):
    """Per-network settings of the results framework."""

    network = models.OneToOneField(Network, on_delete=models.CASCADE, related_name="framework")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=7, help_text="The month (1–12) the network's fiscal year starts in."
    )
    description = models.TextField(blank=True)
    suppression_k = models.PositiveSmallIntegerField(
        default=11,
        help_text="Small-cell threshold: counts, numerators and denominators from 1 to k−1 "
        "are suppressed wherever data leaves the network (11 as CMS does; 10 is common in "
        "education).",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="framework_fiscal_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(suppression_k__gte=2), name="framework_suppression_k_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Results framework of {self.network}"


class Dimension(models.Model):
    """A way to disaggregate data (race/ethnicity, gender, income band, geography ...)."""

    class Kind(models.TextChoices):
        CATEGORICAL = "categorical", "Categories"
        GEOGRAPHY = "geography", "Geography (the network's areas)"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="dimensions")
    code = models.SlugField(max_length=40, help_text=CODE_HELP)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CATEGORICAL)
    area_kind = models.CharField(
        max_length=20,
        choices=Area.Kind.choices,
        blank=True,
        help_text="For geography: the level of the area hierarchy data is broken down by.",
    )
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["network", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="dimension_unique_code"),
            models.CheckConstraint(
                condition=Q(kind="geography") | Q(area_kind=""),
                name="dimension_area_kind_only_for_geography",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """One category of a categorical dimension; geography takes its categories from Area."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="categories")
    code = models.SlugField(max_length=40, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["dimension", "position", "code"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="category_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}: {self.name}"

    def clean(self) -> None:
        if self.dimension_id is None:
            return
        if self.dimension.network_id != self.network_id:
            raise ValidationError({"dimension": "The dimension must be in the same network."})
        if self.dimension.kind == Dimension.Kind.GEOGRAPHY:
            raise ValidationError(
                {"dimension": "A geography dimension takes its categories from the areas."}
            )


class Result(models.Model):
    """A population-level condition of well-being, e.g. "Children are ready for school"."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="results")
    code = models.SlugField(max_length=60, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    life_stage = models.ForeignKey(LifeStage, on_delete=models.PROTECT, related_name="results")
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["network", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="result_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.life_stage_id and self.life_stage.network_id != self.network_id:
            raise ValidationError({"life_stage": "The life stage must be in the same network."})


class Unit(models.TextChoices):
    COUNT = "count", "Count"
    PERCENT = "percent", "Percent"
    RATE = "rate", "Rate per N"
    CURRENCY = "currency", "Currency"
    SCORE = "score", "Score"


class Polarity(models.TextChoices):
    HIGHER = "higher_is_better", "Higher is better"
    LOWER = "lower_is_better", "Lower is better"


class Indicator(models.Model):
    """A population-level measure of a result, with its baseline and the way it is built."""

    class Formula(models.TextChoices):
        DIRECT = "direct", "A direct value"
        RATIO = "ratio", "Numerator / denominator"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum across organizations and areas"
        WEIGHTED = "weighted", "Weighted by denominator"
        NONE = "none", "Not aggregatable"

    class Frequency(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        SCHOOL_YEAR = "school_year", "School year (July–June)"
        CALENDAR_YEAR = "calendar_year", "Calendar year"
        FISCAL_YEAR = "fiscal_year", "Fiscal year"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="indicators")
    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="indicators")
    code = models.SlugField(max_length=60, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    definition = models.TextField()
    unit = models.CharField(max_length=10, choices=Unit.choices)
    rate_per = models.PositiveIntegerField(
        null=True, blank=True, help_text="For rates: per how many (e.g. 1000)."
    )
    polarity = models.CharField(max_length=20, choices=Polarity.choices)
    formula = models.CharField(max_length=10, choices=Formula.choices, default=Formula.DIRECT)
    numerator = models.TextField(blank=True, help_text="For ratios: what is counted on top.")
    denominator = models.TextField(blank=True, help_text="For ratios: the population counted.")
    aggregation = models.CharField(max_length=10, choices=Aggregation.choices)
    frequency = models.CharField(max_length=20, choices=Frequency.choices)
    data_source = models.TextField(blank=True)
    evidence = models.TextField(
        blank=True, help_text="Why this is a research-based milestone of the result."
    )
    baseline_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    baseline_period = models.CharField(max_length=12, blank=True, validators=[validate_period_code])
    dimensions = models.ManyToManyField(Dimension, blank=True, related_name="indicators")
    position = models.PositiveSmallIntegerField(default=0)
    is_public = models.BooleanField(
        default=False,
        help_text="Shown on the public report card and in the open data (suppressed).",
    )
    system_source = models.CharField(
        max_length=40,
        blank=True,
        help_text="Set when Backbone computes the values itself (e.g. referrals): nobody "
        "enters them, and imports refuse them.",
    )

    class Meta:
        ordering = ["network", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="indicator_unique_code"),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="indicator_unit_valid"),
            models.CheckConstraint(
                condition=Q(formula="direct") | (~Q(numerator="") & ~Q(denominator="")),
                name="indicator_ratio_needs_both_terms",
                violation_error_message="A numerator / denominator formula needs both terms.",
            ),
            models.CheckConstraint(
                condition=~Q(unit="rate") | Q(rate_per__isnull=False),
                name="indicator_rate_needs_base",
                violation_error_message="A rate needs its base (rate per how many).",
            ),
            models.CheckConstraint(
                condition=~Q(aggregation="weighted") | Q(formula="ratio"),
                name="indicator_weighted_needs_ratio",
                violation_error_message="Weighting by denominator needs a ratio formula.",
            ),
            models.CheckConstraint(
                condition=Q(baseline_value__isnull=True, baseline_period="")
                | (Q(baseline_value__isnull=False) & ~Q(baseline_period="")),
                name="indicator_baseline_complete",
                violation_error_message="A baseline needs both its value and its period.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    def clean(self) -> None:
        if self.result_id and self.result.network_id != self.network_id:
            raise ValidationError({"result": "The result must be in the same network."})


class IndicatorTarget(models.Model):
    """The value the network aims for on an indicator in one period."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    period = models.CharField(max_length=12, validators=[validate_period_code])
    value = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["indicator", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"], name="indicatortarget_one_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} target for {self.period}"

    def clean(self) -> None:
        if self.indicator_id and self.indicator.network_id != self.network_id:
            raise ValidationError({"indicator": "The indicator must be in the same network."})


def _check_member(network_id, organization_id) -> None:
    if (
        organization_id
        and not Membership.objects.filter(
            network_id=network_id, organization_id=organization_id
        ).exists()
    ):
        raise ValidationError({"organization": "That organization is not in this network."})


class PerformanceMeasure(models.Model):
    """A partner or program-level measure that contributes to population indicators.

    With an organization it is that partner's own measure; without, a shared measure the
    network defines for every partner (each partner then sets its own targets).
    """

    class Category(models.TextChoices):
        HOW_MUCH = "how_much", "How much did we do?"
        HOW_WELL = "how_well", "How well did we do it?"
        BETTER_OFF = "better_off", "Is anyone better off?"

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="performance_measures"
    )
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="performance_measures",
    )
    code = models.SlugField(max_length=60, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=12, choices=Category.choices)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    polarity = models.CharField(max_length=20, choices=Polarity.choices)
    formula = models.CharField(
        max_length=10, choices=Indicator.Formula.choices, default=Indicator.Formula.DIRECT
    )
    aggregation = models.CharField(
        max_length=10, choices=Indicator.Aggregation.choices, default=Indicator.Aggregation.SUM
    )
    frequency = models.CharField(
        max_length=20, choices=Indicator.Frequency.choices, default=Indicator.Frequency.QUARTER
    )
    system_source = models.CharField(
        max_length=40,
        blank=True,
        help_text="Set when Backbone computes the values itself (e.g. referrals): nobody "
        "enters them, and imports refuse them.",
    )
    contributes_to = models.ManyToManyField(Indicator, blank=True, related_name="measures")
    dimensions = models.ManyToManyField(Dimension, blank=True, related_name="measures")

    class Meta:
        ordering = ["network", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="measure_unique_code"),
            models.CheckConstraint(
                condition=Q(category__in=["how_much", "how_well", "better_off"]),
                name="measure_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    def clean(self) -> None:
        _check_member(self.network_id, self.organization_id)


class MeasureTarget(models.Model):
    """One partner's target on a performance measure for one period."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    measure = models.ForeignKey(
        PerformanceMeasure, on_delete=models.CASCADE, related_name="targets"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=12, validators=[validate_period_code])
    value = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["measure", "organization", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "organization", "period"],
                name="measuretarget_one_per_partner_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} target for {self.period}"

    def clean(self) -> None:
        if self.measure_id is None:
            return
        if self.measure.network_id != self.network_id:
            raise ValidationError({"measure": "The measure must be in the same network."})
        owner = self.measure.organization_id
        if owner and self.organization_id and owner != self.organization_id:
            raise ValidationError(
                {"organization": "Only the measure's own organization sets targets on it."}
            )
        _check_member(self.network_id, self.organization_id)


class Strategy(models.Model):
    """How partner programs move results: the program, who runs it, which results."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="strategies")
    code = models.SlugField(max_length=60, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="The program and how it works.")
    organizations = models.ManyToManyField(Organization, blank=True, related_name="strategies")
    results = models.ManyToManyField(Result, blank=True, related_name="strategies")
    measures = models.ManyToManyField(PerformanceMeasure, blank=True, related_name="strategies")

    class Meta:
        ordering = ["network", "code"]
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="strategy_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


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
