from backbone.core.models.audit import AuditEvent
from backbone.core.models.tenancy import (
    Area,
    Invitation,
    LifeStage,
    Membership,
    Network,
    NetworkRole,
    Organization,
    OrganizationIdentifier,
    Role,
    Sector,
)
from backbone.core.models.users import AccessToken, User

__all__ = [
    "AccessToken",
    "Area",
    "AuditEvent",
    "Invitation",
    "LifeStage",
    "Membership",
    "Network",
    "NetworkRole",
    "Organization",
    "OrganizationIdentifier",
    "Role",
    "Sector",
    "User",
]
