"""The service directory, on Open Referral HSDS 3.0 (https://openreferral.org/).

One model per HSDS table. Every row carries `network` (the same HSDS id may exist in
two networks) and keeps HSDS's own `id` as `hsds_id`, unique per network, so a
re-import upserts instead of duplicating. Foreign keys between HSDS tables are real
foreign keys; the columns the framework filters on are real columns; every other HSDS
field is kept as given in `data`, so an export gives back exactly what was imported.

`hsds_table` names the HSDS table, `hsds_links` maps an HSDS foreign-key field to the
model field that holds it, and `hsds_columns` lists the HSDS fields kept as columns.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models

from backbone.core.models import Area, LifeStage, Network
from backbone.core.models import Organization as NetworkOrganization


class HsdsRecord(models.Model):
    hsds_table: str = ""
    hsds_links: dict[str, str] = {}
    hsds_columns: tuple[str, ...] = ()

    # No index of its own: the unique (network, hsds_id) index serves network lookups, and
    # a state-size import writes every index of every row.
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    hsds_id = models.UUIDField("HSDS id")
    data = models.JSONField(default=dict, blank=True, help_text="The other HSDS fields.")

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["network", "hsds_id"], name="%(app_label)s_%(class)s_unique_hsds_id"
            )
        ]

    def __str__(self) -> str:
        label = getattr(self, "name", None) or self.data.get("name") or str(self.hsds_id)
        return f"{self._meta.verbose_name} {label}"


def _link(to: str | type[models.Model], related_name: str = "+"):
    return models.ForeignKey(
        to, on_delete=models.CASCADE, null=True, blank=True, related_name=related_name
    )


class Taxonomy(HsdsRecord):
    hsds_table = "taxonomy"
    hsds_columns = ("name",)
    name = models.TextField(null=True)

    class Meta(HsdsRecord.Meta):
        verbose_name_plural = "taxonomies"


class TaxonomyTerm(HsdsRecord):
    hsds_table = "taxonomy_term"
    hsds_links = {"taxonomy_id": "taxonomy"}
    hsds_columns = ("code", "name", "parent_id")
    taxonomy = _link(Taxonomy, "terms")
    # Not a foreign key: HSDS lets a term name a parent in a vocabulary not imported.
    parent_id = models.CharField(max_length=64, null=True, db_index=True)
    code = models.TextField(null=True)
    name = models.TextField(null=True)


class DirectoryOrganization(HsdsRecord):
    """HSDS organization; `organization` links it to the network's partner when known."""

    hsds_table = "organization"
    hsds_columns = ("name",)
    name = models.TextField(null=True)
    organization = models.ForeignKey(
        NetworkOrganization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="directory_listings",
    )

    class Meta(HsdsRecord.Meta):
        verbose_name = "directory organization"


class DirectoryOrganizationIdentifier(HsdsRecord):
    hsds_table = "organization_identifier"
    hsds_links = {"organization_id": "organization"}
    organization = _link(DirectoryOrganization, "identifiers")


class Program(HsdsRecord):
    hsds_table = "program"
    hsds_links = {"organization_id": "organization"}
    hsds_columns = ("name",)
    organization = _link(DirectoryOrganization, "programs")
    name = models.TextField(null=True)


class Service(HsdsRecord):
    """HSDS service plus the framework's structured eligibility.

    The age range is HSDS's own `minimum_age` / `maximum_age` (kept in `data`)."""

    hsds_table = "service"
    hsds_links = {"organization_id": "organization", "program_id": "program"}
    hsds_columns = ("name", "status")
    organization = _link(DirectoryOrganization, "services")
    program = _link(Program, "services")
    name = models.TextField(null=True)
    status = models.CharField(max_length=30, null=True)
    life_stages = models.ManyToManyField(LifeStage, blank=True, related_name="services")
    populations_served = models.JSONField(default=list, blank=True)
    income_limit_percent_fpl = models.PositiveSmallIntegerField(
        "income limit (% of federal poverty level)", null=True, blank=True
    )
    residency_areas = models.ManyToManyField(Area, blank=True, related_name="services")
    other_criteria = models.TextField(blank=True)


class Location(HsdsRecord):
    hsds_table = "location"
    hsds_links = {"organization_id": "organization"}
    hsds_columns = ("name", "location_type")
    organization = _link(DirectoryOrganization, "locations")
    name = models.TextField(null=True)
    location_type = models.CharField(max_length=20, null=True)


class ServiceAtLocation(HsdsRecord):
    hsds_table = "service_at_location"
    hsds_links = {"service_id": "service", "location_id": "location"}
    service = _link(Service, "service_at_locations")
    location = _link(Location, "service_at_locations")


class Address(HsdsRecord):
    hsds_table = "address"
    hsds_links = {"location_id": "location"}
    location = _link(Location, "addresses")

    class Meta(HsdsRecord.Meta):
        verbose_name_plural = "addresses"


class Contact(HsdsRecord):
    hsds_table = "contact"
    hsds_links = {
        "organization_id": "organization",
        "service_id": "service",
        "service_at_location_id": "service_at_location",
        "location_id": "location",
    }
    organization = _link(DirectoryOrganization)
    service = _link(Service)
    service_at_location = _link(ServiceAtLocation)
    location = _link(Location)


class Phone(HsdsRecord):
    hsds_table = "phone"
    hsds_links = {
        "location_id": "location",
        "service_id": "service",
        "organization_id": "organization",
        "contact_id": "contact",
        "service_at_location_id": "service_at_location",
    }
    location = _link(Location)
    service = _link(Service)
    organization = _link(DirectoryOrganization)
    contact = _link(Contact)
    service_at_location = _link(ServiceAtLocation)


class Schedule(HsdsRecord):
    hsds_table = "schedule"
    hsds_links = {
        "service_id": "service",
        "location_id": "location",
        "service_at_location_id": "service_at_location",
    }
    service = _link(Service)
    location = _link(Location)
    service_at_location = _link(ServiceAtLocation)


class ServiceArea(HsdsRecord):
    hsds_table = "service_area"
    hsds_links = {"service_id": "service"}
    service = _link(Service, "service_areas")


class Language(HsdsRecord):
    hsds_table = "language"
    hsds_links = {"service_id": "service", "location_id": "location", "phone_id": "phone"}
    service = _link(Service)
    location = _link(Location)
    phone = _link(Phone)


class Accessibility(HsdsRecord):
    hsds_table = "accessibility"
    hsds_links = {"location_id": "location"}
    location = _link(Location)

    class Meta(HsdsRecord.Meta):
        verbose_name_plural = "accessibility"


class CostOption(HsdsRecord):
    hsds_table = "cost_option"
    hsds_links = {"service_id": "service"}
    service = _link(Service)


class RequiredDocument(HsdsRecord):
    hsds_table = "required_document"
    hsds_links = {"service_id": "service"}
    service = _link(Service)


class Funding(HsdsRecord):
    hsds_table = "funding"
    hsds_links = {"organization_id": "organization", "service_id": "service"}
    organization = _link(DirectoryOrganization)
    service = _link(Service)

    class Meta(HsdsRecord.Meta):
        verbose_name_plural = "funding"


class Attribute(HsdsRecord):
    """A taxonomy term attached to any record: `link_entity` names the table."""

    hsds_table = "attribute"
    hsds_links = {"taxonomy_term_id": "taxonomy_term"}
    hsds_columns = ("link_id", "link_entity", "link_type")
    taxonomy_term = _link(TaxonomyTerm, "attributes")
    link_id = models.CharField(max_length=64, null=True)
    link_entity = models.CharField(max_length=40, null=True)
    link_type = models.TextField(null=True)

    class Meta(HsdsRecord.Meta):
        indexes = [models.Index(fields=["network", "link_entity", "link_id"])]


class Metadata(HsdsRecord):
    """HSDS's change log: one row per changed field (or per created record)."""

    hsds_table = "metadata"
    hsds_columns = ("resource_id", "resource_type")
    resource_id = models.CharField(max_length=64, null=True)
    resource_type = models.CharField(max_length=40, null=True)

    class Meta(HsdsRecord.Meta):
        verbose_name = "change log entry"
        verbose_name_plural = "change log"
        indexes = [models.Index(fields=["network", "resource_type", "resource_id"])]


class MetaTableDescription(HsdsRecord):
    hsds_table = "meta_table_description"


class ServiceCapacity(HsdsRecord):
    """HSDS 3.1's service_capacity: how much of a service is available now.

    Not part of HSDS 3.0, so 3.0 imports and exports leave it out."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="capacities")
    available = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=100, help_text="e.g. beds, seats, appointments")
    updated = models.DateTimeField()

    class Meta(HsdsRecord.Meta):
        verbose_name_plural = "service capacities"
        constraints = [
            *HsdsRecord.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(available__gte=0), name="directory_capacity_not_negative"
            ),
        ]


# Import order: a table comes after every table it links to.
HSDS_MODELS: tuple[type[HsdsRecord], ...] = (
    Taxonomy,
    TaxonomyTerm,
    DirectoryOrganization,
    DirectoryOrganizationIdentifier,
    Program,
    Location,
    Service,
    ServiceAtLocation,
    Address,
    Contact,
    Phone,
    Schedule,
    ServiceArea,
    Language,
    Accessibility,
    CostOption,
    RequiredDocument,
    Funding,
    Attribute,
    Metadata,
    MetaTableDescription,
)
MODEL_FOR_TABLE = {model.hsds_table: model for model in HSDS_MODELS}
DIRECTORY_MODELS = (*HSDS_MODELS, ServiceCapacity)


# Search, listings and uploads (not HSDS tables) ------------------------------------------


class ServiceSearch(models.Model):
    """One row per service: what search shows and ranks, rebuilt by `search_index_refresh`.

    `facets` lists the service's filter values for reading (" term:food lang:es "); the
    filters themselves use the indexed ServiceFacet rows. The text columns feed the
    full-text index: the FTS5 table `directory_service_fts` on SQLite, the `document`
    tsvector (GIN-indexed) on PostgreSQL."""

    # Indexed as the first column of the index below (the search index is rebuilt in bulk).
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="search_entry")
    name = models.TextField(blank=True)
    organization_name = models.TextField(blank=True)
    body = models.TextField(blank=True)
    facets = models.TextField(blank=True)
    verified_on = models.DateField(null=True, blank=True)
    document = SearchVectorField(null=True, blank=True)

    class Meta:
        verbose_name = "service search entry"
        verbose_name_plural = "service search entries"
        indexes = [models.Index(fields=["network", "verified_on"])]

    def __str__(self) -> str:
        return f"search entry of {self.name}"


class ServiceFacet(models.Model):
    """One filter value of a service ("term:food", "lang:es", "area:12"), indexed so a
    filter is an index lookup rather than a scan. Rebuilt with its ServiceSearch row."""

    # Indexed as the first column of the index below (the search index is rebuilt in bulk).
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="facets")
    token = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["network", "token", "service"])]

    def __str__(self) -> str:
        return self.token


class ServiceSearchPoint(models.Model):
    """A place where a service is offered (from its locations' latitude and longitude)."""

    # Indexed as the first column of the index below (the search index is rebuilt in bulk).
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="search_points")
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["network", "latitude", "longitude"])]

    def __str__(self) -> str:
        return f"{self.latitude}, {self.longitude}"


class ServiceOpening(models.Model):
    """Weekly opening hours of a service, from its HSDS schedules (weekday 0 = Monday)."""

    # Indexed as the first column of the index below (the search index is rebuilt in bulk).
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="openings")
    weekday = models.PositiveSmallIntegerField()
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        indexes = [models.Index(fields=["network", "weekday", "opens_at"])]

    def __str__(self) -> str:
        return f"day {self.weekday} {self.opens_at}-{self.closes_at}"


class ResourceList(models.Model):
    """A shareable list of services for a client: service ids only, no personal data."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    service_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"resource list {self.token[:8]}"


class ListingChangeRequest(models.Model):
    """A partner's proposed change to one of its own listings, for the backbone to decide."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="change_requests")
    organization = models.ForeignKey(
        NetworkOrganization, on_delete=models.CASCADE, related_name="+"
    )
    proposed = models.JSONField(help_text="Field -> proposed value.")
    current = models.JSONField(help_text="Field -> value when proposed.")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"change to {self.service.name} ({self.get_status_display()})"


class DirectoryUpload(models.Model):
    """An HSDS file sent on the web, imported by a background task that reports progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        INVALID = "invalid", "Has problems: nothing written"
        FAILED = "failed", "Failed: nothing written"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    repair = models.BooleanField(default=False)
    skip_invalid = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=100, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.INVALID, self.Status.FAILED)
