from django import forms

from backbone.core.forms import ScopedModelForm
from backbone.core.models import Membership
from backbone.partners import readiness
from backbone.partners.models import ProspectAssessment


class NewMembershipForm(ScopedModelForm):
    class Meta:
        model = Membership
        fields = ["status", "role", "joined_on"]
        widgets = {"joined_on": forms.DateInput(attrs={"type": "date"})}


class ProspectAssessmentForm(ScopedModelForm):
    class Meta:
        model = ProspectAssessment
        fields = [
            "organization",
            "influence",
            "alignment",
            "capacity",
            "reach",
            "notes",
            "assessed_on",
        ]
        widgets = {
            "assessed_on": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("influence", "alignment", "capacity", "reach"):
            self.fields[name].widget = forms.Select(choices=[(i, str(i)) for i in range(1, 6)])

    def model_fields(self):
        return {**super().model_fields(), "assessed_by": self.access.actor}


class ReadinessForm(forms.Form):
    """One radio group per question, built from the questionnaire definition."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for question in readiness.QUESTIONS:
            self.fields[question.code] = forms.TypedChoiceField(
                label=f"{question.domain}: {question.text}",
                choices=[(i, text) for i, text in enumerate(question.choices)],
                coerce=int,
                widget=forms.RadioSelect,
            )


class PartnerImportForm(forms.Form):
    file = forms.FileField(
        help_text="A CSV or Excel (.xlsx) file with one organization a row. "
        "Download the template for the columns."
    )
