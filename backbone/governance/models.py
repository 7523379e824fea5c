from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from backbone.core.models import LifeStage, Network, Organization


class WorkingGroup(models.Model):
    """A group of partners that plans and carries out part of the shared work."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="working_groups")
    name = models.CharField(max_length=200)
    charter = models.TextField(help_text="What the group is for and what it decides.")
    life_stage = models.ForeignKey(
        LifeStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="working_groups"
    )
    organizations = models.ManyToManyField(
        Organization, blank=True, related_name="working_groups", verbose_name="member organizations"
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="working_groups",
        verbose_name="members",
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chaired_groups",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="workinggroup_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.life_stage_id and self.life_stage.network_id != self.network_id:
            raise ValidationError({"life_stage": "Choose a life stage of this network."})
