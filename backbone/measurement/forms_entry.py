"""Forms of the reporting pages: assignments, returning a submission, corrections."""

from __future__ import annotations

from django import forms

from backbone.core.forms import ScopedModelForm
from backbone.measurement.models import ReportingAssignment


class AssignmentForm(ScopedModelForm):
    class Meta:
        model = ReportingAssignment
        fields = [
            "organization",
            "name",
            "indicators",
            "measures",
            "areas",
            "frequency",
            "first_period",
            "last_period",
            "due_days",
            "reminder_days",
            "is_active",
        ]
        widgets = {
            "indicators": forms.CheckboxSelectMultiple,
            "measures": forms.CheckboxSelectMultiple,
            "areas": forms.SelectMultiple(attrs={"size": 8}),
        }
        help_texts = {
            "first_period": "A period code of the frequency, e.g. 2025-Q1, 2025-03, "
            "SY2024-25, 2025 or FY2025.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's own checks (the organization is a member) need the network.
        self.instance.network = self.access.network
        self.fields["organization"].queryset = self.fields["organization"].queryset.order_by("name")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("indicators") and not cleaned.get("measures"):
            raise forms.ValidationError("Choose at least one indicator or measure to report.")
        return cleaned


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label="What to fix",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required: the organization sees this comment.",
    )


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the correction",
        max_length=500,
        help_text="Kept with every corrected value's new version.",
    )
