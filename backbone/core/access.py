"""The permission layer: who may do what on which rows, for web, API and CLI alike.

Every read of tenant data starts from an `Access` (user + network + role) and a policy
registered for the model (Wagtail-style). A policy answers both "may this access do
ACTION" and "on which rows" (a queryset). Views and API operations never call
`Model.objects` on tenant data; they call `access.scope(Model)` or
`access.get_object(Model, ...)`. Unscoped reads must be spelled `dangerously_unscoped`.

Outsiders get 404 (existence is not revealed); members without the right get 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from backbone.core.models import Network

PUBLIC = "public"
NETWORK_ADMIN = "network_admin"
ORG_ADMIN = "org_admin"
ORG_MEMBER = "org_member"
FUNDER = "funder"
VIEWER = "viewer"
MEMBER_ROLES = frozenset({NETWORK_ADMIN, ORG_ADMIN, ORG_MEMBER, FUNDER, VIEWER})
ALL_ROLES = MEMBER_ROLES | {PUBLIC}
ROLE_LABELS = {
    NETWORK_ADMIN: "Network admin",
    ORG_ADMIN: "Organization admin",
    ORG_MEMBER: "Organization member",
    FUNDER: "Funder",
    VIEWER: "Viewer",
    PUBLIC: "Public",
}


@dataclass(frozen=True)
class Access:
    user: Any
    network: Network
    role: str
    organization_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == NETWORK_ADMIN

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_member(self) -> bool:
        return self.role in MEMBER_ROLES

    @property
    def actor(self):
        return self.user if getattr(self.user, "is_authenticated", False) else None

    def policy(self, model: type[models.Model]) -> Policy:
        return policy_for(model)

    def allows(self, model: type[models.Model], action: str = "view") -> bool:
        return policy_for(model).allows(self, action)

    def scope(self, model: type[models.Model], action: str = "view") -> models.QuerySet:
        return policy_for(model).scope(self, action)

    def can(self, action: str, obj: models.Model) -> bool:
        return policy_for(type(obj)).can(self, action, obj)

    def can_add(self, model: type[models.Model], **values) -> bool:
        return policy_for(model).can_add(self, **values)

    def require(self, action: str, obj: models.Model) -> None:
        if not self.can(action, obj):
            raise PermissionDenied(f"Your role may not {action} this {obj._meta.verbose_name}.")

    def require_add(self, model: type[models.Model], **values) -> None:
        if not self.can_add(model, **values):
            raise PermissionDenied(f"Your role may not add a {model._meta.verbose_name}.")

    def require_allowed(
        self, model: type[models.Model], action: str = "view", message: str = ""
    ) -> None:
        """Refuse a whole page: 404 to the public (nothing to see), 403 to members."""
        if self.allows(model, action):
            return
        if not self.is_member:
            raise Http404("No page found.")
        raise PermissionDenied(
            message or f"Your role may not {action} {model._meta.verbose_name_plural}."
        )

    def get_object(self, model: type[models.Model], action: str = "view", **lookup):
        """The object if this access may see it (else 404) and do ACTION on it (else 403)."""
        try:
            obj = policy_for(model).scope(self, "view").get(**lookup)
        except (model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404(f"No {model._meta.verbose_name} found.") from exc
        if action != "view":
            self.require(action, obj)
        return obj


class Policy:
    """Rules for one model. Subclasses set `model`, `rules` and `network_path`."""

    model: ClassVar[type[models.Model]]
    # action -> roles that may do it at all (rows may narrow further in `rows`)
    rules: ClassVar[dict[str, frozenset[str]]] = {}
    # How a row reaches its network, e.g. "network" or "working_group__network".
    network_path: ClassVar[str] = "network"

    def allows(self, access: Access, action: str) -> bool:
        return access.role in self.rules.get(action, frozenset())

    def scope(self, access: Access, action: str = "view") -> models.QuerySet:
        if not self.allows(access, action):
            return self.model._default_manager.none()
        queryset = self.model._default_manager.filter(**{self.network_path: access.network.pk})
        return self.rows(access, action, queryset)

    def rows(self, access: Access, action: str, queryset: models.QuerySet) -> models.QuerySet:
        """Narrow the network's rows for this role and action. Override per model."""
        return queryset

    def can(self, access: Access, action: str, obj: models.Model) -> bool:
        return self.scope(access, action).filter(pk=obj.pk).exists()

    def can_add(self, access: Access, **values) -> bool:
        return self.allows(access, "add")


_registry: dict[type[models.Model], Policy] = {}


def register(policy_class: type[Policy]) -> type[Policy]:
    _registry[policy_class.model] = policy_class()
    return policy_class


def policy_for(model: type[models.Model]) -> Policy:
    try:
        return _registry[model]
    except KeyError:
        raise LookupError(
            f"No access policy is registered for {model._meta.label}; "
            "every tenant model needs one (see backbone.core.access)."
        ) from None


def registered_models() -> list[type[models.Model]]:
    return list(_registry)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


EVERYONE = ALL_ROLES
MEMBERS = MEMBER_ROLES
ADMINS = roles(NETWORK_ADMIN)


def access_for(user, network: Network) -> Access | None:
    """The access this user has in this network, or None when they are an outsider."""
    from backbone.core.models import NetworkRole

    if getattr(user, "is_authenticated", False):
        role = (
            NetworkRole.objects.filter(user=user, network=network)
            .values_list("role", "organization_id")
            .first()
        )
        if role:
            return Access(user=user, network=network, role=role[0], organization_id=role[1])
    if network.is_public:
        return Access(user=user, network=network, role=PUBLIC)
    return None


def access_or_404(user, network_slug: str) -> Access:
    from backbone.core.models import Network

    network = Network.objects.filter(slug=network_slug).first()
    access = access_for(user, network) if network else None
    if access is None:
        raise Http404("No network found.")
    return access


def dangerously_unscoped(model: type[models.Model]) -> models.QuerySet:
    """Every row of MODEL across all networks. For migrations, seeding and site ops only."""
    return model._default_manager.all()
