"""Working groups: the partners and people who carry out part of the shared work."""

from datetime import datetime
from typing import Annotated

from django.db.models import Prefetch
from ninja import Field, FilterLookup, FilterSchema, Router, Schema

from backbone.api.resources import Resource, add_routes, people_ref, ref
from backbone.api.schemas import Id, Ids, Search, Text, context_access, patch_schema
from backbone.core.access import Access
from backbone.core.models import LifeStage, Organization
from backbone.governance.models import WorkingGroup

router = Router()


class WorkingGroupOut(Schema):
    id: int
    name: str
    charter: str
    life_stage_id: int | None
    organization_ids: list[int]
    people_ids: list[int] = Field(description="Shown to network members only.")
    chair_id: int | None
    chair_name: str | None
    created_at: datetime

    @staticmethod
    def resolve_organization_ids(obj) -> list[int]:
        return [organization.pk for organization in obj.visible_organizations]

    @staticmethod
    def resolve_people_ids(obj, context) -> list[int]:
        if not context_access(context).is_member:
            return []
        return [person.pk for person in obj.people.all()]

    @staticmethod
    def resolve_chair_name(obj) -> str | None:
        return str(obj.chair) if obj.chair else None


class WorkingGroupIn(Schema):
    name: Annotated[Text, Field(max_length=200)]
    charter: Text = Field(description="What the group is for and what it decides.")
    life_stage_id: Id | None = None
    organization_ids: Ids = []
    people_ids: Ids = Field([], description="Users with a role in this network.")
    chair_id: Id | None = Field(None, description="A user with a role in this network.")


class WorkingGroupFilters(FilterSchema):
    q: Annotated[Search, FilterLookup(["name__icontains", "charter__icontains"])] = None
    life_stage_id: Id | None = None


def working_group_rows(access: Access, rows):
    return rows.select_related("chair").prefetch_related(
        "people",
        Prefetch(
            "organizations", queryset=access.scope(Organization), to_attr="visible_organizations"
        ),
    )


RESOURCES = [
    Resource(
        model=WorkingGroup,
        path="working-groups",
        name="working_group",
        tag="working groups",
        out=WorkingGroupOut,
        filters=WorkingGroupFilters,
        create_in=WorkingGroupIn,
        update_in=patch_schema(WorkingGroupIn, "WorkingGroupPatch"),
        refs={
            "life_stage_id": ref("life_stage", LifeStage),
            "organization_ids": ref("organizations", Organization, many=True),
            "people_ids": people_ref("people", many=True),
            "chair_id": people_ref("chair"),
        },
        rows=working_group_rows,
    ),
]
for resource in RESOURCES:
    add_routes(router, resource)
