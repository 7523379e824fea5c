"""Importing a network's areas (state → county → city, ZIP, census tract) from a file.

Rows may come in any order: parents are resolved once every row is read, from the file
or from the areas the network already has. An area is matched by its code, so importing
the same file twice changes nothing the second time. An empty cell never clears a
stored value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from backbone.core import services, tabular
from backbone.core.access import Access
from backbone.core.models import Area
from backbone.core.tabular import ImportResult, RowError, RowPlan

COLUMNS = ["code", "name", "kind", "parent_code", "population"]
REQUIRED_COLUMNS = ["code", "name", "kind", "parent_code"]
# Where a kind sits in the hierarchy; kinds not listed may sit anywhere.
RANK = {
    Area.Kind.STATE: 0,
    Area.Kind.COUNTY: 1,
    Area.Kind.CITY: 2,
    Area.Kind.ZIP: 2,
    Area.Kind.TRACT: 2,
}


@dataclass
class AreaRow(RowPlan):
    code: str = ""
    area: Area | None = None
    fields: dict = field(default_factory=dict)  # to write; "parent" holds a parent code
    depth: int = 0


def areas_import(
    *, access: Access, data: bytes, filename: str, commit: bool = False, via: str = "import"
) -> ImportResult:
    """Check every row of an area list; with COMMIT, write all of it or nothing."""
    access.require_add(Area)
    return tabular.run_import(
        data=data,
        filename=filename,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        plan=lambda table: _plan(access, table),
        apply=lambda plans: _apply(access, plans, via),
        commit=commit,
    )


def _plan(access: Access, table: tabular.Table) -> tuple[list[AreaRow], list[RowError]]:
    existing = {area.code: area for area in access.scope(Area)}
    code_of = {area.pk: area.code for area in existing.values()}
    parent_of = {code: code_of.get(area.parent_id) for code, area in existing.items()}
    kind_of = {code: area.kind for code, area in existing.items()}
    errors: list[RowError] = []
    rows: dict[str, tuple[int, dict[str, str]]] = {}
    plans: list[AreaRow] = []
    bad_rows: set[int] = set()

    def error(number: int, values: dict, column: str, message: str) -> None:
        errors.append(
            RowError(row=number, column=column, value=values.get(column, ""), message=message)
        )
        bad_rows.add(number)

    for number, values in table.rows:
        code, name = values.get("code", ""), " ".join(values.get("name", "").split())
        if not code:
            error(number, values, "code", "A code is required.")
        elif code in rows:
            error(number, values, "code", f"The code {code} is also on row {rows[code][0]}.")
        else:
            rows[code] = (number, values)
        if not name:
            error(number, values, "name", "A name is required.")
        kind = tabular.choice_code(values.get("kind", ""), Area.Kind)
        if kind is None:
            error(
                number, values, "kind", f"Unknown kind. Use one of: {', '.join(Area.Kind.values)}."
            )
        parent_code = values.get("parent_code", "")
        if parent_code and parent_code == code:
            error(number, values, "parent_code", "An area cannot be inside itself.")
        fields = {"code": code, "name": name, "kind": kind}
        if values.get("population"):
            fields["population"] = values["population"].replace(",", "").replace(" ", "")
        candidate = Area(network=access.network, **fields)
        # Missing values were reported above; full_clean would only repeat them.
        exclude = [
            "network",
            "parent",
            *(name for name in ("code", "name", "kind") if not fields[name]),
        ]
        try:
            candidate.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for row_error in tabular.validation_errors(number, exc, values):
                errors.append(row_error)
                bad_rows.add(number)
        else:
            fields["population"] = candidate.population
        if code and rows.get(code, (None,))[0] == number:
            if kind:
                kind_of[code] = kind
            if parent_code or code not in existing:
                parent_of[code] = parent_code or None
        plans.append(AreaRow(row=number, label=name or code, code=code, fields=fields))

    for number, values in rows.values():
        _check_parent(number, values, rows, existing, parent_of, kind_of, error)
    if errors:
        return [], sorted(errors, key=lambda e: e.row)

    for plan in plans:
        plan.depth = _depth(plan.code, parent_of)
        area = existing.get(plan.code)
        parent_code = parent_of.get(plan.code)
        if area is None:
            plan.action = RowPlan.CREATE
            plan.fields["parent"] = parent_code
            plan.changes = [
                ("kind", "", plan.fields["kind"]),
                ("parent_code", "", parent_code or ""),
            ]
            if plan.fields.get("population") is not None:
                plan.changes.append(("population", "", str(plan.fields["population"])))
            continue
        plan.area = area
        wanted = {
            name: value
            for name, value in plan.fields.items()
            if name != "population" or value is not None
        }
        changed = {name: value for name, value in wanted.items() if getattr(area, name) != value}
        if parent_code != code_of.get(area.parent_id):
            changed["parent"] = parent_code
            plan.changes.append(
                ("parent_code", code_of.get(area.parent_id) or "", parent_code or "")
            )
        plan.changes = [
            (name, _text(getattr(area, name)), _text(value))
            for name, value in changed.items()
            if name != "parent"
        ] + plan.changes
        plan.fields = changed
        plan.action = RowPlan.UPDATE if changed else RowPlan.UNCHANGED
    return plans, []


def _check_parent(number, values, rows, existing, parent_of, kind_of, error) -> None:
    code = values["code"]
    parent_code = values.get("parent_code", "")
    if (
        parent_code
        and parent_code != code
        and parent_code not in rows
        and (parent_code not in existing)
    ):
        error(
            number,
            values,
            "parent_code",
            f"No area has the code {parent_code}, in this file or in the network.",
        )
        return
    parent = parent_of.get(code)
    kind = kind_of.get(code)
    parent_rank, rank = RANK.get(kind_of.get(parent)), RANK.get(kind)
    # Cities, ZIP codes and tracts overlap, so those may nest in each other either way.
    if (
        parent
        and rank is not None
        and parent_rank is not None
        and (parent_rank > rank or (parent_rank == rank and rank < RANK[Area.Kind.CITY]))
    ):
        error(
            number,
            values,
            "parent_code",
            f"A {Area.Kind(kind).label.lower()} cannot be inside a "
            f"{Area.Kind(kind_of[parent]).label.lower()} ({parent}).",
        )
    chain, node = [code], parent
    while node is not None and node not in chain:
        chain.append(node)
        node = parent_of.get(node)
    if node == code and len(chain) > 1:
        error(
            number,
            values,
            "parent_code",
            f"These areas would be inside each other: {' → '.join([*chain, code])}.",
        )


def _depth(code: str, parent_of: dict) -> int:
    depth, node = 0, parent_of.get(code)
    while node is not None:
        depth, node = depth + 1, parent_of.get(node)
    return depth


def _text(value) -> str:
    return "" if value is None else str(value)


def _apply(access: Access, plans: list[AreaRow], via: str) -> None:
    areas = {area.code: area for area in access.scope(Area)}
    # Parents first, so each area's chain of parents is final when it is checked.
    for plan in sorted(plans, key=lambda p: (p.depth, p.row)):
        if plan.action == RowPlan.UNCHANGED:
            continue
        fields = {**plan.fields}
        if "parent" in fields:
            fields["parent"] = areas[fields["parent"]] if fields["parent"] else None
        try:
            if plan.area is None:
                areas[plan.code] = services.object_create(
                    access=access, model=Area, fields=fields, via=via
                )
            else:
                areas[plan.code] = services.object_update(
                    access=access, instance=plan.area, fields=fields, via=via
                )
        except ValidationError as exc:
            raise tabular.ImportFailed(
                tabular.validation_errors(plan.row, exc, {}, {"parent": "parent_code"})
            ) from exc
        except IntegrityError as exc:
            raise tabular.ImportFailed(
                [
                    RowError(
                        row=plan.row,
                        column="code",
                        value=plan.code,
                        message="Someone changed this area while the file was imported; "
                        "import the file again.",
                    )
                ]
            ) from exc
