"""The community report: printable HTML and its PDF, suppressed like the report card,
with the story behind the curve; nothing fetched from the network."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from backbone.core.access import access_for
from backbone.insights.public import report
from backbone.insights.public.services import narrative_save
from backbone.insights.tests.test_public import PRIVATE_TEXT, data  # noqa: F401 - fixture
from backbone.measurement.models import Result

pytestmark = pytest.mark.django_db


def url(name, world, *args):
    return reverse(f"insights:{name}", args=[world.network.slug, *args])


def _texts(box):
    text = getattr(box, "text", None)
    if text:
        yield text
    for child in getattr(box, "children", ()):
        yield from _texts(child)


@pytest.fixture
def story(data):  # noqa: F811
    admin = access_for(data.users["network_admin"], data.network)
    return narrative_save(
        access=admin,
        result=Result.objects.get(code="early-reading"),
        year=2024,
        story="Chronic absence rose after the flood.",
        what_works="Reading tutors three times a week.",
    )


def test_report_html_has_purpose_scorecard_charts_and_story(data, story, client_for):  # noqa: F811
    response = client_for(None).get(url("report-html", data, 2024))
    assert response.status_code == 200
    text = response.content.decode()
    assert data.network.purpose in text
    assert "Chronic absence rose after the flood." in text
    assert "Reading tutors three times a week." in text
    assert "60.0%" in text and "<svg" in text and "@page" in text
    assert "50.0%" not in text and "85.7%" not in text  # suppressed groups never printed
    assert PRIVATE_TEXT not in text


def test_report_pdf_is_a_pdf_with_pages_and_the_network_name(data, story, client_for):  # noqa: F811
    response = client_for(None).get(url("report-pdf", data, 2024))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    from weasyprint import HTML

    html = render_to_string(
        "insights/report/report.html",
        {**report.context(access_for(data.users["funder"], data.network), 2024), "pdf": True},
    )
    document = HTML(string=html, url_fetcher=report.url_fetcher()).render()
    assert len(document.pages) >= 2
    text = " ".join(t for page in document.pages for t in _texts(page._page_box))
    assert "River City Cradle to Career" in text
    assert "Chronic absence rose after the flood." in text
    assert "Page 1 of" in text


def test_a_year_before_the_data_prints_no_figures(data, client_for):  # noqa: F811
    text = client_for(None).get(url("report-html", data, 2022)).content.decode()
    assert "60.0%" not in text and "no data" in text


def test_report_of_an_impossible_year_is_not_found(data, client_for):  # noqa: F811
    assert client_for(None).get(url("report-html", data, 1200)).status_code == 404
    assert client_for(None).get(url("report-pdf", data, 9999)).status_code == 404


def test_outsiders_get_404_and_the_public_of_a_private_network_signs_in(data, client_for):  # noqa: F811
    data.network.is_public = False
    data.network.save()
    assert client_for("outsider").get(url("report-pdf", data, 2024)).status_code == 404
    assert client_for("outsider").get(url("report-html", data, 2024)).status_code == 404
    assert client_for(None).get(url("report-html", data, 2024)).status_code == 302
    assert client_for("funder").get(url("report-html", data, 2024)).status_code == 200


def test_the_pdf_renderer_fetches_nothing_from_the_network():
    fetcher = report.url_fetcher()
    for address in ("http://example.com/logo.png", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(address)
