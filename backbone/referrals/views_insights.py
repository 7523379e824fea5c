"""Pages of referral analytics: funnels along pathways, network analytics, actual flows
against the design, and a partner's milestone form.

Every figure is an aggregate with small-cell suppression; no page names a person. The
network's members see them (partner staff also their own organization's row); the public
gets 404: the public report card already shows the computed indicators a network
publishes.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from backbone.core.access import ORG_ADMIN, ORG_MEMBER
from backbone.core.models import LifeStage
from backbone.core.web import network_view
from backbone.ecosystem.models import Pathway, PathwayStep
from backbone.insights import charts
from backbone.measurement import periods
from backbone.referrals import funnels, journeys, network_metrics
from backbone.referrals.models import Milestone


def _members_only(access) -> None:
    if not access.is_member:
        raise Http404("No page found.")


def _pathway(request, access) -> tuple[Pathway | None, list[Pathway]]:
    pathways = list(access.scope(Pathway).order_by("name"))
    chosen = request.GET.get("pathway", "")
    if chosen.isdigit():
        found = next((p for p in pathways if p.pk == int(chosen)), None)
        if found is None:
            raise Http404("No pathway found.")
        return found, pathways
    return (pathways[0] if pathways else None), pathways


def _bar(title: str, items, unit: str, label: str) -> charts.Chart | None:
    """A bar chart, or None when there is nothing to draw (every figure withheld)."""
    if not any(value is not None for _label, value in items):
        return None
    # A figure without a bar is withheld (or has nothing to divide by): "not shown".
    return charts.bar_chart(title, items, unit=unit, label=label, missing="not shown")


@network_view
def funnel_view(request, access):
    """How many people reached each step of a pathway, how long they took, where they
    dropped off, by group."""
    _members_only(access)
    pathway, pathways = _pathway(request, access)
    choices = funnels.group_choices(access.network)
    group = request.GET.get("group", "")
    if group not in dict(choices):
        group = ""
    funnel = funnels.pathway_funnel(access.network, pathway, group=group) if pathway else None
    chart = None
    if funnel and funnel.steps:
        chart = _bar(
            f"People reaching each step of {pathway.name}",
            [(row.name, row.reached.value) for row in funnel.steps],
            "count",
            "Step",
        )
    return render(
        request,
        "referrals/insights_funnels.html",
        {
            "access": access,
            "pathway": pathway,
            "pathways": pathways,
            "choices": choices,
            "group": group,
            "funnel": funnel,
            "chart": chart,
            "current": "funnels",
        },
    )


def _period(request) -> tuple[tuple | None, str, str]:
    """((first day, last day) or None, its label, an error) from ?period=."""
    code = request.GET.get("period", "").strip()
    if not code:
        return None, "All time", ""
    try:
        period = periods.parse(code)
    except periods.PeriodError as exc:
        return None, "All time", str(exc)
    return (period.start(), period.end()), period.code, ""


@network_view
def analytics_view(request, access):
    """Acceptance, time to accept, loop closure and decline reasons of the network."""
    _members_only(access)
    period, label, error = _period(request)
    own = access.organization_id if access.role in (ORG_ADMIN, ORG_MEMBER) else None
    metrics = network_metrics.network_metrics(
        access.network, organization_id=own, period=period, period_label=label
    )
    chart = reasons_chart = None
    if metrics is not None:  # None: being computed for the first time (a large network)
        chart = _bar(
            "Acceptance rate by receiving organization",
            [(row.label, row.acceptance.value) for row in metrics.by_organization],
            "percent",
            "Organization",
        )
        reasons_chart = _bar(
            "Declined referrals by reason",
            list(zip(metrics.reasons, [f.value for f in metrics.reason_totals], strict=True)),
            "count",
            "Reason",
        )
    return render(
        request,
        "referrals/insights_analytics.html",
        {
            "access": access,
            "metrics": metrics,
            "k": network_metrics.suppression_k(access.network),
            "chart": chart,
            "reasons_chart": reasons_chart,
            "period": request.GET.get("period", "").strip(),
            "period_error": error,
            "current": "analytics",
        },
    )


@network_view
def flows_view(request, access):
    """Consecutive referrals between the steps of a pathway, against its design."""
    _members_only(access)
    pathway, pathways = _pathway(request, access)
    flows = funnels.pathway_flows(access.network, pathway) if pathway else None
    return render(
        request,
        "referrals/insights_flows.html",
        {
            "access": access,
            "pathway": pathway,
            "pathways": pathways,
            "flows": flows,
            "current": "flows",
        },
    )


class MilestoneForm(forms.Form):
    person = forms.IntegerField(
        label="Person's record number",
        min_value=1,
        help_text="The number on the person's page (no name is asked or shown here).",
    )
    name = forms.CharField(
        max_length=200, required=False, help_text="e.g. Enrolled in college; blank: the step's."
    )
    pathway_step = forms.ModelChoiceField(
        queryset=PathwayStep.objects.none(), required=False, label="Pathway step"
    )
    life_stage = forms.ModelChoiceField(queryset=LifeStage.objects.none(), required=False)
    achieved_on = forms.DateField(
        label="Reached on", widget=forms.DateInput(attrs={"type": "date"}), initial=datetime.date
    )

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pathway_step"].queryset = (
            access.scope(PathwayStep)
            .select_related("pathway")
            .order_by("pathway__name", "position")
        )
        self.fields["pathway_step"].label_from_instance = lambda s: f"{s.pathway.name}: {s.name}"
        self.fields["life_stage"].queryset = access.scope(LifeStage).order_by("position")
        self.fields["achieved_on"].initial = timezone.localdate()


@network_view
def milestone_add(request, access):
    """A partner records a milestone of a person it serves (chosen by record number)."""
    _members_only(access)
    access.require_allowed(Milestone, "add", "Only partner staff record milestones.")
    form = MilestoneForm(request.POST or None, access=access, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            milestone = journeys.milestone_record(
                access=access,
                person=data["person"],
                name=data["name"],
                life_stage=data["life_stage"],
                pathway_step=data["pathway_step"],
                achieved_on=data["achieved_on"],
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"Recorded the milestone “{milestone.name}”.")
            return redirect("referrals:milestone-add", access.network.slug)
    return render(
        request,
        "referrals/insights_milestone.html",
        {"access": access, "form": form, "current": "milestone"},
        status=400 if form.is_bound and form.errors else 200,
    )
