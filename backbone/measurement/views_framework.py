"""The results framework on the web: an overview, pages to edit each part, and the
framework file (download, upload, starter template)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from backbone.core.crud import Column, Crud
from backbone.core.models import LifeStage
from backbone.core.web import network_view
from backbone.measurement import forms_framework as forms
from backbone.measurement.framework_file import (
    framework_export,
    framework_import,
    template_path,
)
from backbone.measurement.models import (
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Result,
    Strategy,
)

MAX_FILE_BYTES = 2 * 1024 * 1024


@network_view
def framework_overview(request, access):
    """Results by life stage, each with its indicators, and the partners' measures."""
    access.require_allowed(Result)
    indicators = access.scope(Indicator).prefetch_related("targets", "dimensions")
    results = (
        access.scope(Result)
        .select_related("life_stage")
        .prefetch_related(Prefetch("indicators", queryset=indicators))
        .order_by("life_stage__position", "position", "code")
    )
    stages: dict[LifeStage, list[Result]] = {}
    for result in results:
        stages.setdefault(result.life_stage, []).append(result)
    measures = access.scope(PerformanceMeasure).select_related("organization")
    by_category = {
        label: [m for m in measures if m.category == value]
        for value, label in PerformanceMeasure.Category.choices
    }
    return render(
        request,
        "measurement/framework/overview.html",
        {
            "access": access,
            "stages": stages,
            "measures": by_category if access.allows(PerformanceMeasure) else {},
            "strategies": access.scope(Strategy).prefetch_related("organizations", "results"),
            "dimensions": access.scope(Dimension).prefetch_related("categories"),
            "can_edit": access.is_admin,
        },
    )


@network_view
def framework_download(request, access):
    """The whole framework as one YAML file (what the reader may see)."""
    access.require_allowed(Result)
    response = HttpResponse(
        framework_export(access=access), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{access.network.slug}-framework.yaml"'
    return response


@network_view
def framework_upload(request, access):
    """Check a framework file and, unless it is a dry run, import all of it or nothing."""
    access.require_allowed(Result, "add", "Only network admins change the results framework.")
    form = forms.FrameworkFileForm(request.POST or None, request.FILES or None)
    report, filename = None, ""
    if request.method == "POST" and "template" in request.POST:
        report = framework_import(
            access=access, text=template_path("cradle-to-career").read_text(), via="web"
        )
        filename = "the cradle-to-career starter template"
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = upload.name
        if upload.size > MAX_FILE_BYTES:
            form.add_error("file", "The file is larger than 2 MB; a framework file is far smaller.")
        else:
            report = framework_import(
                access=access,
                text=upload.read(),
                commit=not request.POST.get("dry_run"),
                via="web",
            )
    if report is not None and report.committed:
        messages.success(request, f"Imported {filename}: {report.summary()}")
        return redirect("measurement:framework", network_slug=access.network.slug)
    return render(
        request,
        "measurement/framework/upload.html",
        {"access": access, "form": form, "report": report, "filename": filename},
        status=400 if report is not None and report.errors else 200,
    )


def _framework_url(access, obj) -> str:
    return reverse("measurement:framework", args=[access.network.slug])


CRUDS = [
    Crud(
        model=Result,
        form_class=forms.ResultForm,
        entity="result",
        prefix="results-framework/results",
        title="Results",
        intro="Population-level conditions of well-being the network works toward, each "
        "tied to a life stage.",
        columns=[
            Column("Code", lambda o: o.code),
            Column("Result", lambda o: o.name),
            Column("Life stage", lambda o: o.life_stage.name),
        ],
        search_fields=["code", "name"],
    ),
    Crud(
        model=Indicator,
        form_class=forms.IndicatorForm,
        entity="indicator",
        prefix="results-framework/indicators",
        title="Indicators",
        intro="How each result is measured across the population.",
        columns=[
            Column("Code", lambda o: o.code),
            Column("Indicator", lambda o: o.name),
            Column("Result", lambda o: o.result.name),
            Column("Unit", lambda o: o.get_unit_display()),
            Column("Better when", lambda o: o.get_polarity_display()),
            Column("Public", lambda o: "Yes" if o.is_public else "No"),
        ],
        search_fields=["code", "name"],
    ),
    Crud(
        model=IndicatorTarget,
        form_class=forms.IndicatorTargetForm,
        entity="indicator-target",
        prefix="results-framework/indicator-targets",
        title="Indicator targets",
        intro="The value the network aims for on an indicator in a period.",
        columns=[
            Column("Indicator", lambda o: o.indicator.code),
            Column("Period", lambda o: o.period),
            Column("Target", lambda o: o.value.normalize()),
        ],
        search_fields=["indicator__code", "period"],
    ),
    Crud(
        model=PerformanceMeasure,
        form_class=forms.PerformanceMeasureForm,
        entity="measure",
        prefix="results-framework/measures",
        title="Performance measures",
        intro="Partner and program measures: how much did we do, how well did we do it, "
        "is anyone better off.",
        columns=[
            Column("Code", lambda o: o.code),
            Column("Measure", lambda o: o.name),
            Column("Kind", lambda o: o.get_category_display()),
            Column("Partner", lambda o: o.organization.name if o.organization else "Shared"),
        ],
        search_fields=["code", "name"],
    ),
    Crud(
        model=MeasureTarget,
        form_class=forms.MeasureTargetForm,
        entity="measure-target",
        prefix="results-framework/measure-targets",
        title="Partner targets",
        intro="Each partner's own target on a measure for a period.",
        columns=[
            Column("Measure", lambda o: o.measure.code),
            Column("Partner", lambda o: o.organization.name),
            Column("Period", lambda o: o.period),
            Column("Target", lambda o: o.value.normalize()),
        ],
        search_fields=["measure__code", "organization__name", "period"],
    ),
    Crud(
        model=Strategy,
        form_class=forms.StrategyForm,
        entity="strategy",
        prefix="results-framework/strategies",
        title="Strategies",
        intro="Partner programs and the results they move.",
        columns=[Column("Code", lambda o: o.code), Column("Strategy", lambda o: o.name)],
        search_fields=["code", "name"],
    ),
    Crud(
        model=Dimension,
        form_class=forms.DimensionForm,
        entity="dimension",
        prefix="results-framework/dimensions",
        title="Disaggregation dimensions",
        intro="How data is broken down: race and ethnicity, gender, income band, geography …",
        columns=[
            Column("Code", lambda o: o.code),
            Column("Dimension", lambda o: o.name),
            Column("Kind", lambda o: o.get_kind_display()),
        ],
    ),
    Crud(
        model=Category,
        form_class=forms.CategoryForm,
        entity="category",
        prefix="results-framework/categories",
        title="Categories",
        intro="The categories of each dimension; codes are what data files use.",
        columns=[
            Column("Dimension", lambda o: o.dimension.name),
            Column("Code", lambda o: o.code),
            Column("Category", lambda o: o.name),
        ],
        search_fields=["code", "name", "dimension__code"],
        per_page=100,
    ),
]
