from __future__ import annotations

from django import forms

from backbone.core.access import ORG_ADMIN
from backbone.core.forms import ScopedModelForm
from backbone.core.models import Organization
from backbone.directory.models import Service, TaxonomyTerm
from backbone.directory.taxonomy import TAXONOMY_ID
from backbone.ecosystem.models import NeedIndicator, Pathway, PathwayStep
from backbone.ecosystem.pathways import tagged_services
from backbone.ecosystem.selectors import need_categories

MAX_SERVICE_CHOICES = 300


class PathwayForm(ScopedModelForm):
    class Meta:
        model = Pathway
        fields = ["name", "description", "owner_organization", "life_stages"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "life_stages": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, access=access, **kwargs)
        if access.role == ORG_ADMIN:
            # An organization's admin keeps the pathways of their own organization only.
            owner = self.fields["owner_organization"]
            owner.queryset = Organization.objects.filter(pk=access.organization_id)
            owner.required = True
            owner.empty_label = None
        self.fields["name"].widget.attrs["autofocus"] = True

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = self.access.scope(Pathway).filter(name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A pathway named “{name}” already exists.")
        return name


class StepForm(ScopedModelForm):
    next_steps = forms.ModelMultipleChoiceField(
        queryset=PathwayStep.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Where people go from this step. Several make a branch.",
    )

    class Meta:
        model = PathwayStep
        fields = ["name", "position", "life_stage", "category", "services", "is_final"]
        widgets = {"services": forms.CheckboxSelectMultiple}

    def __init__(self, *args, access, pathway, **kwargs):
        super().__init__(*args, access=access, **kwargs)
        self.pathway = pathway
        others = access.scope(PathwayStep).filter(pathway=pathway).order_by("position", "name")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
            self.initial.setdefault(
                "next_steps", list(self.instance.out_edges.values_list("to_step_id", flat=True))
            )
        self.fields["next_steps"].queryset = others
        self.fields["category"].queryset = (
            access.scope(TaxonomyTerm).filter(taxonomy__hsds_id=TAXONOMY_ID).order_by("code")
        )
        self.fields["category"].label_from_instance = lambda t: f"{t.name} ({t.code})"
        self.fields["services"].queryset = self._service_choices()
        self.fields["services"].label_from_instance = lambda s: (
            f"{s.name} — {s.organization.name}" if s.organization_id else s.name
        )
        self.fields["services"].help_text = (
            "Optional. The services of the step's need category (and life stage) are listed "
            "once the step is saved with a category; without specific services the step "
            "uses all of them."
        )

    def _service_choices(self):
        services = self.access.scope(Service).select_related("organization").order_by("name")
        step = self.instance
        chosen = services.filter(pk__in=step.services.values("pk")) if step.pk else services.none()
        if not (step.pk and step.category_id):
            return chosen
        term = str(step.category.hsds_id)
        terms = [
            term,
            *self.access.scope(TaxonomyTerm)
            .filter(parent_id=term)
            .values_list("hsds_id", flat=True),
        ]
        matching = services.filter(hsds_id__in=tagged_services(self.access, terms))
        if step.life_stage_id:
            matching = matching.filter(life_stages=step.life_stage_id)
        ids = list(matching.values_list("pk", flat=True)[:MAX_SERVICE_CHOICES])
        return services.filter(pk__in=[*ids, *chosen.values_list("pk", flat=True)])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = self.access.scope(PathwayStep).filter(pathway=self.pathway, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"This pathway already has a step named “{name}”.")
        return name

    def clean(self):
        data = super().clean()
        if not data.get("category") and not data.get("services") and not self.errors:
            raise forms.ValidationError("Choose a need category, specific services, or both.")
        return data


class NeedIndicatorForm(ScopedModelForm):
    category = forms.ChoiceField(label="Need category")

    class Meta:
        model = NeedIndicator
        fields = ["category", "life_stage", "indicator"]

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, access=access, **kwargs)
        self.fields["category"].choices = [
            (c.code, f"{c.name} ({c.code})") for c in need_categories(access)
        ]
        self.fields[
            "indicator"
        ].help_text = (
            "Its latest approved value per area (all people, no organization) measures need."
        )

    def clean(self):
        data = super().clean()
        category, stage = data.get("category"), data.get("life_stage")
        if category:
            taken = self.access.scope(NeedIndicator).filter(category=category, life_stage=stage)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                where = stage.name if stage else "any life stage"
                raise forms.ValidationError(
                    f"{category} × {where} already has a need indicator; edit that one."
                )
        return data
