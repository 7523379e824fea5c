"""The results framework on the web: overview, editing pages and the framework file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.measurement.framework_file import framework_import, template_path
from backbone.measurement.models import Indicator, Result

pytestmark = pytest.mark.django_db


@pytest.fixture
def framework(world):
    access = access_for(world.users["network_admin"], world.network)
    report = framework_import(access=access, text=template_path("cradle-to-career").read_text())
    assert report.committed, report.errors
    return access


def url(world, name, *args):
    return reverse(f"measurement:{name}", args=[world.network.slug, *args])


def test_members_see_results_by_life_stage_with_their_indicators(world, client_for, framework):
    response = client_for("viewer").get(url(world, "framework"))

    assert response.status_code == 200
    page = response.content.decode()
    reading = Indicator.objects.get(network=world.network, code="grade3-reading")
    assert reading.name in page and reading.result.name in page
    assert reading.result.life_stage.name in page
    assert "Import a framework file" not in page  # viewers do not edit


def test_the_public_reads_a_public_networks_framework(world, client, framework):
    world.network.is_public = True
    world.network.save()

    response = client.get(url(world, "framework"))

    assert response.status_code == 200
    assert "grade3-reading" in response.content.decode()


def test_outsider_gets_404(world, client_for, framework):
    assert client_for("outsider").get(url(world, "framework")).status_code == 404
    assert client_for("outsider").get(url(world, "framework-download")).status_code == 404


def test_download_is_the_framework_file_and_imports_back_unchanged(world, client_for, framework):
    response = client_for("network_admin").get(url(world, "framework-download"))

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-framework.yaml"')
    report = framework_import(access=framework, text=response.content, commit=False)
    assert not report.errors and report.created == 0 and report.updated == 0


def test_admin_adds_an_indicator_through_the_form_with_audit(world, client_for, framework):
    result = Result.objects.filter(network=world.network).first()

    response = client_for("network_admin").post(
        url(world, "indicator-create"),
        {
            "code": "summer-melt",
            "name": "Summer melt",
            "result": result.pk,
            "definition": "Share of college-intending seniors who do not enroll in the fall.",
            "unit": "percent",
            "polarity": "lower_is_better",
            "formula": "direct",
            "aggregation": "none",
            "frequency": "school_year",
            "position": 20,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    indicator = Indicator.objects.get(network=world.network, code="summer-melt")
    assert AuditEvent.objects.filter(
        network=world.network, object_type="measurement.indicator", object_id=str(indicator.pk)
    ).exists()


def test_partner_staff_may_not_edit_the_framework(world, client_for, framework):
    client = client_for("org_admin")

    assert client.get(url(world, "indicator-create")).status_code == 403
    assert client.get(url(world, "framework-upload")).status_code == 403


def test_a_bad_framework_file_lists_its_problems_and_writes_nothing(world, client_for, framework):
    before = Indicator.objects.filter(network=world.network).count()
    text = (
        template_path("cradle-to-career")
        .read_text()
        .replace("unit: percent", "unit: percentage", 1)
    )

    response = client_for("network_admin").post(
        url(world, "framework-upload"),
        {"file": SimpleUploadedFile("framework.yaml", text.encode(), "application/yaml")},
    )

    assert response.status_code == 400
    assert "&#x27;percentage&#x27; is not one of" in response.content.decode()
    assert "Nothing was imported" in response.content.decode()
    assert Indicator.objects.filter(network=world.network).count() == before


def test_dry_run_checks_and_writes_nothing(world, client_for):
    text = template_path("cradle-to-career").read_text()

    response = client_for("network_admin").post(
        url(world, "framework-upload"),
        {"file": SimpleUploadedFile("f.yaml", text.encode()), "dry_run": "1"},
    )

    assert response.status_code == 200
    assert "Nothing was written (dry run)" in response.content.decode()
    assert not Indicator.objects.filter(network=world.network).exists()


def test_the_starter_template_button_imports_the_cradle_to_career_framework(world, client_for):
    response = client_for("network_admin").post(url(world, "framework-upload"), {"template": "1"})

    assert response.status_code == 302
    assert Indicator.objects.filter(network=world.network).count() == 11
    assert not Indicator.objects.filter(network=world.other_network).exists()
