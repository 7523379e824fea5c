from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from backbone.core.models import Network, Organization

SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class ProspectAssessment(models.Model):
    """The backbone's view of a prospective partner: how much it matters and how aligned."""

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="prospect_assessments"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="prospect_assessments"
    )
    influence = models.PositiveSmallIntegerField(
        validators=SCORE, help_text="1 (little) to 5 (decisive) sway over the outcomes."
    )
    alignment = models.PositiveSmallIntegerField(
        validators=SCORE, help_text="1 (at odds) to 5 (fully shares) the common purpose."
    )
    capacity = models.PositiveSmallIntegerField(
        validators=SCORE, help_text="1 to 5: staff, data and money it could bring."
    )
    reach = models.PositiveSmallIntegerField(
        validators=SCORE, help_text="1 to 5: reach into the network's focus populations."
    )
    notes = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessed_on = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["network", "-assessed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    influence__range=(1, 5),
                    alignment__range=(1, 5),
                    capacity__range=(1, 5),
                    reach__range=(1, 5),
                ),
                name="prospect_scores_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment of {self.organization} ({self.assessed_on})"

    @property
    def total(self) -> int:
        return self.influence + self.alignment + self.capacity + self.reach

    @property
    def quadrant(self) -> str:
        high_influence, high_alignment = self.influence >= 3, self.alignment >= 3
        if high_influence and high_alignment:
            return "Engage closely"
        if high_influence:
            return "Build alignment"
        if high_alignment:
            return "Keep involved"
        return "Keep informed"


class ReadinessAssessment(models.Model):
    """A nonprofit's self-assessment of readiness to take part in shared measurement."""

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="readiness_assessments"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="readiness_assessments"
    )
    answers = models.JSONField(help_text="Question code → answer value (0–3).")
    score = models.PositiveSmallIntegerField(help_text="Percent of the highest possible score.")
    level = models.CharField(max_length=20)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__lte=100), name="readiness_score_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"Readiness of {self.organization} ({self.submitted_at:%Y-%m-%d})"
