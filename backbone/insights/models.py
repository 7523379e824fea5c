"""Analytics tables of the insights app (see backbone.insights.analytics).

They hold derived data only: everything here can be rebuilt from the approved data values
(`backbone analytics rebuild --network SLUG`) and is kept fresh value by value by
`backbone.insights.refresh`. Amounts are stored as whole numbers of ten-thousandths
(DataValue keeps 4 decimal places), so sums and re-sums are exact on SQLite and
PostgreSQL alike.
"""

from django.db import models
from django.db.models import Q

from backbone.core.models import Area, Network
from backbone.measurement.models import Indicator, PerformanceMeasure

SCALE = 10_000  # amounts are stored in ten-thousandths


class AnalyticsState(models.Model):
    """When a network's analytics were last rebuilt and refreshed."""

    network = models.OneToOneField(Network, on_delete=models.CASCADE, related_name="+")
    rebuilt_at = models.DateTimeField()
    rebuild_seconds = models.FloatField(default=0)
    cells = models.PositiveBigIntegerField(default=0)
    refreshed_at = models.DateTimeField()
    version = models.PositiveBigIntegerField(
        default=0,
        help_text="Goes up with every rebuild and refresh, in the same transaction as the "
        "cells, so figures cached under one version are never stale.",
    )

    def __str__(self) -> str:
        return f"Analytics of {self.network}"


class AnalyticsAreaPath(models.Model):
    """One ancestor of an area (the network itself is the ancestor with `ancestor` null),
    so roll-ups through the area hierarchy are one join."""

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+", db_index=False)
    ancestor = models.ForeignKey(
        Area, null=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    depth = models.PositiveSmallIntegerField(help_text="1 = the parent, 2 = its parent ...")

    class Meta:
        indexes = [models.Index(fields=["area", "depth"], name="insights_areapath_area")]

    def __str__(self) -> str:
        return f"{self.area_id} in {self.ancestor_id or 'network'}"


class AnalyticsPeriod(models.Model):
    """A longer period a reported period rolls up into (2024-05 → 2024-Q2, 2024,
    SY2023-24, FY2024), with the network's fiscal year."""

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    source = models.CharField(max_length=12)
    target = models.CharField(max_length=12)
    target_kind = models.CharField(max_length=20)
    target_start = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "source", "target"], name="insights_period_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class AnalyticsCell(models.Model):
    """One pre-aggregated figure: the sums of the approved values of one indicator or
    measure for one period, area (null = the whole network) and disaggregation, from
    population data or from partners' data (`source`).

    `rollup` says how the figure was made: 0 reported for exactly this area and period,
    1 summed from areas inside this one, 2 summed from shorter periods, 3 both. Reads
    take the lowest rollup of a key, so a figure reported for an area or period wins
    over the sum of its parts."""

    class Source(models.TextChoices):
        POPULATION = "population", "Population data"
        PARTNERS = "partners", "Partners' data"

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    indicator = models.ForeignKey(
        Indicator,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    measure = models.ForeignKey(
        PerformanceMeasure,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    period = models.CharField(max_length=12)
    period_kind = models.CharField(max_length=20)
    period_start = models.DateField()
    rollup = models.PositiveSmallIntegerField(default=0)
    area = models.ForeignKey(
        Area,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    disaggregation = models.CharField(max_length=400, blank=True)
    value_sum = models.BigIntegerField(null=True)
    numerator_sum = models.BigIntegerField(null=True)
    denominator_sum = models.BigIntegerField(null=True)
    sources = models.PositiveIntegerField(help_text="How many reported values went in.")

    class Meta:
        indexes = [
            # series, scorecard, breakdowns and areas: subject, area, key, period
            models.Index(
                fields=["indicator", "area", "disaggregation", "period"],
                condition=Q(indicator__isnull=False),
                name="insights_cell_indicator",
            ),
            models.Index(
                fields=["measure", "area", "disaggregation", "period"],
                condition=Q(measure__isnull=False),
                name="insights_cell_measure",
            ),
            # refreshing: subject, period (all areas and keys)
            models.Index(
                fields=["indicator", "period"],
                condition=Q(indicator__isnull=False),
                name="insights_cell_indicator_period",
            ),
            models.Index(
                fields=["measure", "period"],
                condition=Q(measure__isnull=False),
                name="insights_cell_measure_period",
            ),
        ]

    def __str__(self) -> str:
        subject = self.indicator_id or f"m{self.measure_id}"
        return f"{subject} {self.period} {self.area_id or 'network'} {self.disaggregation}"
