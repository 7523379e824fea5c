"""Forms for the results framework pages (network admins write the framework)."""

from __future__ import annotations

from django import forms

from backbone.core.forms import ScopedModelForm
from backbone.measurement.models import (
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Result,
    Strategy,
)

TEXT = forms.Textarea(attrs={"rows": 3})


class ResultForm(ScopedModelForm):
    class Meta:
        model = Result
        fields = ["code", "name", "life_stage", "description", "position"]
        widgets = {"description": TEXT}


class IndicatorForm(ScopedModelForm):
    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "result",
            "definition",
            "unit",
            "rate_per",
            "polarity",
            "formula",
            "numerator",
            "denominator",
            "aggregation",
            "frequency",
            "data_source",
            "evidence",
            "baseline_value",
            "baseline_period",
            "dimensions",
            "is_public",
            "position",
        ]
        widgets = {
            "definition": TEXT,
            "numerator": TEXT,
            "denominator": TEXT,
            "data_source": TEXT,
            "evidence": TEXT,
            "dimensions": forms.CheckboxSelectMultiple,
        }


class IndicatorTargetForm(ScopedModelForm):
    class Meta:
        model = IndicatorTarget
        fields = ["indicator", "period", "value"]


class PerformanceMeasureForm(ScopedModelForm):
    class Meta:
        model = PerformanceMeasure
        fields = [
            "code",
            "name",
            "organization",
            "category",
            "description",
            "unit",
            "polarity",
            "formula",
            "aggregation",
            "frequency",
            "contributes_to",
            "dimensions",
        ]
        widgets = {
            "description": TEXT,
            "contributes_to": forms.CheckboxSelectMultiple,
            "dimensions": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, access=access, **kwargs)
        # Only the network's members can own a measure.
        self.fields["organization"].queryset = (
            self.fields["organization"]
            .queryset.filter(memberships__network=access.network)
            .distinct()
        )
        self.fields["organization"].help_text = "Blank: a shared measure every partner reports."


class MeasureTargetForm(ScopedModelForm):
    class Meta:
        model = MeasureTarget
        fields = ["measure", "organization", "period", "value"]

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, access=access, **kwargs)
        self.fields["organization"].queryset = (
            self.fields["organization"]
            .queryset.filter(memberships__network=access.network)
            .distinct()
        )


class StrategyForm(ScopedModelForm):
    class Meta:
        model = Strategy
        fields = ["code", "name", "description", "organizations", "results", "measures"]
        widgets = {
            "description": TEXT,
            "organizations": forms.SelectMultiple(attrs={"size": 8}),
            "results": forms.CheckboxSelectMultiple,
            "measures": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, access=access, **kwargs)
        self.fields["organizations"].queryset = (
            self.fields["organizations"]
            .queryset.filter(memberships__network=access.network)
            .distinct()
        )


class DimensionForm(ScopedModelForm):
    class Meta:
        model = Dimension
        fields = ["code", "name", "kind", "area_kind", "description", "position"]
        widgets = {"description": TEXT}


class CategoryForm(ScopedModelForm):
    class Meta:
        model = Category
        fields = ["dimension", "code", "name", "position"]


class FrameworkFileForm(forms.Form):
    file = forms.FileField(
        label="Framework file (YAML)",
        help_text="A file written by “Download the framework” or `backbone framework export`.",
    )
