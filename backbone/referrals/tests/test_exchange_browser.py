"""The import page in a browser: an organization admin uploads a file, reads the preview,
confirms; the page has no serious accessibility violations."""

import csv
import datetime
import io
import os
from pathlib import Path

import pytest

from backbone.directory.models import Service
from backbone.referrals.models import Person, Referral
from backbone.referrals.tests.test_exchange import exchange_world
from backbone.testing.factories import DEFAULT_PASSWORD
from backbone.tests_browser.conftest import browser  # noqa: F401 (a fixture)
from backbone.tests_browser.support import blocking_violations, describe, follow

pytestmark = [pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("BACKBONE_SCREENSHOTS", "/tmp/h4-exchange"))
NETWORK = "/n/river-city"


@pytest.fixture
def page(browser, live_server, world):  # noqa: F811 (pytest fixtures)
    exchange_world(world, people=0)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", world.users["org_admin"].email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    follow(page, page.locator("main form").get_by_role("button", name="Sign In"))
    assert "/accounts/" not in page.url, page.url
    yield page
    context.close()


def _file(world) -> bytes:
    """Two people and two referrals to the second organization's service."""
    service = Service.objects.get(organization__organization=world.second_organization)
    receiver = world.second_organization
    today = datetime.date.today()
    out = io.StringIO()
    columns = [
        "organization",
        "person_ref",
        "given_name",
        "family_name",
        "birth_date",
        "consent_recipients",
        "consent_recipient_organizations",
        "consent_information",
        "consent_purpose",
        "consent_expires_on",
        "consent_signature",
        "consent_signed_by",
        "consent_signed_on",
        "service",
        "status",
        "sent_on",
        "responded_on",
    ]
    writer = csv.writer(out)
    writer.writerow(columns)
    for ref, given, family, birth, status in (
        ("B-1", "Noor", "Haddad", "2008-05-06", "accepted"),
        ("B-2", "Luis", "Ferreira", "2009-09-12", "sent"),
    ):
        writer.writerow(
            [
                "",
                ref,
                given,
                family,
                birth,
                "named",
                receiver.slug,
                "identity; referrals",
                "referral",
                (today + datetime.timedelta(days=300)).isoformat(),
                "paper",
                f"{given} {family}",
                (today - datetime.timedelta(days=20)).isoformat(),
                str(service.hsds_id),
                status,
                (today - datetime.timedelta(days=10)).isoformat(),
                (today - datetime.timedelta(days=8)).isoformat() if status == "accepted" else "",
            ]
        )
    return out.getvalue().encode()


def test_org_admin_imports_a_file(page, world, tmp_path):
    data = _file(world)
    path = tmp_path / "clients.csv"
    path.write_bytes(data)
    before = Referral.objects.count()
    page.goto(f"{NETWORK}/referrals/import/")
    assert page.get_by_role("heading", name="Import people and referrals").is_visible()
    violations = blocking_violations(page)
    assert not violations, describe(violations, page.url)
    page.set_input_files("input[name=file]", str(path))
    follow(page, page.get_by_role("button", name="Check the file"))
    preview = page.locator("#import-preview")
    assert preview.is_visible()
    assert "Would create 2" in preview.locator("caption").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "referrals-import-preview.png"), full_page=True)
    violations = blocking_violations(page)
    assert not violations, describe(violations, page.url)
    follow(page, page.get_by_role("button", name="Confirm import"))
    assert "Imported clients.csv" in page.content()
    assert Referral.objects.count() == before + 2
    assert Person.objects.filter(birth_year=2009).exists()


def test_bad_file_shows_the_report(page, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "organization,person_ref,given_name,family_name,birth_date\n,B-9,Ada,Lind,1999-13-40\n"
    )
    page.goto(f"{NETWORK}/referrals/import/")
    page.set_input_files("input[name=file]", str(path))
    follow(page, page.get_by_role("button", name="Check the file"))
    report = page.locator("#import-errors")
    assert "birth_date" in report.inner_text()
    assert "YYYY-MM-DD" in report.inner_text()
    page.screenshot(path=str(SHOTS / "referrals-import-errors.png"), full_page=True)
