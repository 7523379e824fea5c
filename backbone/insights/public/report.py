"""The community report: a printable annual report (HTML designed for paper, and its PDF
drawn by WeasyPrint) with the network's purpose, the scorecard, a chart per public
indicator and the story behind the curve of each result. Suppressed like the report card.

WeasyPrint fetches nothing from the network: charts are inlined SVG, the stylesheet is
inline, and the URL fetcher refuses anything but data: URLs.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from backbone.core.web import network_view
from backbone.insights.public import selectors
from backbone.insights.public.services import YEAR_MAX, YEAR_MIN
from backbone.insights.public.views import _reasons, card_for, group_by_result
from backbone.measurement.models import Indicator


def url_fetcher():
    """Only inline data: URLs; the report never reaches out to the network."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def _year(year: int) -> int:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise Http404("No report for that year.")
    return year


def context(access, year: int) -> dict:
    released = selectors.release_all(access, until_year=year)
    k = selectors.suppression_k(access.network)
    cards = [card_for(item) for item in released]
    stories = selectors.narratives(access, year)
    stages = group_by_result(cards)
    return {
        "access": access,
        "network": access.network,
        "year": year,
        "k": k,
        "stages": [
            (stage, [(result, cards, stories.get(result.pk)) for result, cards in results])
            for stage, results in stages
        ],
        "footnotes": selectors.footnotes(k, _reasons(released)),
        "status_labels": selectors.STATUS_LABELS,
        "trend_labels": selectors.TREND_LABELS,
        "printed": timezone.localdate(),
    }


def pdf_bytes(access, year: int) -> bytes:
    """The PDF, drawn once per distinct HTML (drawing takes seconds; the HTML is cheap)."""
    from weasyprint import HTML

    html = render_to_string("insights/report/report.html", {**context(access, year), "pdf": True})
    key = "insights-report-pdf:" + hashlib.sha256(html.encode()).hexdigest()
    pdf = cache.get(key)
    if pdf is None:
        pdf = HTML(string=html, base_url=None, url_fetcher=url_fetcher()).write_pdf()
        cache.set(key, pdf, selectors.CACHE_SECONDS)
    return pdf


@network_view
def report_html(request, access, year: int):
    access.require_allowed(Indicator)
    return render(request, "insights/report/report.html", context(access, _year(year)))


@network_view
def report_pdf(request, access, year: int):
    access.require_allowed(Indicator)
    response = HttpResponse(pdf_bytes(access, _year(year)), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{access.network.slug}-community-report-{year}.pdf"'
    )
    return response
