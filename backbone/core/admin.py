"""Django admin for site operators (is_staff). Every write is audited like any other."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from backbone.core import audit
from backbone.core.admin_site import ScopedAdminMixin, admin_networks
from backbone.core.models import (
    AccessToken,
    Area,
    AuditEvent,
    Invitation,
    LifeStage,
    Membership,
    Network,
    NetworkRole,
    Organization,
    OrganizationIdentifier,
    User,
)


def _network_of(obj):
    if isinstance(obj, Network):
        return obj
    return getattr(obj, "network", None)


class AuditedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Scoped to the user's networks; records the before/after of each save and delete."""

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        request._audit_pending = (obj, before, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj, before, change = request._audit_pending
        audit.record(
            actor=request.user,
            action="update" if change else "create",
            obj=obj,
            network=_network_of(obj),
            before=before,
            after=audit.snapshot(obj),
            via="admin",
        )

    def delete_model(self, request, obj):
        before, pk = audit.snapshot(obj), obj.pk
        network = _network_of(obj)
        super().delete_model(request, obj)
        audit.record(
            actor=request.user,
            action="delete",
            obj=obj,
            network=network,
            before=before,
            after=None,
            via="admin",
            object_id=pk,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Network)
class NetworkAdmin(AuditedAdmin):
    list_display = ["name", "slug", "is_public", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LifeStage)
class LifeStageAdmin(AuditedAdmin):
    list_display = ["name", "network", "position"]
    list_filter = ["network"]


@admin.register(Area)
class AreaAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "parent", "network"]
    list_filter = ["network", "kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


class IdentifierInline(admin.TabularInline):
    """Shown inside an organization the user may already change (scoped above)."""

    model = OrganizationIdentifier
    extra = 0

    def _may(self, request) -> bool:
        return request.user.is_superuser or bool(admin_networks(request.user))

    def has_view_permission(self, request, obj=None):
        return self._may(request)

    def has_add_permission(self, request, obj=None):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return self._may(request)

    def has_delete_permission(self, request, obj=None):
        return self._may(request)


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ["name", "city", "state", "size"]
    list_filter = ["sectors"]
    search_fields = ["name", "identifiers__value"]
    filter_horizontal = ["sectors"]
    raw_id_fields = ["areas_served"]
    inlines = [IdentifierInline]

    def has_delete_permission(self, request, obj=None):
        # An organization shared with a network this person does not administer would
        # vanish from that network too.
        if obj is not None and not request.user.is_superuser:
            mine = [n.pk for n in admin_networks(request.user)]
            if obj.memberships.exclude(network__in=mine).exists():
                return False
        return super().has_delete_permission(request, obj)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["organization", "network", "status", "role", "joined_on"]
    list_filter = ["network", "status", "role"]
    search_fields = ["organization__name"]
    raw_id_fields = ["organization"]


@admin.register(NetworkRole)
class NetworkRoleAdmin(AuditedAdmin):
    list_display = ["user", "network", "role", "organization"]
    list_filter = ["network", "role"]
    search_fields = ["user__email", "organization__name"]
    raw_id_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(AuditedAdmin):
    list_display = ["email", "network", "role", "organization", "created_at", "accepted_at"]
    list_filter = ["network", "role"]
    exclude = ["token"]


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_email", "action", "object_type", "object_repr", "via"]
    list_filter = ["action", "object_type", "network", "via"]
    search_fields = ["actor_email", "object_repr", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyMixin:
    """Accounts and tokens span networks: site operators only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AccessToken)
class AccessTokenAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "hint"]


@admin.register(User)
class UserAdmin(SuperuserOnlyMixin, AuditedAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "title"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
