# ruff: noqa: F811 - the browser fixtures are imported from tests_browser
"""In Chromium: the network admin uploads a data file, sees the progress bar, the preview
and the validation report, commits, and adds a validation rule. Screenshots go to
$SCREENSHOTS (when set) for a person to look at."""

import os
from pathlib import Path

import pytest
from django.test import Client

from backbone.measurement.models import DataValue, ImportJob, Indicator
from backbone.measurement.tests.test_data_file import framework  # noqa: F401
from backbone.tests_browser.conftest import browser  # noqa: F401
from backbone.tests_browser.support import assert_accessible, follow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, framework):
    """A browser signed in as the network admin (the session of Django's test client)."""
    client = Client()
    client.force_login(framework.users["network_admin"])
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    context.set_default_timeout(60_000)  # a shared machine under load
    page = context.new_page()
    yield page
    context.close()


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_network_admin_uploads_checks_and_commits_a_data_file(page, framework, tmp_path):
    network = framework.network
    base = f"/n/{network.slug}"
    Indicator.objects.create(
        network=network,
        result=network.results.first(),
        code="upload-count",
        name="Children served",
        definition="Children served.",
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="quarter",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "indicator,period,value,comment\n"
        "upload-count,2024-Q1,12,\nupload-count,2024-Q5,3,\nupload-count,2024-Q3,-4,\n"
    )
    good = tmp_path / "good.csv"
    good.write_text("indicator,period,value\nupload-count,2024-Q1,12\nupload-count,2024-Q2,14\n")

    page.goto(f"{base}/data/import/")
    assert_accessible(page)
    shoot(page, "upload")
    page.set_input_files("input[type=file]", str(bad))
    follow(page, page.get_by_role("button", name="Check the file"))
    assert "2 problems. Nothing was written." in page.inner_text("main")
    assert page.locator("#import-errors tbody tr").count() == 2
    assert_accessible(page)
    shoot(page, "report")

    page.goto(f"{base}/data/import/")
    page.set_input_files("input[type=file]", str(good))
    follow(page, page.get_by_role("button", name="Check the file"))
    assert "Would create" in page.inner_text("main")
    shoot(page, "preview")
    follow(page, page.get_by_role("button", name="Commit: write all 2 values"))
    assert "Written." in page.inner_text("main")
    assert DataValue.objects.filter(indicator__code="upload-count").count() == 2

    running = ImportJob.objects.create(
        network=network,
        created_by=ImportJob.objects.first().created_by,
        filename="state-2024.csv",
        content=b"",
        sha256="0" * 64,
        status=ImportJob.Status.CHECKING,
        total_rows=400_000,
        processed_rows=150_000,
    )
    page.goto(f"{base}/data/import/{running.pk}/")
    assert page.locator("progress").get_attribute("value") == "37"
    assert_accessible(page)
    shoot(page, "progress")

    page.goto(f"{base}/data/rules/new/")
    page.fill("input[name=code]", "q-cap")
    page.fill("input[name=name]", "At most 100 a quarter")
    page.fill("input[name=left]", "upload-count")
    page.select_option("select[name=operator]", "<=")
    page.fill("input[name=right]", "100")
    follow(page, page.get_by_role("button", name="Save"))
    assert "upload-count &lt;= 100" in page.content()
    assert_accessible(page)
    shoot(page, "rules")
