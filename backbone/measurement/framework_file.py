"""The results framework as one YAML file: export, and an atomic, idempotent import.

Rows are matched by their stable codes (life stages by name, organizations by slug), so
importing the same file twice changes nothing the second time. Rows the file does not
mention are kept. Every problem is reported with its place in the file
(`indicators[3].unit: ...`), and if there is any, nothing is written.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from backbone.core import services
from backbone.core.access import Access
from backbone.core.models import Area, LifeStage, Organization
from backbone.measurement.defaults import TEMPLATES
from backbone.measurement.models import (
    Category,
    Dimension,
    Framework,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Polarity,
    Result,
    Strategy,
    Unit,
)
from backbone.measurement.periods import PeriodError, parse

FORMAT = "backbone-framework/1"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates_data"
SECTIONS = ["framework", "life_stages", "dimensions", "results", "indicators", "measures"]
SECTIONS += ["strategies"]


def template_path(name: str) -> Path:
    try:
        return TEMPLATE_DIR / TEMPLATES[name]
    except KeyError:
        raise ValueError(
            f"No template is called {name!r}; there is {', '.join(sorted(TEMPLATES))}."
        ) from None


# Export ---------------------------------------------------------------------------------


def _number(value):
    if value is None:
        return None
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def framework_data(*, access: Access) -> dict:
    """The network's framework as plain data, in a stable order; parts the access may not
    read (partner measures, for the public) are left out."""
    scope = access.scope
    settings = scope(Framework).first()
    data: dict = {"format": FORMAT}
    data["framework"] = {
        "fiscal_year_start_month": settings.fiscal_year_start_month if settings else 7,
        "description": settings.description if settings else "",
    }
    data["life_stages"] = [
        {"name": s.name, "position": s.position, "description": s.description}
        for s in scope(LifeStage).order_by("position", "name")
    ]
    data["dimensions"] = [
        {
            "code": d.code,
            "name": d.name,
            "kind": d.kind,
            "area_kind": d.area_kind,
            "description": d.description,
            "categories": [
                {"code": c.code, "name": c.name} for c in d.categories.order_by("position", "code")
            ],
        }
        for d in scope(Dimension).order_by("position", "code")
    ]
    data["results"] = [
        {
            "code": r.code,
            "name": r.name,
            "life_stage": r.life_stage.name,
            "description": r.description,
        }
        for r in scope(Result).select_related("life_stage").order_by("position", "code")
    ]
    data["indicators"] = [
        {
            "code": i.code,
            "name": i.name,
            "result": i.result.code,
            "definition": i.definition,
            "unit": i.unit,
            "rate_per": i.rate_per,
            "polarity": i.polarity,
            "formula": i.formula,
            "numerator": i.numerator,
            "denominator": i.denominator,
            "aggregation": i.aggregation,
            "frequency": i.frequency,
            "data_source": i.data_source,
            "evidence": i.evidence,
            "baseline": (
                {"value": _number(i.baseline_value), "period": i.baseline_period}
                if i.baseline_period
                else None
            ),
            "dimensions": sorted(i.dimensions.values_list("code", flat=True)),
            "targets": [
                {"period": t.period, "value": _number(t.value)}
                for t in i.targets.order_by("period")
            ],
        }
        for i in scope(Indicator).select_related("result").order_by("position", "code")
    ]
    measures = scope(PerformanceMeasure).select_related("organization").order_by("code")
    if access.allows(PerformanceMeasure):
        data["measures"] = [
            {
                "code": m.code,
                "name": m.name,
                "organization": m.organization.slug if m.organization else None,
                "description": m.description,
                "category": m.category,
                "unit": m.unit,
                "polarity": m.polarity,
                "formula": m.formula,
                "aggregation": m.aggregation,
                "frequency": m.frequency,
                "contributes_to": sorted(m.contributes_to.values_list("code", flat=True)),
                "dimensions": sorted(m.dimensions.values_list("code", flat=True)),
                "targets": [
                    {
                        "organization": t.organization.slug,
                        "period": t.period,
                        "value": _number(t.value),
                    }
                    for t in scope(MeasureTarget)
                    .filter(measure=m)
                    .select_related("organization")
                    .order_by("organization__slug", "period")
                ],
            }
            for m in measures
        ]
    data["strategies"] = [
        {
            "code": s.code,
            "name": s.name,
            "description": s.description,
            "organizations": sorted(s.organizations.values_list("slug", flat=True)),
            "results": sorted(s.results.values_list("code", flat=True)),
            "measures": sorted(
                s.measures.filter(pk__in=scope(PerformanceMeasure).values("pk")).values_list(
                    "code", flat=True
                )
            ),
        }
        for s in scope(Strategy).order_by("code")
    ]
    return data


def framework_export(*, access: Access) -> str:
    """The network's framework as YAML text."""
    return yaml.safe_dump(
        framework_data(access=access), sort_keys=False, allow_unicode=True, width=100
    )


# Import ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    committed: bool = False

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged."


class _Rollback(Exception):
    pass


TEXT, INT, NUMBER, CODES, PERIOD, LIST, MAP = (
    "text",
    "int",
    "number",
    "codes",
    "period",
    "list",
    "map",
)


@dataclass(frozen=True)
class F:
    """One key of an item in the file."""

    kind: str = TEXT
    required: bool = False
    choices: tuple = ()
    nullable: bool = False


def _choices(enum) -> tuple:
    return tuple(enum.values)


SPECS: dict[str, dict[str, F]] = {
    "framework": {"fiscal_year_start_month": F(INT), "description": F()},
    "life_stages": {"name": F(required=True), "position": F(INT), "description": F()},
    "dimensions": {
        "code": F(required=True),
        "name": F(required=True),
        "kind": F(choices=_choices(Dimension.Kind)),
        "area_kind": F(choices=("", *_choices(Area.Kind)), nullable=True),
        "description": F(),
        "categories": F(LIST),
    },
    "categories": {"code": F(required=True), "name": F(required=True)},
    "results": {
        "code": F(required=True),
        "name": F(required=True),
        "life_stage": F(required=True),
        "description": F(),
    },
    "indicators": {
        "code": F(required=True),
        "name": F(required=True),
        "result": F(required=True),
        "definition": F(required=True),
        "unit": F(required=True, choices=_choices(Unit)),
        "rate_per": F(INT, nullable=True),
        "polarity": F(required=True, choices=_choices(Polarity)),
        "formula": F(choices=_choices(Indicator.Formula)),
        "numerator": F(),
        "denominator": F(),
        "aggregation": F(required=True, choices=_choices(Indicator.Aggregation)),
        "frequency": F(required=True, choices=_choices(Indicator.Frequency)),
        "data_source": F(),
        "evidence": F(),
        "baseline": F(MAP, nullable=True),
        "dimensions": F(CODES),
        "targets": F(LIST),
    },
    "baseline": {"value": F(NUMBER, required=True), "period": F(PERIOD, required=True)},
    "targets": {
        "organization": F(nullable=True),
        "period": F(PERIOD, required=True),
        "value": F(NUMBER, required=True),
    },
    "measures": {
        "code": F(required=True),
        "name": F(required=True),
        "organization": F(nullable=True),
        "description": F(),
        "category": F(required=True, choices=_choices(PerformanceMeasure.Category)),
        "unit": F(required=True, choices=_choices(Unit)),
        "polarity": F(required=True, choices=_choices(Polarity)),
        "formula": F(choices=_choices(Indicator.Formula)),
        "aggregation": F(choices=_choices(Indicator.Aggregation)),
        "frequency": F(choices=_choices(Indicator.Frequency)),
        "contributes_to": F(CODES),
        "dimensions": F(CODES),
        "targets": F(LIST),
    },
    "strategies": {
        "code": F(required=True),
        "name": F(required=True),
        "description": F(),
        "organizations": F(CODES),
        "results": F(CODES),
        "measures": F(CODES),
    },
}
DEFAULTS = {TEXT: "", INT: None, NUMBER: None, CODES: [], PERIOD: "", LIST: [], MAP: None}


class _Reader:
    """Checks the shape of the file and collects every problem with its path."""

    def __init__(self):
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}" if path else message)

    def items(self, data: dict, section: str, path: str | None = None) -> list[tuple[str, dict]]:
        path = path or section
        value = data.get(section)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, "must be a list")
            return []
        checked = []
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            cleaned = self.item(item, SPECS[section], item_path)
            if cleaned is not None:
                checked.append((item_path, cleaned))
        return checked

    def item(self, item, spec: dict[str, F], path: str) -> dict | None:
        if not isinstance(item, dict):
            self.error(path, "must be a mapping of keys to values")
            return None
        for key in item:
            if key not in spec:
                self.error(f"{path}.{key}", f"unknown key; the keys are {', '.join(spec)}")
        cleaned = {}
        for key, rule in spec.items():
            cleaned[key] = self.value(item.get(key), rule, f"{path}.{key}", key in item)
        return cleaned

    def value(self, value, rule: F, path: str, present: bool):
        if value is None:
            if rule.required:
                self.error(path, "is required" if not present else "must not be empty")
            return None if rule.nullable or rule.kind in (INT, NUMBER, MAP) else DEFAULTS[rule.kind]
        if rule.kind in (TEXT, PERIOD):
            if isinstance(value, bool) or not isinstance(value, str | int):
                self.error(path, f"must be text, not {value!r}")
                return DEFAULTS[rule.kind]
            value = str(value).strip()
            if rule.required and not value:
                self.error(path, "must not be empty")
            if rule.choices and value not in rule.choices:
                self.error(
                    path, f"{value!r} is not one of {', '.join(c for c in rule.choices if c)}"
                )
            if rule.kind == PERIOD and value:
                try:
                    parse(value)
                except PeriodError as exc:
                    self.error(path, str(exc))
            return value
        if rule.kind == INT:
            if isinstance(value, bool) or not isinstance(value, int):
                self.error(path, f"must be a whole number, not {value!r}")
                return None
            return value
        if rule.kind == NUMBER:
            try:
                if isinstance(value, bool):
                    raise decimal.InvalidOperation
                number = decimal.Decimal(str(value))
                if not number.is_finite():
                    raise decimal.InvalidOperation
            except decimal.InvalidOperation:
                self.error(path, f"must be a number, not {value!r}")
                return None
            return number
        if rule.kind == CODES:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.error(path, "must be a list of codes")
                return []
            return [v.strip() for v in value]
        if rule.kind == MAP:
            return value
        return value  # LIST: read by the caller with its own spec


# Model field -> key in the file, for errors raised by the models.
FILE_KEYS = {"baseline_value": "baseline.value", "baseline_period": "baseline.period"}


class _Writer:
    def __init__(self, access: Access, via: str, report: ImportReport, errors: list[str]):
        self.access, self.via, self.report, self.errors = access, via, report, errors

    def upsert(self, model, path: str, lookup: dict, fields: dict, m2m: dict | None = None):
        m2m = m2m or {}
        instance = self.access.scope(model).filter(**lookup).first()
        try:
            if instance is None:
                instance = services.object_create(
                    access=self.access,
                    model=model,
                    fields={**lookup, **fields, **m2m},
                    via=self.via,
                )
                self.report.created += 1
                return instance
            changes = {k: v for k, v in fields.items() if not _same(instance, k, v)}
            changes |= {
                name: values
                for name, values in m2m.items()
                if set(getattr(instance, name).values_list("pk", flat=True))
                != {v.pk for v in values}
            }
            if not changes:
                self.report.unchanged += 1
                return instance
            instance = services.object_update(
                access=self.access, instance=instance, fields=changes, via=self.via
            )
            self.report.updated += 1
            return instance
        except ValidationError as exc:
            for name, messages in _messages(exc).items():
                where = path if name == "__all__" else f"{path}.{FILE_KEYS.get(name, name)}"
                for message in messages:
                    self.errors.append(f"{where}: {message}")
        except (PermissionDenied, IntegrityError) as exc:
            self.errors.append(f"{path}: {exc}")
        return None


def _same(instance, name: str, value) -> bool:
    field_ = instance._meta.get_field(name)
    if field_.is_relation:
        return getattr(instance, field_.attname) == (value.pk if value is not None else None)
    return getattr(instance, name) == value


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            name: [m for e in errors for m in e.messages] for name, errors in exc.error_dict.items()
        }
    return {"__all__": exc.messages}


def framework_import(
    *, access: Access, text: str | bytes, commit: bool = True, via: str = "import"
) -> ImportReport:
    """Check and write a framework file: all of it, or (on any problem, or a dry run)
    nothing. The report lists every problem with its place in the file."""
    if not access.is_admin:
        raise PermissionDenied("Only network admins may import the results framework.")
    report = ImportReport()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        report.errors.append(f"{where}not valid YAML ({getattr(exc, 'problem', exc)})")
        return report
    if not isinstance(data, dict):
        report.errors.append("The file must be a mapping with the keys " + ", ".join(SECTIONS))
        return report
    reader = _Reader()
    for key in data:
        if key not in (*SECTIONS, "format"):
            reader.error(key, f"unknown section; the sections are {', '.join(SECTIONS)}")
    if data.get("format", FORMAT) != FORMAT:
        reader.error("format", f"{data['format']!r} is not {FORMAT}")
    items = {section: reader.items(data, section) for section in SECTIONS[1:]}
    settings = data.get("framework")
    settings = reader.item(settings, SPECS["framework"], "framework") if settings else None
    nested = {}
    for path, item in items["dimensions"]:
        nested[path] = reader.items(item, "categories", f"{path}.categories")
    for section in ("indicators", "measures"):
        for path, item in items[section]:
            nested[path] = reader.items(item, "targets", f"{path}.targets")
            baseline = item.get("baseline")
            if section == "indicators" and baseline is not None:
                item["baseline"] = reader.item(baseline, SPECS["baseline"], f"{path}.baseline")
    for section, key in [("life_stages", "name"), *[(s, "code") for s in SECTIONS[2:]]]:
        seen = {}
        for path, item in items[section]:
            if item[key] in seen:
                reader.error(f"{path}.{key}", f"{item[key]!r} is also used by {seen[item[key]]}")
            seen.setdefault(item[key], path)
    if reader.errors:
        report.errors = reader.errors
        return report
    try:
        with transaction.atomic():
            _write(access, settings, items, nested, report, via)
            if report.errors or not commit:
                raise _Rollback
    except _Rollback:
        return report
    report.committed = True
    return report


def _write(access, settings, items, nested, report, via) -> None:
    errors = report.errors
    writer = _Writer(access, via, report, errors)

    def lookup(model, key: str, path: str, values: list[str], what: str) -> list:
        known = {getattr(o, key): o for o in access.scope(model).filter(**{f"{key}__in": values})}
        missing = [v for v in values if v not in known]
        for value in missing:
            errors.append(f"{path}: no {what} has the {'code' if key == 'code' else key} {value!r}")
        return [known[v] for v in values if v in known]

    def one(model, key, path, value, what):
        found = lookup(model, key, path, [value], what) if value else []
        return found[0] if found else None

    if settings is not None:
        fields = {k: v for k, v in settings.items() if v is not None}
        writer.upsert(Framework, "framework", {}, fields)
    for index, (path, item) in enumerate(items["life_stages"]):
        stage = access.scope(LifeStage).filter(name=item["name"]).first()
        fields = {"description": item["description"]}
        if item["position"] is not None or stage is None:
            fields["position"] = item["position"] if item["position"] is not None else index
        writer.upsert(LifeStage, path, {"name": item["name"]}, fields)
    for index, (path, item) in enumerate(items["dimensions"]):
        fields = {
            "name": item["name"],
            "kind": item["kind"] or Dimension.Kind.CATEGORICAL,
            "area_kind": item["area_kind"] or "",
            "description": item["description"],
            "position": index,
        }
        dimension = writer.upsert(Dimension, path, {"code": item["code"]}, fields)
        if dimension is None:
            continue
        for position, (category_path, category) in enumerate(nested[path]):
            writer.upsert(
                Category,
                category_path,
                {"dimension": dimension, "code": category["code"]},
                {"name": category["name"], "position": position},
            )
    for index, (path, item) in enumerate(items["results"]):
        stage = one(LifeStage, "name", f"{path}.life_stage", item["life_stage"], "life stage")
        if stage is None:
            continue
        fields = {
            "name": item["name"],
            "life_stage": stage,
            "description": item["description"],
            "position": index,
        }
        writer.upsert(Result, path, {"code": item["code"]}, fields)
    for index, (path, item) in enumerate(items["indicators"]):
        result = one(Result, "code", f"{path}.result", item["result"], "result")
        dimensions = lookup(
            Dimension, "code", f"{path}.dimensions", item["dimensions"], "dimension"
        )
        if result is None:
            continue
        baseline = item["baseline"] or {}
        fields = {
            key: item[key]
            for key in SPECS["indicators"]
            if key not in ("code", "result", "baseline", "dimensions", "targets")
        }
        fields["formula"] = fields["formula"] or Indicator.Formula.DIRECT
        fields |= {
            "result": result,
            "position": index,
            "baseline_value": baseline.get("value"),
            "baseline_period": baseline.get("period") or "",
        }
        indicator = writer.upsert(
            Indicator, path, {"code": item["code"]}, fields, {"dimensions": dimensions}
        )
        if indicator is None:
            continue
        for target_path, target in nested[path]:
            if target["organization"]:
                errors.append(f"{target_path}.organization: indicator targets are network-wide")
                continue
            writer.upsert(
                IndicatorTarget,
                target_path,
                {"indicator": indicator, "period": target["period"]},
                {"value": target["value"]},
            )
    for path, item in items["measures"]:
        organization = one(
            Organization, "slug", f"{path}.organization", item["organization"], "organization"
        )
        indicators = lookup(
            Indicator, "code", f"{path}.contributes_to", item["contributes_to"], "indicator"
        )
        dimensions = lookup(
            Dimension, "code", f"{path}.dimensions", item["dimensions"], "dimension"
        )
        if item["organization"] and organization is None:
            continue
        fields = {
            key: item[key] for key in ("name", "description", "category", "unit", "polarity")
        } | {
            "organization": organization,
            "formula": item["formula"] or Indicator.Formula.DIRECT,
            "aggregation": item["aggregation"] or Indicator.Aggregation.SUM,
            "frequency": item["frequency"] or Indicator.Frequency.QUARTER,
        }
        if (
            fields["aggregation"] == Indicator.Aggregation.WEIGHTED
            and fields["formula"] != Indicator.Formula.RATIO
        ):
            errors.append(f"{path}.aggregation: weighting by denominator needs formula: ratio")
            continue
        measure = writer.upsert(
            PerformanceMeasure,
            path,
            {"code": item["code"]},
            fields,
            {"contributes_to": indicators, "dimensions": dimensions},
        )
        if measure is None:
            continue
        for target_path, target in nested[path]:
            slug = target["organization"] or item["organization"]
            if not slug:
                errors.append(
                    f"{target_path}.organization: a shared measure's target names its organization"
                )
                continue
            owner = one(Organization, "slug", f"{target_path}.organization", slug, "organization")
            if owner is None:
                continue
            writer.upsert(
                MeasureTarget,
                target_path,
                {"measure": measure, "organization": owner, "period": target["period"]},
                {"value": target["value"]},
            )
    for path, item in items["strategies"]:
        m2m = {
            "organizations": lookup(
                Organization, "slug", f"{path}.organizations", item["organizations"], "organization"
            ),
            "results": lookup(Result, "code", f"{path}.results", item["results"], "result"),
            "measures": lookup(
                PerformanceMeasure, "code", f"{path}.measures", item["measures"], "measure"
            ),
        }
        fields = {"name": item["name"], "description": item["description"]}
        writer.upsert(Strategy, path, {"code": item["code"]}, fields, m2m)
