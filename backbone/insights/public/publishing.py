"""The network admin's Publishing page: which indicators are public, the suppression
threshold k, and the story behind the curve of each result and year."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from backbone.core.web import members_only, network_view
from backbone.insights.public import selectors, services
from backbone.measurement.models import Indicator, Result, ResultNarrative

STORY_FIELDS = [
    ("story", "The story behind the curve", "What is driving the trend, for better and worse?"),
    ("partners", "Partners with a role to play", ""),
    ("what_works", "What works", "What could work to turn the curve, with the evidence."),
    ("action_plan", "Action plan", "What the network will do."),
]


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


@network_view
@members_only
def publishing(request, access):
    access.require_allowed(Indicator, "change", "Only network admins choose what is public.")
    indicators = list(
        access.scope(Indicator).select_related("result").order_by("result__position", "position")
    )
    k = selectors.suppression_k(access.network)
    errors: dict = {}
    if request.method == "POST":
        raw_k = request.POST.get("k", "").strip()
        chosen = request.POST.getlist("public")
        try:
            if not raw_k.isdigit():
                raise ValidationError({"k": f"k must be a whole number; '{raw_k}' is not."})
            services.publishing_update(access=access, public_codes=chosen, k=int(raw_k))
        except ValidationError as exc:
            errors = _errors(exc)
            k = raw_k
            chosen_set = set(chosen)
            for indicator in indicators:
                indicator.is_public = indicator.code in chosen_set
        else:
            messages.success(request, "Publishing settings saved.")
            return redirect("insights:publishing", access.network.slug)
    year = timezone.localdate().year
    results = list(access.scope(Result).order_by("position", "code"))
    written = {
        (n.result_id, n.year) for n in access.scope(ResultNarrative).only("result_id", "year")
    }
    return render(
        request,
        "insights/public/publishing.html",
        {
            "access": access,
            "indicators": indicators,
            "k": k,
            "errors": errors,
            "years": [year - 1, year],
            "results": [
                (result, [(y, (result.pk, y) in written) for y in (year - 1, year)])
                for result in results
            ],
        },
        status=400 if errors else 200,
    )


@network_view
@members_only
def publishing_story(request, access):
    access.require_allowed(ResultNarrative, "change", "Only network admins write the stories.")
    result = access.get_object(Result, code=request.GET.get("result", ""))
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        raise Http404("Give the year of the story.") from None
    narrative = access.scope(ResultNarrative).filter(result=result, year=year).first()
    values = {name: getattr(narrative, name, "") for name, *_ in STORY_FIELDS}
    errors: dict = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name, *_ in STORY_FIELDS}
        try:
            services.narrative_save(access=access, result=result, year=year, **values)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request, f"The story behind the curve of {result.name}, {year}, is saved."
            )
            return redirect(reverse("insights:publishing", args=[access.network.slug]))
    return render(
        request,
        "insights/public/story_form.html",
        {
            "access": access,
            "result": result,
            "year": year,
            "fields": [
                (name, label, help, values[name], errors.get(name))
                for name, label, help in STORY_FIELDS
            ],
            "errors": errors,
        },
        status=400 if errors else 200,
    )
