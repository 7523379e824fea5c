from __future__ import annotations

import contextlib

from django import forms
from django.contrib.auth import get_user_model

from backbone.core.access import Access, policy_for
from backbone.core.models import (
    Area,
    Invitation,
    LifeStage,
    Membership,
    Network,
    NetworkRole,
    Organization,
    OrganizationIdentifier,
    Role,
)


class ScopedModelForm(forms.ModelForm):
    """A ModelForm whose choices of related rows come only from the access's network."""

    def __init__(self, *args, access: Access, **kwargs):
        self.access = access
        super().__init__(*args, **kwargs)
        # Model.clean() compares related rows' networks with the row's own network.
        if any(f.name == "network" for f in self._meta.model._meta.concrete_fields) and (
            self.instance.network_id is None
        ):
            self.instance.network = access.network
        user_model = get_user_model()
        for field in self.fields.values():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            related = field.queryset.model
            if related is user_model:
                field.queryset = user_model.objects.filter(
                    network_roles__network=access.network
                ).distinct()
            else:
                # Shared vocabularies such as Sector have no policy and keep every row.
                with contextlib.suppress(LookupError):
                    field.queryset = policy_for(related).scope(access, "view")

    def model_fields(self) -> dict:
        """The cleaned data ready for the services (form-only fields dropped)."""
        names = {f.name for f in self._meta.model._meta.get_fields()}
        return {k: v for k, v in self.cleaned_data.items() if k in names}


class NetworkForm(ScopedModelForm):
    class Meta:
        model = Network
        fields = [
            "name",
            "purpose",
            "community_description",
            "geography_description",
            "geography_served",
            "equity_focus",
            "is_public",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 4}),
            "community_description": forms.Textarea(attrs={"rows": 4}),
            "equity_focus": forms.Textarea(attrs={"rows": 4}),
        }


class LifeStageForm(ScopedModelForm):
    class Meta:
        model = LifeStage
        fields = ["name", "position", "description"]


class AreaForm(ScopedModelForm):
    class Meta:
        model = Area
        fields = ["code", "name", "kind", "parent", "population"]


class OrganizationForm(ScopedModelForm):
    class Meta:
        model = Organization
        fields = [
            "name",
            "sectors",
            "mission",
            "website",
            "email",
            "phone",
            "street_address",
            "city",
            "state",
            "postal_code",
            "areas_served",
            "populations_served",
            "size",
            "annual_budget",
        ]
        widgets = {
            "sectors": forms.CheckboxSelectMultiple,
            "mission": forms.Textarea(attrs={"rows": 3}),
            "populations_served": forms.Textarea(attrs={"rows": 3}),
        }


class MembershipForm(ScopedModelForm):
    class Meta:
        model = Membership
        fields = [
            "status",
            "role",
            "joined_on",
            "left_on",
            "data_sharing_signed_on",
            "data_sharing_document",
            "notes",
        ]
        widgets = {
            "joined_on": forms.DateInput(attrs={"type": "date"}),
            "left_on": forms.DateInput(attrs={"type": "date"}),
            "data_sharing_signed_on": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_status(self):
        status = self.cleaned_data["status"]
        current = self.instance.status if self.instance.pk else None
        if current and status != current and status not in Membership.TRANSITIONS[current]:
            raise forms.ValidationError(f"A membership cannot move from {current} to {status}.")
        return status


class IdentifierForm(ScopedModelForm):
    class Meta:
        model = OrganizationIdentifier
        fields = ["scheme", "value"]


class NetworkRoleForm(ScopedModelForm):
    class Meta:
        model = NetworkRole
        fields = ["role", "organization"]


class InvitationForm(ScopedModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role", "organization"]

    def __init__(self, *args, access: Access, **kwargs):
        super().__init__(*args, access=access, **kwargs)
        if not access.is_admin:
            self.fields["role"].choices = [
                (Role.ORG_ADMIN, Role.ORG_ADMIN.label),
                (Role.ORG_MEMBER, Role.ORG_MEMBER.label),
            ]
            self.fields["organization"].queryset = Organization.objects.filter(
                pk=access.organization_id
            )
            self.fields["organization"].required = True

    def clean(self):
        data = super().clean()
        if data.get("role") in (Role.ORG_ADMIN, Role.ORG_MEMBER) and not data.get("organization"):
            self.add_error("organization", "Organization roles need an organization.")
        return data
