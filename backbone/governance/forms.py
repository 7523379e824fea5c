from django import forms

from backbone.core.forms import ScopedModelForm
from backbone.governance.models import WorkingGroup


class WorkingGroupForm(ScopedModelForm):
    class Meta:
        model = WorkingGroup
        fields = ["name", "charter", "life_stage", "chair", "organizations", "people"]
        widgets = {"charter": forms.Textarea(attrs={"rows": 4})}
