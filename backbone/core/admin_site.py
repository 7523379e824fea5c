"""The Django admin for backbone staff, scoped by the same policies as everything else.

Superusers (site operators) see every network. A network admin signs in with the same
account (two-factor required) and sees only the rows of the networks they administer:
each ModelAdmin's queryset, permissions and related-row choices come from the policies.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from backbone.core.access import NETWORK_ADMIN, Access, policy_for


class BackboneAdminSite(admin.AdminSite):
    site_header = "Backbone administration"
    site_title = "Backbone"

    def has_permission(self, request) -> bool:
        user = request.user
        return user.is_active and (user.is_staff or bool(admin_networks(user)))


class BackboneAdminConfig(AdminConfig):
    default_site = "backbone.core.admin_site.BackboneAdminSite"


def admin_networks(user) -> list:
    from backbone.core.models import Network

    if not getattr(user, "is_authenticated", False):
        return []
    cache = "_backbone_admin_networks"
    if not hasattr(user, cache):
        setattr(
            user, cache, list(Network.objects.filter(roles__user=user, roles__role=NETWORK_ADMIN))
        )
    return getattr(user, cache)


def scoped(user, model: type[models.Model], action: str = "view") -> models.QuerySet:
    """Rows of MODEL this user may ACTION as network admin of any of their networks."""
    condition = Q(pk__in=[])
    for network in admin_networks(user):
        access = Access(user=user, network=network, role=NETWORK_ADMIN)
        condition |= Q(pk__in=policy_for(model).scope(access, action).values("pk"))
    return model._default_manager.filter(condition)


def has_policy(model: type[models.Model]) -> bool:
    try:
        policy_for(model)
    except LookupError:
        return False
    return True


class ScopedAdminMixin:
    """Permissions and rows from the policies for everyone but superusers."""

    def _scoped_user(self, request) -> bool:
        return not request.user.is_superuser

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not self._scoped_user(request):
            return queryset
        if not has_policy(self.model):
            return queryset.none()
        return queryset.filter(pk__in=scoped(request.user, self.model).values("pk"))

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not self._scoped_user(request):
            return filters
        # A plain related filter lists every row of the related model (all networks);
        # this one lists only the values found in the user's own rows.
        scoped_filters = []
        for entry in filters:
            field = (
                self.model._meta.get_field(entry)
                if isinstance(entry, str) and "__" not in entry
                else None
            )
            if field is not None and field.is_relation:
                scoped_filters.append((entry, admin.RelatedOnlyFieldListFilter))
            else:
                scoped_filters.append(entry)
        return scoped_filters

    def _may(self, request, action: str, obj=None) -> bool:
        if not self._scoped_user(request):
            return True
        if not has_policy(self.model) or not admin_networks(request.user):
            return False
        if obj is None:
            return any(
                policy_for(self.model).allows(Access(request.user, n, NETWORK_ADMIN), action)
                for n in admin_networks(request.user)
            )
        return scoped(request.user, self.model, action).filter(pk=obj.pk).exists()

    def has_module_permission(self, request):
        return self._may(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._may(request, "view", obj)

    def has_add_permission(self, request):
        return self._may(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._may(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, "delete", obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if self._scoped_user(request):
            kwargs["queryset"] = self._choices(request, db_field.related_model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if self._scoped_user(request):
            kwargs["queryset"] = self._choices(request, db_field.related_model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _choices(self, request, related):
        from backbone.core.models import Network

        if related is Network:
            return Network.objects.filter(pk__in=[n.pk for n in admin_networks(request.user)])
        if related is get_user_model():
            return related.objects.filter(
                network_roles__network__in=admin_networks(request.user)
            ).distinct()
        if has_policy(related):
            return scoped(request.user, related)
        return related._default_manager.all()  # shared vocabularies such as Sector
