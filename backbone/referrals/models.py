"""Service coordination: the people partners serve, their consent, closed-loop referrals
between partners, life-stage milestones, and the audit of every read of a person's record.

Identifying fields are encrypted at rest (`crypto.EncryptedTextField`); blind indexes
(keyed HMACs) find duplicates without plain text. Demographics used for disaggregation
are category codes of the network's measurement dimensions, stored in the clear because
analytics group by them; they are never shown outside the network unsuppressed.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from backbone.core.models import Area, LifeStage, Network, Organization
from backbone.directory.models import Service
from backbone.ecosystem.models import Pathway, PathwayStep
from backbone.referrals.crypto import EncryptedTextField


class ReferralSettings(models.Model):
    """A network's service-coordination rules (one row per network)."""

    network = models.OneToOneField(
        Network, on_delete=models.CASCADE, related_name="referral_settings"
    )
    response_business_days = models.PositiveSmallIntegerField(
        "respond within (business days)",
        default=3,
        help_text="A receiving partner accepts or declines a referral within this many "
        "business days; later referrals are escalated.",
    )
    escalate_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who is told about overdue referrals besides the receiving partner; "
        "empty for the network admins.",
    )
    allow_self_referrals = models.BooleanField(
        default=True,
        help_text="People may refer themselves from the public directory (with consent).",
    )

    def __str__(self) -> str:
        return f"Referral settings of {self.network}"


class Person(models.Model):
    """Someone partners serve. Identifying fields are encrypted; the blind indexes
    (`birth_date_index`, `name_index`) let duplicate detection match without them."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    given_name = EncryptedTextField()
    family_name = EncryptedTextField()
    birth_date = EncryptedTextField(help_text="ISO date, encrypted.")
    phone = EncryptedTextField(blank=True)
    email = EncryptedTextField(blank=True)
    street_address = EncryptedTextField(blank=True)
    preferred_language = models.CharField(
        max_length=20, blank=True, help_text="BCP 47 code, e.g. en, es, vi."
    )
    # {dimension code: category code}, the measurement dimensions (race, gender, income...)
    demographics = models.JSONField(default=dict, blank=True)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    birth_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Kept in the clear for age bands in analytics."
    )
    birth_date_index = models.CharField(max_length=32, db_index=True)
    name_index = models.CharField(
        max_length=32, db_index=True, help_text="Blind index of the family name's sound."
    )
    created_by_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "people"
        indexes = [models.Index(fields=["network", "birth_date_index"])]

    def __str__(self) -> str:
        return f"Person {self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class CareRelationship(models.Model):
    """An organization serves this person (a treating relationship in 42 CFR Part 2's
    words): made by an accepted referral or recorded by the partner."""

    class Source(models.TextChoices):
        REFERRAL = "referral", "Accepted referral"
        RECORDED = "recorded", "Recorded by the partner"
        IMPORT = "import", "Imported"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    started_on = models.DateField(default=datetime.date.today)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organization"], name="carerelationship_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Organization {self.organization_id} serves person {self.person_id}"


class Consent(models.Model):
    """A person's written consent to disclose their information, with the elements of
    42 CFR §2.31 (2024 rule). Disclosures are checked against it at read time."""

    class Recipients(models.TextChoices):
        NAMED = "named", "The organizations named"
        TREATING = "treating", "Network participants with a treating relationship"

    class Purpose(models.TextChoices):
        REFERRAL = "referral", "Referral and care coordination"
        TREATMENT = "treatment", "Treatment, payment and health care operations"
        EVALUATION = "evaluation", "Program evaluation"
        OTHER = "other", "Other (described)"

    class Signature(models.TextChoices):
        ELECTRONIC = "electronic", "Signed electronically"
        PAPER = "paper", "Signed on paper (recorded)"
        VERBAL = "verbal", "Given verbally (recorded)"

    # What information may be disclosed (a person may consent to part of it).
    INFORMATION = {
        "identity": "Name, date of birth and contact details",
        "demographics": "Demographics",
        "referrals": "Referrals and their status",
        "outcomes": "Service outcomes and milestones",
        "notes": "Notes and messages between organizations",
    }

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    disclosing_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who may disclose (§2.31(a)(2)).",
    )
    recipients = models.CharField(max_length=10, choices=Recipients.choices)
    recipient_organizations = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="+",
        help_text="To whom, when recipients are named (§2.31(a)(3)).",
    )
    information = models.JSONField(
        default=list, help_text="Keys of Consent.INFORMATION: what may be disclosed."
    )
    information_description = EncryptedTextField(
        blank=True, help_text="How much and what kind, in the person's words (§2.31(a)(1))."
    )
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    purpose_description = EncryptedTextField(blank=True)
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(
        max_length=200, blank=True, help_text="An event that ends the consent, if no date."
    )
    expired_by_event_at = models.DateTimeField(null=True, blank=True)
    signature = models.CharField(max_length=10, choices=Signature.choices)
    signed_by = EncryptedTextField(help_text="The person, or their authorized representative.")
    signed_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revocation_note = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
                name="consent_has_expiry",
                violation_error_message="A consent needs an expiry date or event.",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent {self.pk} of person {self.person_id}"

    def is_active(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return (
            self.revoked_at is None
            and self.expired_by_event_at is None
            and (self.expires_on is None or self.expires_on >= on)
        )


class Referral(models.Model):
    """A referral of a person from organization A (or the person themselves) to a service
    at organization B. The state machine lives in services.py."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        IN_SERVICE = "in_service", "In service"
        COMPLETED = "completed", "Completed"
        CLOSED = "closed", "Closed without service"
        FORWARDED = "forwarded", "Forwarded"

    class DeclineReason(models.TextChoices):
        NO_CAPACITY = "no_capacity", "No capacity"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"
        UNREACHABLE = "unreachable", "Client unreachable"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        SERVICE_RECEIVED = "service_received", "Service received"
        GOAL_MET = "goal_met", "Service received, goal met"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="referrals")
    from_organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for a self-referral from the public directory.",
    )
    to_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    to_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pathway = models.ForeignKey(
        Pathway, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pathway_step = models.ForeignKey(
        PathwayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    forwarded_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forwarded_to"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)
    reason = EncryptedTextField(blank=True, help_text="Why the person is referred.")
    decline_reason = models.CharField(max_length=14, choices=DeclineReason.choices, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    respond_by = models.DateTimeField(help_text="The network's response-time standard.")
    responded_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["to_organization", "status", "sent_at"]),
            models.Index(fields=["from_organization", "status", "sent_at"]),
            models.Index(fields=["network", "sent_at"]),
            models.Index(fields=["network", "status", "respond_by"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "sent",
                        "accepted",
                        "declined",
                        "in_service",
                        "completed",
                        "closed",
                        "forwarded",
                    ]
                ),
                name="referral_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="referral_declined_has_reason",
                violation_error_message="A declined referral needs a reason.",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(outcome=""),
                name="referral_completed_has_outcome",
                violation_error_message="A completed referral needs an outcome.",
            ),
            models.CheckConstraint(
                condition=~Q(from_organization=F("to_organization")),
                name="referral_not_to_itself",
                violation_error_message="An organization does not refer to itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk}"


class ReferralEvent(models.Model):
    """One step of a referral's life: the state before and after, who, when, and why."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["referral", "at", "pk"]

    def __str__(self) -> str:
        return f"Referral {self.referral_id}: {self.from_status or 'new'} → {self.to_status}"


class ReferralMessage(models.Model):
    """A secure note or message between the sending and the receiving organization."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="messages")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["referral", "created_at", "pk"]

    def __str__(self) -> str:
        return f"Message on referral {self.referral_id}"


class Notification(models.Model):
    """An in-app notification to one user (email and Slack come with communication)."""

    class Kind(models.TextChoices):
        REFERRAL_RECEIVED = "received", "Referral received"
        REFERRAL_UPDATED = "updated", "Referral updated"
        MESSAGE = "message", "New message"
        OVERDUE = "overdue", "Referral overdue"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(max_length=300, help_text="Never holds a person's identity.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"])]

    def __str__(self) -> str:
        return self.text


class Milestone(models.Model):
    """A step of a person's journey across life stages (e.g. enrolled in college), from
    a completed referral or a partner's record."""

    class Source(models.TextChoices):
        REFERRAL = "referral", "Completed referral"
        RECORDED = "recorded", "Partner record"
        IMPORT = "import", "Imported"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=200)
    life_stage = models.ForeignKey(
        LifeStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pathway_step = models.ForeignKey(
        PathwayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referral = models.OneToOneField(
        Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="milestone"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    achieved_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["person", "achieved_on", "pk"]
        indexes = [models.Index(fields=["network", "pathway_step", "achieved_on"])]

    def __str__(self) -> str:
        return self.name


class PersonMerge(models.Model):
    """Two records found to be one person, merged: who did it, when, and why."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    kept = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = EncryptedTextField()
    score = models.FloatField(help_text="The duplicate-detection score when merged.")
    moved = models.JSONField(default=dict, help_text="Row ids moved to the kept record.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Person {self.merged_id} merged into {self.kept_id}"


class PersonAccess(models.Model):
    """One read of a person's record: who, when, what, through which route
    (HIPAA §164.312(b)). Reviewable by the organizations serving that person."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_email = models.CharField(max_length=254, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    what = models.CharField(
        max_length=40, help_text="What was read: person, referral, messages, export..."
    )
    route = models.CharField(max_length=200, help_text="The URL name or command.")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["person", "at"])]

    def __str__(self) -> str:
        return f"{self.user_email or 'system'} read {self.what} of person {self.person_id}"
