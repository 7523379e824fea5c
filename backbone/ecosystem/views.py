from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from backbone.core.models import Area, LifeStage
from backbone.core.web import network_view
from backbone.directory.models import Service
from backbone.ecosystem import services
from backbone.ecosystem.forms import PathwayForm, StepForm
from backbone.ecosystem.models import NeedIndicator, Pathway, PathwayStep
from backbone.ecosystem.pathways import pathway_analysis
from backbone.ecosystem.selectors import (
    DEFAULT_GAP_THRESHOLD,
    DEFAULT_REDUNDANCY_MIN,
    ecosystem_gaps,
    ecosystem_map,
    ecosystem_redundancy,
    gap_rows,
    need_categories,
)

METRICS = {
    "services": "Services",
    "providers": "Providers",
    "rate": "Services per 1,000 residents",
    "score": "Gap score",
}


def _filters(request, access) -> dict:
    """The map's filters from the query string; unknown values fall back to defaults."""
    kinds = set(access.scope(Area).values_list("kind", flat=True).distinct())
    kind = request.GET.get("area_kind", "")
    if kind not in kinds:
        kind = Area.Kind.COUNTY if Area.Kind.COUNTY in kinds else (sorted(kinds) or ["county"])[0]
    stage = request.GET.get("life_stage", "")
    stage_id = int(stage) if stage.isdigit() else None
    if stage_id and not access.scope(LifeStage).filter(pk=stage_id).exists():
        stage_id = None
    metric = request.GET.get("metric", "services")
    return {
        "area_kind": kind,
        "life_stage_id": stage_id,
        "category": request.GET.get("category", "").strip(),
        "metric": metric if metric in METRICS else "services",
        "kinds": [(k, label) for k, label in Area.Kind.choices if k in kinds],
        "stages": list(access.scope(LifeStage).order_by("position", "pk")),
        "categories": need_categories(access),
    }


def _number(request, name: str, default, low, high):
    try:
        value = type(default)(request.GET.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


def _shade(value, top) -> str:
    """A background from white to the brand blue; text stays dark below 60 %."""
    share = 0 if not top or value is None else min(float(value) / float(top), 1.0)
    lightness = round(97 - share * 55)
    return f"background:hsl(213 70% {lightness}%);color:{'#fff' if lightness < 60 else '#1b1f24'}"


@network_view
def map_view(request, access):
    access.require_allowed(Service)
    filters = _filters(request, access)
    emap = ecosystem_map(
        access,
        area_kind=filters["area_kind"],
        life_stage_id=filters["life_stage_id"],
        category=filters["category"],
    )
    metric = filters["metric"]
    values = [getattr(c, metric) for c in emap.cells if getattr(c, metric) is not None]
    top = max(values, default=0)
    rows = [
        (
            area,
            [
                {
                    "cell": cell,
                    "value": getattr(cell, metric),
                    "style": _shade(getattr(cell, metric), top),
                }
                for cell in cells
            ],
        )
        for area, cells in emap.grid()
    ]
    return render(
        request,
        "ecosystem/map.html",
        {
            "access": access,
            "emap": emap,
            "rows": rows,
            "filters": filters,
            "metric_label": METRICS[metric],
            "metrics": METRICS.items(),
            "top": top,
            "query": request.GET.urlencode(),
        },
    )


@network_view
def gaps_view(request, access):
    access.require_allowed(Service)
    filters = _filters(request, access)
    threshold = _number(request, "threshold", DEFAULT_GAP_THRESHOLD, 1.0, 100.0)
    emap = ecosystem_map(
        access,
        area_kind=filters["area_kind"],
        life_stage_id=filters["life_stage_id"],
        category=filters["category"],
        by_life_stage=True,
    )
    gaps = ecosystem_gaps(emap, threshold=threshold)
    rows = gap_rows(gaps)
    return render(
        request,
        "ecosystem/gaps.html",
        {
            "access": access,
            "emap": emap,
            "rows": rows[:200],
            "total": len(gaps),
            "total_rows": len(rows),
            "filters": filters,
            "threshold": threshold,
        },
    )


@network_view
def redundancy_view(request, access):
    access.require_allowed(Service)
    filters = _filters(request, access)
    minimum = _number(request, "minimum", DEFAULT_REDUNDANCY_MIN, 2, 50)
    found = ecosystem_redundancy(
        access,
        area_kind=filters["area_kind"],
        life_stage_id=filters["life_stage_id"],
        category=filters["category"],
        minimum=minimum,
    )
    return render(
        request,
        "ecosystem/redundancy.html",
        {
            "access": access,
            "found": found[:200],
            "total": len(found),
            "filters": filters,
            "minimum": minimum,
        },
    )


@network_view
def cells_export(request, access):
    """Every cell (life stage × category × area) of the filters, as CSV."""
    access.require_allowed(Service)
    filters = _filters(request, access)
    emap = ecosystem_map(
        access,
        area_kind=filters["area_kind"],
        life_stage_id=filters["life_stage_id"],
        category=filters["category"],
        by_life_stage=True,
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "life_stage", "category_code", "category", "area_code", "area", "area_kind",
            "population", "services", "providers", "capacity", "services_per_1000",
            "network_services_per_1000", "need_ratio", "gap_score", "explanation",
        ]
    )  # fmt: skip
    for cell in emap.cells:
        writer.writerow(
            [
                cell.life_stage.name if cell.life_stage else "All",
                cell.category.code,
                cell.category.name,
                cell.area.code,
                cell.area.name,
                cell.area.kind,
                cell.area.population or "",
                cell.services,
                cell.providers,
                cell.capacity_text,
                "" if cell.rate is None else f"{cell.rate:.3f}",
                "" if cell.network_rate is None else f"{cell.network_rate:.3f}",
                "" if cell.need is None else f"{cell.need.ratio:.3f}",
                "" if cell.score is None else f"{cell.score:.3f}",
                cell.explanation,
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{access.network.slug}-ecosystem-{filters['area_kind']}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@network_view
def pathway_list(request, access):
    access.require_allowed(Pathway)
    pathways = (
        access.scope(Pathway)
        .select_related("owner_organization")
        .prefetch_related("life_stages", "steps")
    )
    editable = set(access.scope(Pathway, "change").values_list("pk", flat=True))
    return render(
        request,
        "ecosystem/pathway_list.html",
        {
            "access": access,
            "pathways": pathways,
            "editable": editable,
            "can_add": access.allows(Pathway, "add"),
        },
    )


@network_view
def pathway_detail(request, access, pk: int):
    pathway = access.get_object(Pathway, pk=pk)
    return render(
        request,
        "ecosystem/pathway_detail.html",
        {
            "access": access,
            "pathway": pathway,
            "analysis": pathway_analysis(access, pathway),
            "can_change": access.can("change", pathway),
        },
    )


def _pathway_form_page(request, access, form, heading, cancel_url, delete_url=None):
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": heading,
            "cancel_url": cancel_url,
            "delete_url": delete_url,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _detail_url(access, pathway) -> str:
    return reverse("ecosystem:pathway-detail", args=[access.network.slug, pathway.pk])


@network_view
def pathway_create(request, access):
    access.require_allowed(Pathway, "add", "Your role may not design pathways.")
    form = PathwayForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            pathway = services.pathway_create(access=access, fields=form.model_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Added the pathway {pathway}. Now add its steps.")
            return redirect(_detail_url(access, pathway))
    cancel = reverse("ecosystem:pathway-list", args=[access.network.slug])
    return _pathway_form_page(request, access, form, "Design a pathway", cancel)


@network_view
def pathway_edit(request, access, pk: int):
    pathway = access.get_object(Pathway, "change", pk=pk)
    form = PathwayForm(request.POST or None, instance=pathway, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            services.pathway_update(access=access, pathway=pathway, fields=form.model_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {pathway}.")
            return redirect(_detail_url(access, pathway))
    delete = reverse("ecosystem:pathway-delete", args=[access.network.slug, pathway.pk])
    return _pathway_form_page(
        request, access, form, f"Edit {pathway}", _detail_url(access, pathway), delete
    )


@network_view
def pathway_delete(request, access, pk: int):
    pathway = access.get_object(Pathway, "delete", pk=pk)
    if request.method == "POST":
        services.pathway_delete(access=access, pathway=pathway)
        messages.success(request, f"Deleted {pathway}.")
        return redirect("ecosystem:pathway-list", access.network.slug)
    return render(
        request,
        "core/confirm_delete.html",
        {"access": access, "object": pathway, "cancel_url": _detail_url(access, pathway)},
    )


def _step_page(request, access, pathway, step=None):
    form = StepForm(request.POST or None, instance=step, access=access, pathway=pathway)
    if request.method == "POST" and form.is_valid():
        fields = form.model_fields()
        try:
            step = services.step_save(
                access=access,
                pathway=pathway,
                step=step,
                fields=fields,
                next_steps=list(form.cleaned_data["next_steps"]),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved the step {step}.")
            return redirect(_detail_url(access, pathway))
    delete = None
    if step is not None and access.can("delete", step):
        delete = reverse("ecosystem:step-delete", args=[access.network.slug, step.pk])
    heading = f"Edit the step {step}" if step else f"Add a step to {pathway}"
    return _pathway_form_page(request, access, form, heading, _detail_url(access, pathway), delete)


@network_view
def step_create(request, access, pk: int):
    pathway = access.get_object(Pathway, "change", pk=pk)
    return _step_page(request, access, pathway)


@network_view
def step_edit(request, access, pk: int):
    step = access.get_object(PathwayStep, "change", pk=pk)
    return _step_page(request, access, step.pathway, step)


@network_view
def step_delete(request, access, pk: int):
    step = access.get_object(PathwayStep, "delete", pk=pk)
    if request.method == "POST":
        services.step_delete(access=access, step=step)
        messages.success(request, f"Deleted the step {step}.")
        return redirect(_detail_url(access, step.pathway))
    return render(
        request,
        "core/confirm_delete.html",
        {"access": access, "object": step, "cancel_url": _detail_url(access, step.pathway)},
    )


def need_indicator_label(obj: NeedIndicator) -> str:
    return obj.life_stage.name if obj.life_stage_id else "Any life stage"
