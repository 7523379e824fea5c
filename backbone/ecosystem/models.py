"""The ecosystem of programs: need indicators behind the gap map, and designed referral
pathways between services and need categories."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from backbone.core.models import LifeStage, Network, Organization
from backbone.directory.models import Service, TaxonomyTerm
from backbone.measurement.models import Indicator


class NeedIndicator(models.Model):
    """Which indicator measures need for one need category (and optionally one life stage).

    The gap map compares each area's latest approved value of the indicator with the
    network's, the right way round for the indicator's polarity."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(
        "need category",
        max_length=60,
        help_text="A top-level code of the need categories, e.g. education.",
    )
    life_stage = models.ForeignKey(
        LifeStage,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every life stage without a mapping of its own.",
    )
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["network", "category", "life_stage__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "category", "life_stage"],
                name="needindicator_unique_stage",
            ),
            models.UniqueConstraint(
                fields=["network", "category"],
                condition=Q(life_stage__isnull=True),
                name="needindicator_unique_any_stage",
            ),
        ]

    def __str__(self) -> str:
        stage = self.life_stage.name if self.life_stage_id else "any life stage"
        return f"{self.category} × {stage} → {self.indicator.name}"

    def clean(self) -> None:
        errors = {}
        if self.life_stage_id and self.life_stage.network_id != self.network_id:
            errors["life_stage"] = "Choose a life stage of this network."
        if self.indicator_id and self.indicator.network_id != self.network_id:
            errors["indicator"] = "Choose an indicator of this network."
        if errors:
            raise ValidationError(errors)


class Pathway(models.Model):
    """A designed referral pathway: steps people take from one service to the next."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The partner that keeps this pathway up to date; empty for the backbone.",
    )
    life_stages = models.ManyToManyField(LifeStage, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="pathway_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.owner_organization_id
            and not self.owner_organization.memberships.filter(network_id=self.network_id).exists()
        ):
            raise ValidationError({"owner_organization": "Choose an organization of this network."})


class PathwayStep(models.Model):
    """One step: a need category (services found by category and life stage) and/or
    specific services."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(
        "order", default=0, help_text="Steps are drawn left to right by order."
    )
    life_stage = models.ForeignKey(
        LifeStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.ForeignKey(
        TaxonomyTerm,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="need category",
    )
    services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="+",
        help_text="Specific services; when empty, the step uses every active service of "
        "its category (and life stage).",
    )
    is_final = models.BooleanField(
        "final step",
        default=False,
        help_text="A pathway may end here. When no step is marked, the last steps are final.",
    )

    class Meta:
        ordering = ["pathway", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "name"], name="pathwaystep_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.pathway_id and self.pathway.network_id != self.network_id:
            errors["pathway"] = "The pathway must be in the same network."
        if self.life_stage_id and self.life_stage.network_id != self.network_id:
            errors["life_stage"] = "Choose a life stage of this network."
        if self.category_id and self.category.network_id != self.network_id:
            errors["category"] = "Choose a need category of this network."
        if errors:
            raise ValidationError(errors)


class PathwayEdge(models.Model):
    """An onward referral from one step to the next (a step may branch to several)."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="edges")
    from_step = models.ForeignKey(PathwayStep, on_delete=models.CASCADE, related_name="out_edges")
    to_step = models.ForeignKey(PathwayStep, on_delete=models.CASCADE, related_name="in_edges")

    class Meta:
        ordering = ["pathway", "from_step__position", "to_step__position"]
        constraints = [
            models.UniqueConstraint(fields=["from_step", "to_step"], name="pathwayedge_unique"),
            models.CheckConstraint(
                condition=~Q(from_step=F("to_step")), name="pathwayedge_not_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_step} → {self.to_step}"
