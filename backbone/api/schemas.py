"""Building blocks shared by every resource's schemas: safe scalar types and pagination."""

from typing import Annotated, Any, Literal

from django.db import models
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination
from pydantic import AfterValidator, create_model

MAX_ID = 2**63 - 1  # the largest BigAutoField; bigger ids would overflow the database driver


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL characters in text; refuse them here as bad input, not a crash.
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Search = Text | None  # an optional text filter of a list
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Ids = Annotated[list[Id], Field(max_length=1000)]


def choices(enum: type[models.TextChoices], *, blank: bool = False) -> Any:
    """A Literal of the choice values (plus "" when the model field may be blank)."""
    values = tuple(enum.values) + (("",) if blank else ())
    return Literal[values]


def context_access(context: dict):
    """The `Access` of the request being serialized (set by the API's authorization)."""
    return context["request"].auth


def patch_schema(schema: type[Schema], name: str) -> type[Schema]:
    """SCHEMA with every field optional, for PATCH: only the fields sent are changed.

    A field left out keeps its value; `null` is accepted only where the type allows it.
    """
    fields = {
        field_name: (
            Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation,
            Field(None, description=info.description),
        )
        for field_name, info in schema.model_fields.items()
    }
    return create_model(name, __base__=Schema, __doc__=schema.__doc__, **fields)


class Pages(PageNumberPagination):
    """`?page=` and `?page_size=`; the answer carries `items` and the total `count`."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=500)
