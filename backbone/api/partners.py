"""Memberships of the network and the assessments of partners: prospects, readiness."""

from datetime import date, datetime
from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema, Router, Schema

from backbone.api.errors import BODY, field_errors
from backbone.api.resources import Resource, add_routes, ref
from backbone.api.schemas import Id, Search, Text, choices, context_access, patch_schema
from backbone.core import services as core_services
from backbone.core.access import Access
from backbone.core.models import Membership, Organization
from backbone.partners import readiness, services
from backbone.partners.models import ProspectAssessment, ReadinessAssessment

router = Router()

# Memberships ------------------------------------------------------------------------------


class MembershipOut(Schema):
    id: int
    organization_id: int
    organization_name: str = Field(alias="organization.name")
    status: str
    role: str
    joined_on: date | None
    left_on: date | None
    data_sharing_signed_on: date | None = Field(description="Shown to network members only.")
    notes: str = Field(description="The backbone's notes; shown to network admins only.")

    @staticmethod
    def resolve_data_sharing_signed_on(obj, context) -> date | None:
        return obj.data_sharing_signed_on if context_access(context).is_member else None

    @staticmethod
    def resolve_notes(obj, context) -> str:
        return obj.notes if context_access(context).is_admin else ""


class MembershipChange(Schema):
    status: choices(Membership.Status)
    role: choices(Membership.Role)
    joined_on: date | None
    left_on: date | None
    data_sharing_signed_on: date | None
    notes: Text


class MembershipFilters(FilterSchema):
    q: Annotated[Search, FilterLookup("organization__name__icontains")] = None
    status: choices(Membership.Status) | None = None
    role: choices(Membership.Role) | None = None


def membership_update(access: Access, membership: Membership, fields: dict) -> Membership:
    return services.membership_update(
        access=access, membership=membership, fields=fields, via="api"
    )


# Prospect assessments ---------------------------------------------------------------------

Score = Annotated[int, Field(ge=1, le=5)]


class ProspectAssessmentOut(Schema):
    id: int
    organization_id: int
    organization_name: str = Field(alias="organization.name")
    influence: int
    alignment: int
    capacity: int
    reach: int
    total: int
    quadrant: str
    notes: str
    assessed_by_id: int | None
    assessed_on: date


class ProspectAssessmentIn(Schema):
    organization_id: Id
    influence: Score
    alignment: Score
    capacity: Score
    reach: Score
    notes: Text = ""
    assessed_on: date = Field(None, description="Defaults to today.")


class OrganizationFilter(FilterSchema):
    q: Annotated[Search, FilterLookup("organization__name__icontains")] = None
    organization_id: Id | None = None


def prospect_create(access: Access, fields: dict) -> ProspectAssessment:
    return core_services.object_create(
        access=access,
        model=ProspectAssessment,
        via="api",
        fields={**fields, "assessed_by": access.actor},
    )


# Readiness assessments --------------------------------------------------------------------


class ReadinessDomain(Schema):
    domain: str
    value: int
    answer: str


class ReadinessAssessmentOut(Schema):
    id: int
    organization_id: int
    organization_name: str = Field(alias="organization.name")
    answers: dict[str, int]
    score: int = Field(description="Percent of the highest possible score.")
    level: str
    level_label: str
    summary: str
    next_steps: list[str]
    domains: list[ReadinessDomain]
    submitted_by_id: int | None
    submitted_at: datetime

    @staticmethod
    def resolve_level_label(obj) -> str:
        return readiness.level_label(obj.level)

    @staticmethod
    def resolve_summary(obj) -> str:
        return readiness.result(obj.answers, obj.level)["summary"]

    @staticmethod
    def resolve_next_steps(obj) -> list[str]:
        return readiness.result(obj.answers, obj.level)["next_steps"]

    @staticmethod
    def resolve_domains(obj) -> list[dict]:
        return readiness.result(obj.answers, obj.level)["domains"]


class ReadinessAssessmentIn(Schema):
    organization_id: Id
    answers: dict[Annotated[Text, Field(max_length=40)], int] = Field(
        max_length=20,
        description="Question code → answer from 0 to 3, for each of: "
        + ", ".join(readiness.QUESTION_CODES)
        + ".",
    )


def readiness_create(access: Access, fields: dict) -> ReadinessAssessment:
    with field_errors(prefix=(*BODY, "answers")):
        return services.readiness_submit(
            access=access, organization=fields["organization"], answers=fields["answers"], via="api"
        )


def with_organization(access: Access, rows):
    return rows.select_related("organization")


RESOURCES = [
    Resource(
        model=Membership,
        path="memberships",
        name="membership",
        tag="memberships",
        out=MembershipOut,
        filters=MembershipFilters,
        update_in=patch_schema(MembershipChange, "MembershipPatch"),
        update=membership_update,
        delete=lambda access, row: services.membership_remove(
            access=access, membership=row, via="api"
        ),
        rows=with_organization,
    ),
    Resource(
        model=ProspectAssessment,
        path="prospect-assessments",
        name="prospect_assessment",
        tag="prospect assessments",
        out=ProspectAssessmentOut,
        filters=OrganizationFilter,
        create_in=ProspectAssessmentIn,
        update_in=patch_schema(ProspectAssessmentIn, "ProspectAssessmentPatch"),
        refs={"organization_id": ref("organization", Organization)},
        create=prospect_create,
        rows=with_organization,
    ),
    Resource(
        model=ReadinessAssessment,
        path="readiness-assessments",
        name="readiness_assessment",
        tag="readiness assessments",
        out=ReadinessAssessmentOut,
        filters=OrganizationFilter,
        create_in=ReadinessAssessmentIn,
        refs={"organization_id": ref("organization", Organization)},
        create=readiness_create,
        rows=with_organization,
    ),
]
for resource in RESOURCES:
    add_routes(router, resource)
