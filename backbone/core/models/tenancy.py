"""Tenancy: networks, the organizations in them, places, life stages and people's roles."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Network(models.Model):
    """A collective action network: many organizations around one common purpose."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    purpose = models.TextField("common purpose statement")
    community_description = models.TextField(blank=True)
    geography_description = models.CharField("geography served", max_length=300, blank=True)
    geography_served = models.ManyToManyField(
        "Area", blank=True, related_name="+", help_text="Areas the network serves."
    )
    equity_focus = models.TextField(
        blank=True,
        help_text="Populations whose disparities the network works to eliminate, one per line.",
    )
    is_public = models.BooleanField(
        default=False, help_text="Anyone may read the network's public profile and partner list."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def equity_focus_list(self) -> list[str]:
        return [line.strip() for line in self.equity_focus.splitlines() if line.strip()]


class LifeStage(models.Model):
    """One step of the continuum the network works along (e.g. cradle to career)."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="life_stages")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["network", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="lifestage_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Area(models.Model):
    """A place in the network's geography hierarchy (state → county → city, ZIP, tract)."""

    class Kind(models.TextChoices):
        STATE = "state", "State"
        COUNTY = "county", "County"
        CITY = "city", "City"
        ZIP = "zip", "ZIP code"
        TRACT = "tract", "Census tract"
        SCHOOL_DISTRICT = "school_district", "School district"
        NEIGHBORHOOD = "neighborhood", "Neighborhood"
        OTHER = "other", "Other"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(max_length=40, help_text="Stable code, e.g. a FIPS code or ZIP.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    population = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["network", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="area_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        node, seen = self.parent, set()
        while node is not None:
            if node.pk == self.pk or node.pk in seen:
                raise ValidationError({"parent": "An area cannot be inside itself."})
            if node.network_id != self.network_id:
                raise ValidationError({"parent": "The parent must be in the same network."})
            seen.add(node.pk)
            node = node.parent


class Sector(models.Model):
    """The sectors a partner belongs to; a fixed vocabulary loaded by a migration."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def ensure_defaults(cls) -> None:
        """Create the fixed sectors if missing (migrations load them; a flushed test
        database or a restored backup may not have them)."""
        if cls.objects.count() >= len(SECTORS):
            return
        for position, (code, name) in enumerate(SECTORS):
            cls.objects.update_or_create(code=code, defaults={"name": name, "position": position})


SECTORS = [  # kept in step with migrations/0002_sectors.py
    ("nonprofit", "Nonprofit service provider"),
    ("grantmaker", "Grantmaker"),
    ("public_agency", "Public agency"),
    ("school_district", "School district"),
    ("higher_education", "Higher education"),
    ("business", "Business"),
    ("community_group", "Community group"),
    ("faith_based", "Faith-based"),
    ("health_care", "Health care"),
    ("other", "Other"),
]


class Organization(models.Model):
    """An organization; it joins networks through Membership."""

    class Size(models.TextChoices):
        VOLUNTEER = "volunteer", "Volunteer-run (no paid staff)"
        SMALL = "1-10", "1–10 staff"
        MEDIUM = "11-50", "11–50 staff"
        LARGE = "51-250", "51–250 staff"
        XLARGE = "251-1000", "251–1,000 staff"
        XXLARGE = "1000+", "More than 1,000 staff"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    sectors = models.ManyToManyField(Sector, related_name="organizations")
    mission = models.TextField(blank=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    street_address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    areas_served = models.ManyToManyField(Area, blank=True, related_name="organizations")
    populations_served = models.TextField(blank=True, help_text="One population per line.")
    size = models.CharField(max_length=20, choices=Size.choices, blank=True)
    annual_budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="organization_name_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def populations_list(self) -> list[str]:
        return [line.strip() for line in self.populations_served.splitlines() if line.strip()]


EIN_RE = re.compile(r"^\d{2}-\d{7}$")


class OrganizationIdentifier(models.Model):
    class Scheme(models.TextChoices):
        EIN = "ein", "EIN (US employer identification number)"
        UEI = "uei", "UEI (SAM.gov unique entity ID)"
        NCES = "nces", "NCES school or district ID"
        IPEDS = "ipeds", "IPEDS unit ID"
        NPI = "npi", "NPI (health care provider)"
        OTHER = "other", "Other"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="identifiers"
    )
    scheme = models.CharField(max_length=10, choices=Scheme.choices)
    value = models.CharField(max_length=60)

    class Meta:
        ordering = ["scheme"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "value"], name="identifier_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display().split(' (')[0]} {self.value}"

    def clean(self) -> None:
        if self.scheme == self.Scheme.EIN and not EIN_RE.match(self.value or ""):
            raise ValidationError({"value": "An EIN has the form 12-3456789."})


class Membership(models.Model):
    """An organization's place in a network."""

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        INVITED = "invited", "Invited"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    class Role(models.TextChoices):
        BACKBONE = "backbone", "Backbone"
        PARTNER = "partner", "Partner"
        FUNDER = "funder", "Funder"
        ADVISOR = "advisor", "Advisor"

    # Allowed moves of the status; anything else is refused with a message.
    TRANSITIONS = {
        "prospect": {"invited", "active", "inactive"},
        "invited": {"active", "inactive", "prospect"},
        "active": {"inactive"},
        "inactive": {"active", "invited"},
    }

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROSPECT)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PARTNER)
    joined_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)
    data_sharing_signed_on = models.DateField(
        "data-sharing agreement signed", null=True, blank=True
    )
    data_sharing_document = models.FileField(
        "data-sharing agreement", upload_to="agreements/%Y/", blank=True
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["network", "organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "organization"], name="membership_unique_org"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True)
                | Q(joined_on__isnull=True)
                | Q(left_on__gte=models.F("joined_on")),
                name="membership_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.network}"

    def clean(self) -> None:
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            raise ValidationError({"left_on": "The date left cannot be before the date joined."})


class Role(models.TextChoices):
    NETWORK_ADMIN = "network_admin", "Network admin (backbone staff)"
    ORG_ADMIN = "org_admin", "Organization admin"
    ORG_MEMBER = "org_member", "Organization member"
    FUNDER = "funder", "Funder"
    VIEWER = "viewer", "Viewer"


ORGANIZATION_ROLES = {Role.ORG_ADMIN, Role.ORG_MEMBER}


class NetworkRole(models.Model):
    """What one person may do in one network, and for which organization."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="network_roles"
    )
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="people"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "user__full_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "network"], name="networkrole_one_per_user"),
            models.CheckConstraint(
                condition=~Q(role__in=["org_admin", "org_member"]) | Q(organization__isnull=False),
                name="networkrole_org_roles_need_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.network}"

    def clean(self) -> None:
        if self.role in ORGANIZATION_ROLES and not self.organization_id:
            raise ValidationError({"organization": "Organization roles need an organization."})
        if (
            self.organization_id
            and self.network_id
            and not Membership.objects.filter(
                network_id=self.network_id, organization_id=self.organization_id
            ).exists()
        ):
            raise ValidationError({"organization": "That organization is not in this network."})


class Invitation(models.Model):
    """An emailed invitation to join a network, usually on behalf of an organization."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="invitations")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["org_admin", "org_member"]) | Q(organization__isnull=False),
                name="invitation_org_roles_need_org",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.network}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
