"""One small factory for the list / get / create / update / delete operations of a
network-owned model, so each resource is declared once instead of written five times.

Every operation goes through the permission layer: the role-level check in
`backbone.api.auth`, the row in `access.get_object` / `access.scope`, and writes through
`backbone.core.services` (which check again, validate and audit with via="api").
Resources with their own rules pass hooks (`create`, `update`, `delete`, `search`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models
from ninja import FilterSchema, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from backbone.api.auth import path_id, secured
from backbone.api.errors import ERRORS, field_errors, invalid
from backbone.api.schemas import MAX_ID, Pages
from backbone.core import services
from backbone.core.access import Access
from backbone.core.models import NetworkRole


@dataclass(frozen=True)
class Ref:
    """A body field that names rows of another model by id (or a list of ids).

    The ids are looked up only among the rows the caller may see in this network, so a
    row of another network is refused with a 422 naming the field, as if it did not exist.
    """

    field: str  # the model field it sets, e.g. "life_stage"
    scope: Callable[[Access], models.QuerySet]
    many: bool = False


def ref(field_name: str, model: type[models.Model], *, many: bool = False) -> Ref:
    return Ref(field_name, lambda access: access.scope(model), many)


def network_people(access: Access) -> models.QuerySet:
    """Users with a role in the network that this access may see."""
    return get_user_model().objects.filter(pk__in=access.scope(NetworkRole).values("user_id"))


def people_ref(field_name: str, *, many: bool = False) -> Ref:
    return Ref(field_name, network_people, many)


def resolve_refs(access: Access, data: dict, refs: dict[str, Ref]) -> dict:
    """DATA (body field → value) as model fields, with referenced ids turned into rows."""
    fields = {}
    for name, value in data.items():
        reference = refs.get(name)
        if reference is None:
            fields[name] = value
            continue
        if value is None:
            fields[reference.field] = [] if reference.many else None
            continue
        ids = list(dict.fromkeys(value)) if reference.many else [value]
        found = reference.scope(access).in_bulk(ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise invalid(name, f"No item with id {missing[0]} in this network.")
        fields[reference.field] = [found[pk] for pk in ids] if reference.many else found[value]
    return fields


def _default_search(access: Access, queryset: models.QuerySet, filters: FilterSchema):
    return filters.filter(queryset)


def _plain(access: Access, queryset: models.QuerySet) -> models.QuerySet:
    return queryset


@dataclass
class Resource:
    model: type[models.Model]
    path: str  # under /networks/{network}/, e.g. "life-stages"
    name: str  # singular, for operation ids: "life_stage" → get_life_stage
    tag: str
    out: type[Schema]
    filters: type[FilterSchema]
    create_in: type[Schema] | None = None
    update_in: type[Schema] | None = None
    refs: dict[str, Ref] = field(default_factory=dict)
    # select_related / prefetch_related for the output schema
    rows: Callable[[Access, models.QuerySet], models.QuerySet] = _plain
    search: Callable[[Access, models.QuerySet, FilterSchema], models.QuerySet] = _default_search
    create: Callable[..., models.Model] | None = None  # (access, fields) → row
    update: Callable[..., models.Model] | None = None  # (access, row, fields) → row
    delete: Callable[..., None] | None = None  # (access, row)
    deletable: bool = True

    @property
    def plural(self) -> str:
        return self.path.replace("-", "_")

    @property
    def verbose(self) -> str:
        return str(self.model._meta.verbose_name)

    def field_names(self) -> dict[str, str]:
        """Model field → body field, to name the body field in a validation error."""
        return {reference.field: name for name, reference in self.refs.items()}

    def queryset(self, access: Access) -> models.QuerySet:
        queryset = self.rows(access, access.scope(self.model))
        ordering = [*(queryset.query.order_by or self.model._meta.ordering), "pk"]
        return queryset.order_by(*ordering)

    def find(self, access: Access, pk: int, action: str = "view") -> models.Model:
        """The row PK: 404 if this access may not see it, 403 if it may not do ACTION."""
        return access.get_object(self.model, action, pk=pk)

    def row_check(self, action: str) -> Callable[[Access, dict], None]:
        def check(access: Access, path: dict) -> None:
            if (pk := path_id(path.get("id"))) is not None:
                self.find(access, pk, action)

        return check

    def output(self, access: Access, obj: models.Model) -> models.Model:
        return self.queryset(access).get(pk=obj.pk)

    def do_create(self, access: Access, fields: dict) -> models.Model:
        if self.create:
            return self.create(access, fields)
        return services.object_create(access=access, model=self.model, fields=fields, via="api")

    def do_update(self, access: Access, obj: models.Model, fields: dict) -> models.Model:
        if self.update:
            return self.update(access, obj, fields)
        return services.object_update(access=access, instance=obj, fields=fields, via="api")

    def do_delete(self, access: Access, obj: models.Model) -> None:
        if self.delete:
            self.delete(access, obj)
        else:
            services.object_delete(access=access, instance=obj, via="api")


def add_routes(router: Router, resource: Resource) -> None:
    """Mount list and get (and create, update, delete where declared) for RESOURCE."""
    r = resource
    collection, item = f"/{{network}}/{r.path}", f"/{{network}}/{r.path}/{{id}}"
    common = {"tags": [r.tag]}

    def names(operation_id: str) -> dict:
        return {"operation_id": operation_id, "url_name": operation_id, **common}

    @router.get(
        collection,
        **secured(r.model),
        response={200: list[r.out], **ERRORS},
        summary=f"List {r.model._meta.verbose_name_plural}",
        **names(f"list_{r.plural}"),
    )
    @paginate(Pages)
    def list_rows(request, network: str, filters: Query[r.filters]):
        access = request.auth
        return r.search(access, r.queryset(access), filters)

    @router.get(
        item,
        **secured(r.model, row=r.row_check("view")),
        response={200: r.out, **ERRORS},
        summary=f"Get a {r.verbose}",
        **names(f"get_{r.name}"),
    )
    def get_row(request, network: str, id: int = Path(..., ge=1, le=MAX_ID)):
        access = request.auth
        return r.output(access, r.find(access, id))

    if r.create_in is not None:

        @router.post(
            collection,
            **secured(r.model, "add"),
            response={201: r.out, **ERRORS},
            summary=f"Add a {r.verbose}",
            **names(f"create_{r.name}"),
        )
        def create_row(request, network: str, payload: r.create_in):
            access = request.auth
            fields = resolve_refs(access, payload.model_dump(exclude_unset=True), r.refs)
            with field_errors(r.field_names()):
                obj = r.do_create(access, fields)
            return Status(201, r.output(access, obj))

    if r.update_in is not None:

        @router.patch(
            item,
            **secured(r.model, "change", r.row_check("change")),
            response={200: r.out, **ERRORS},
            summary=f"Change a {r.verbose}",
            **names(f"update_{r.name}"),
        )
        def update_row(
            request, network: str, payload: r.update_in, id: int = Path(..., ge=1, le=MAX_ID)
        ):
            access = request.auth
            obj = r.find(access, id, "change")
            fields = resolve_refs(access, payload.model_dump(exclude_unset=True), r.refs)
            with field_errors(r.field_names()):
                obj = r.do_update(access, obj, fields)
            return r.output(access, obj)

    if r.deletable:

        @router.delete(
            item,
            **secured(r.model, "delete", r.row_check("delete")),
            response={204: None, **ERRORS},
            summary=f"Delete a {r.verbose}",
            **names(f"delete_{r.name}"),
        )
        def delete_row(request, network: str, id: int = Path(..., ge=1, le=MAX_ID)):
            access = request.auth
            obj = r.find(access, id, "delete")
            with field_errors(prefix=()):
                r.do_delete(access, obj)
            return Status(204, None)
