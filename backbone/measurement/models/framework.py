"""The results framework: results, indicators, partner performance measures, strategies,
disaggregation dimensions and the targets set against them.

Every row carries `network` (STYLE.md); stable `code`s are the natural keys that the
YAML export and import use.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

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
