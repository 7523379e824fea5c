"""Importing a partner list from CSV or XLSX: check every row, preview, then all or nothing.

An existing organization is matched by EIN (across the directory, since an EIN names one
organization), else by its name among this network's organizations. Matches are updated
where the file differs; everything else is created. An empty cell never clears a stored
value, so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from backbone.core import services as core_services
from backbone.core import tabular
from backbone.core.access import Access, dangerously_unscoped
from backbone.core.models import Area, Membership, Organization, OrganizationIdentifier, Sector
from backbone.core.models.tenancy import EIN_RE
from backbone.core.tabular import ImportResult, RowError, RowPlan
from backbone.partners import services

COLUMNS = [
    "name",
    "sectors",
    "status",
    "role",
    "joined_on",
    "ein",
    "website",
    "email",
    "phone",
    "street_address",
    "city",
    "state",
    "postal_code",
    "mission",
    "populations_served",
    "areas_served",
    "size",
]
REQUIRED_COLUMNS = ["name", "sectors"]
TEXT_COLUMNS = [
    "website",
    "email",
    "phone",
    "street_address",
    "city",
    "state",
    "postal_code",
    "mission",
]
MEMBERSHIP_COLUMNS = ["status", "role", "joined_on"]

EXAMPLE_ROW = {
    "name": "Riverside Family Center",
    "sectors": "nonprofit; health_care",
    "status": "active",
    "role": "partner",
    "joined_on": "2024-09-01",
    "ein": "12-3456789",
    "website": "https://riverside-family.example.org",
    "email": "hello@riverside-family.example.org",
    "phone": "555-0142",
    "street_address": "120 Mill Street",
    "city": "River City",
    "state": "OR",
    "postal_code": "97401",
    "mission": "Home visiting and parenting classes for families with young children.",
    "populations_served": "Families with children under 5; Spanish-speaking families",
    "areas_served": "",
    "size": "11-50",
}


def template_csv() -> str:
    """The header row and one example row, for people to fill in."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(EXAMPLE_ROW)
    return out.getvalue()


@dataclass
class PartnerRow(RowPlan):
    """A row's plan plus what applying it writes."""

    organization: Organization | None = None
    membership: Membership | None = None
    organization_fields: dict = field(default_factory=dict)
    membership_fields: dict = field(default_factory=dict)
    ein: str = ""  # an EIN identifier to add


def partners_import(
    *, access: Access, data: bytes, filename: str, commit: bool = False, via: str = "import"
) -> ImportResult:
    """Check every row of a partner list; with COMMIT, write all of it or nothing."""
    access.require_add(Organization)

    def apply(plans: list[PartnerRow]) -> None:
        for plan in plans:
            _apply(access, plan, via)

    return tabular.run_import(
        data=data,
        filename=filename,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        plan=lambda table: _Planner(access).plan(table),
        apply=apply,
        commit=commit,
    )


def _apply(access: Access, plan: PartnerRow, via: str) -> None:
    if plan.action == RowPlan.UNCHANGED:
        return
    try:
        organization = plan.organization
        if organization is None:
            organization = services.organization_create(
                access=access,
                fields=plan.organization_fields,
                membership=plan.membership_fields,
                via=via,
            )
        else:
            if plan.membership is None:
                core_services.object_create(
                    access=access,
                    model=Membership,
                    via=via,
                    fields={
                        "organization": organization,
                        **plan.membership_fields,
                    },
                )
            elif plan.membership_fields:
                services.membership_update(
                    access=access,
                    membership=plan.membership,
                    fields=plan.membership_fields,
                    via=via,
                )
            if plan.organization_fields:
                core_services.object_update(
                    access=access, instance=organization, fields=plan.organization_fields, via=via
                )
        if plan.ein:
            core_services.object_create(
                access=access,
                model=OrganizationIdentifier,
                via=via,
                fields={
                    "organization": organization,
                    "scheme": OrganizationIdentifier.Scheme.EIN,
                    "value": plan.ein,
                },
            )
    except ValidationError as exc:
        raise tabular.ImportFailed(tabular.validation_errors(plan.row, exc, {})) from exc
    except IntegrityError as exc:
        raise tabular.ImportFailed(
            [
                RowError(
                    row=plan.row,
                    column="",
                    value="",
                    message="Someone changed this organization while the file was imported; "
                    "import the file again.",
                )
            ]
        ) from exc


def _text(value) -> str:
    return "" if value is None else str(value)


def _names(objects) -> str:
    return ", ".join(sorted(str(o) for o in objects))


def _normalize_ein(value: str) -> str:
    digits = value.replace(" ", "")
    if digits.isdigit() and len(digits) == 9:
        return f"{digits[:2]}-{digits[2:]}"
    return digits


def _normalize_website(value: str) -> str:
    if value and "://" not in value:
        return f"https://{value}"
    return value


class _Planner:
    """Works out what each row would do, reading the network's partners once."""

    def __init__(self, access: Access):
        self.access = access
        self.sectors: dict[str, Sector] = {}
        for sector in Sector.objects.all():
            self.sectors[sector.code.lower()] = sector
            self.sectors[sector.name.lower()] = sector
        self.sector_codes = ", ".join(Sector.objects.values_list("code", flat=True))
        self.areas = {area.code: area for area in access.scope(Area)}
        self.areas_folded = {code.lower(): area for code, area in self.areas.items()}
        memberships = (
            access.scope(Membership)
            .select_related("organization")
            .prefetch_related(
                "organization__sectors", "organization__areas_served", "organization__identifiers"
            )
        )
        self.by_name: dict[str, list[Membership]] = {}
        self.membership_of: dict[int, Membership] = {}
        for membership in memberships:
            self.by_name.setdefault(membership.organization.name.lower(), []).append(membership)
            self.membership_of[membership.organization_id] = membership
        self.by_ein: dict[str, Organization] = {}
        self.seen_names: dict[str, int] = {}
        self.seen_eins: dict[str, int] = {}
        self.seen_organizations: dict[int, int] = {}

    def plan(self, table: tabular.Table) -> tuple[list[PartnerRow], list[RowError]]:
        eins = {_normalize_ein(values.get("ein", "")) for _, values in table.rows} - {""}
        # An EIN identifies one organization in the whole directory (the identifier is
        # unique across networks), so the lookup is deliberately not limited to this network.
        identifiers = (
            dangerously_unscoped(OrganizationIdentifier)
            .filter(scheme=OrganizationIdentifier.Scheme.EIN, value__in=eins)
            .select_related("organization")
        )
        self.by_ein = {identifier.value: identifier.organization for identifier in identifiers}
        plans, errors = [], []
        for number, values in table.rows:
            plan, row_errors = self.row(number, values)
            errors.extend(row_errors)
            if not row_errors:
                plans.append(plan)
        return plans, errors

    def row(self, number: int, values: dict[str, str]) -> tuple[PartnerRow, list[RowError]]:
        errors: list[RowError] = []

        def error(column: str, message: str) -> None:
            errors.append(
                RowError(row=number, column=column, value=values.get(column, ""), message=message)
            )

        name = " ".join(values.get("name", "").split())
        if not name:
            error("name", "A name is required.")
        elif name.lower() in self.seen_names:
            error("name", f"“{name}” is also on row {self.seen_names[name.lower()]}.")
        else:
            self.seen_names[name.lower()] = number

        ein = _normalize_ein(values.get("ein", ""))
        if ein and not EIN_RE.match(ein):
            error("ein", "An EIN has the form 12-3456789.")
            ein = ""
        elif ein and ein in self.seen_eins:
            error("ein", f"The EIN {ein} is also on row {self.seen_eins[ein]}.")
            ein = ""
        elif ein:
            self.seen_eins[ein] = number

        sectors = self.parse_sectors(values.get("sectors", ""), error)
        areas = self.parse_areas(values.get("areas_served", ""), error)
        wanted: dict = {"name": name} if name else {}
        for column in TEXT_COLUMNS:
            if values.get(column):
                wanted[column] = values[column]
        if "website" in wanted:
            wanted["website"] = _normalize_website(wanted["website"])
        if "state" in wanted:
            wanted["state"] = wanted["state"].upper()
            if not (len(wanted["state"]) == 2 and wanted["state"].isalpha()):
                error("state", "Use the two-letter state code, for example OR.")
                del wanted["state"]
        if values.get("size"):
            size = tabular.choice_code(values["size"], Organization.Size)
            if size is None:
                error("size", f"Unknown size. Use one of: {', '.join(Organization.Size.values)}.")
            else:
                wanted["size"] = size
        populations = tabular.split_list(values.get("populations_served", ""))
        if populations:
            wanted["populations_served"] = "\n".join(populations)
        membership_wanted = self.parse_membership(values, error)

        organization = self.match(name, ein, error)
        if organization is not None:
            if organization.pk in self.seen_organizations:
                error(
                    "name",
                    "This row and row "
                    f"{self.seen_organizations[organization.pk]} are the same "
                    "organization.",
                )
            self.seen_organizations.setdefault(organization.pk, number)
        plan = PartnerRow(row=number, label=name or f"(row {number})", organization=organization)
        membership = self.membership_of.get(organization.pk) if organization else None
        plan.membership = membership
        self.check_organization(number, values, organization, wanted, errors)
        membership_wanted = self.check_membership(
            number, values, membership, membership_wanted, errors
        )
        if errors:
            return plan, errors

        if organization is None:
            plan.action = RowPlan.CREATE
            plan.organization_fields = {**wanted, "sectors": sectors, "areas_served": areas}
            plan.membership_fields = membership_wanted
            plan.ein = ein
            plan.changes = [
                (column, "", _text(value)) for column, value in wanted.items() if column != "name"
            ]
            plan.changes += [("sectors", "", _names(sectors))]
            if areas:
                plan.changes.append(("areas_served", "", _names(areas)))
            plan.changes += [
                (column, "", _text(value)) for column, value in membership_wanted.items() if value
            ]
            return plan, errors
        self.plan_update(plan, wanted, sectors, areas, membership_wanted, ein)
        return plan, errors

    def parse_sectors(self, text: str, error) -> list[Sector]:
        sectors = []
        for part in tabular.split_list(text):
            sector = self.sectors.get(part.lower())
            if sector is None:
                error(
                    "sectors",
                    f"Unknown sector “{part}”. Use codes or names, for example: "
                    f"{self.sector_codes}.",
                )
            elif sector not in sectors:
                sectors.append(sector)
        if not text.strip():
            error("sectors", "At least one sector is required, for example nonprofit.")
        return sectors

    def parse_areas(self, text: str, error) -> list[Area]:
        areas = []
        for code in tabular.split_list(text):
            area = self.areas.get(code) or self.areas_folded.get(code.lower())
            if area is None:
                error("areas_served", f"This network has no area with the code “{code}”.")
            elif area not in areas:
                areas.append(area)
        return areas

    def parse_membership(self, values: dict[str, str], error) -> dict:
        wanted: dict = {}
        for column, choices in (("status", Membership.Status), ("role", Membership.Role)):
            if values.get(column):
                code = tabular.choice_code(values[column], choices)
                if code is None:
                    error(column, f"Unknown {column}. Use one of: {', '.join(choices.values)}.")
                else:
                    wanted[column] = code
        if values.get("joined_on"):
            wanted["joined_on"] = values["joined_on"]
        return wanted

    def match(self, name: str, ein: str, error) -> Organization | None:
        organization = self.by_ein.get(ein) if ein else None
        same_name = [
            m
            for m in self.by_name.get(name.lower(), [])
            if organization is None or m.organization_id != organization.pk
        ]
        if organization is not None:
            if same_name:
                error(
                    "ein",
                    f"The EIN {ein} belongs to another organization than the "
                    f"“{name}” already in this network.",
                )
            return organization
        if len(same_name) > 1:
            error(
                "name",
                f"{len(same_name)} organizations in this network are called "
                f"“{name}”; add the EIN to say which one this row is.",
            )
            return None
        if not same_name:
            return None
        organization = same_name[0].organization
        stored = self.ein_of(organization)
        if ein and stored and stored != ein:
            error("ein", f"“{organization.name}” is recorded with the EIN {stored}.")
        return organization

    @staticmethod
    def ein_of(organization: Organization) -> str:
        for identifier in organization.identifiers.all():
            if identifier.scheme == OrganizationIdentifier.Scheme.EIN:
                return identifier.value
        return ""

    @staticmethod
    def check_organization(number, values, organization, wanted, errors) -> None:
        candidate = (
            Organization()
            if organization is None
            else Organization(
                **{
                    f.attname: getattr(organization, f.attname)
                    for f in Organization._meta.concrete_fields
                }
            )
        )
        for name, value in wanted.items():
            setattr(candidate, name, value)
        exclude = [f.name for f in Organization._meta.concrete_fields if f.name not in wanted]
        try:
            candidate.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.extend(tabular.validation_errors(number, exc, values))

    def check_membership(self, number, values, membership, wanted, errors) -> dict:
        """The membership fields cleaned (dates parsed); errors for bad values and moves."""
        if membership is None:
            wanted = {"status": Membership.Status.ACTIVE, "role": Membership.Role.PARTNER, **wanted}
        candidate = (
            Membership(network=self.access.network)
            if membership is None
            else (
                Membership(
                    **{
                        f.attname: getattr(membership, f.attname)
                        for f in Membership._meta.concrete_fields
                    }
                )
            )
        )
        for name, value in wanted.items():
            setattr(candidate, name, value)
        exclude = [f.name for f in Membership._meta.concrete_fields if f.name not in wanted]
        try:
            candidate.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.extend(tabular.validation_errors(number, exc, values, {"left_on": "joined_on"}))
            return {}
        cleaned = {name: getattr(candidate, name) for name in wanted}
        status = cleaned.get("status")
        if (
            membership is not None
            and status
            and status != membership.status
            and (status not in Membership.TRANSITIONS[membership.status])
        ):
            allowed = ", ".join(sorted(Membership.TRANSITIONS[membership.status]))
            errors.append(
                RowError(
                    row=number,
                    column="status",
                    value=values.get("status", ""),
                    message=f"The membership is {membership.status} and cannot move to {status}; "
                    f"from {membership.status} it can move to {allowed}.",
                )
            )
        return cleaned

    def plan_update(
        self,
        plan: PartnerRow,
        wanted: dict,
        sectors: list[Sector],
        areas: list[Area],
        membership_wanted: dict,
        ein: str,
    ) -> None:
        organization, membership = plan.organization, plan.membership
        fields: dict = {}
        if membership is None:
            # An organization found by EIN in another network joins this one, but its
            # shared profile stays as its own networks keep it; only this network's
            # areas are added.
            wanted, sectors = {}, list(organization.sectors.all())
        for name, value in wanted.items():
            stored = getattr(organization, name)
            if name == "populations_served":
                if organization.populations_list == value.split("\n"):
                    continue
            elif stored == value:
                continue
            fields[name] = value
            plan.changes.append((name, _text(stored), _text(value)))
        stored_sectors = list(organization.sectors.all())
        if {s.pk for s in stored_sectors} != {s.pk for s in sectors}:
            fields["sectors"] = sectors
            plan.changes.append(("sectors", _names(stored_sectors), _names(sectors)))
        if areas:
            stored_areas = list(organization.areas_served.all())
            here = [a for a in stored_areas if a.network_id == self.access.network.pk]
            if {a.pk for a in here} != {a.pk for a in areas}:
                # Areas of other networks the organization serves are kept as they are.
                elsewhere = [a for a in stored_areas if a.network_id != self.access.network.pk]
                fields["areas_served"] = [*areas, *elsewhere]
                plan.changes.append(("areas_served", _names(here), _names(areas)))
        plan.organization_fields = fields
        if ein and not self.ein_of(organization):
            plan.ein = ein
            plan.changes.append(("ein", "", ein))
        if membership is None:
            plan.membership_fields = membership_wanted
            plan.changes.append(
                (
                    "membership",
                    "",
                    "joins this network as "
                    f"{membership_wanted['role']}, {membership_wanted['status']}",
                )
            )
        else:
            changed = {
                name: value
                for name, value in membership_wanted.items()
                if getattr(membership, name) != value
            }
            plan.membership_fields = changed
            plan.changes += [
                (name, _text(getattr(membership, name)), _text(value))
                for name, value in changed.items()
            ]
        plan.action = RowPlan.UPDATE if plan.changes else RowPlan.UNCHANGED
