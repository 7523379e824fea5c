"""The network admin signs in with a password and TOTP and walks the main pages; every
page passes axe-core with no serious or critical violation."""

import pytest
from playwright.sync_api import expect

from backbone.core.models import AuditEvent, Membership, Organization
from backbone.demo import seed
from backbone.tests_browser.support import (
    NETWORK,
    assert_accessible,
    demo_email,
    follow,
    log_in,
    visit,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

MAIN_PAGES = [
    "life-stages/",
    "areas/",
    "prospects/",
    "readiness/",
    "people/",
    "audit/",
    "framework/",
]


def test_network_admin_walks_the_main_pages(page, demo):
    log_in(page, "admin", totp_secret=seed.DEMO_TOTP_SECRET)
    assert page.url.endswith(f"{NETWORK}/"), "one network: straight to its home"
    assert page.get_by_role("heading", level=1).inner_text() == demo.name
    assert_accessible(page)

    _filter_partners_by_sector(page, demo)
    follow(page, page.locator("#partner-results tbody a").first)
    assert "/organizations/" in page.url
    assert_accessible(page)

    visit(page, f"{NETWORK}/working-groups/")
    group = page.locator("main table tbody a").first
    group_name = group.inner_text()
    follow(page, group)
    assert page.get_by_role("heading", level=1).inner_text() == group_name
    assert_accessible(page)

    for path in MAIN_PAGES:
        visit(page, f"{NETWORK}/{path}")

    visit(page, f"{NETWORK}/framework/accountability/")
    assert page.get_by_role("heading", name="Not available yet").is_visible()

    visit(page, "/accounts/tokens/")
    assert page.get_by_role("heading", level=1).inner_text() == "Personal access tokens"


def _filter_partners_by_sector(page, demo) -> None:
    """The filter form swaps the results in place (htmx) and keeps the URL in step."""
    visit(page, f"{NETWORK}/partners/")
    caption = page.locator("#partner-results caption")
    everyone = Membership.objects.filter(network=demo).count()
    assert caption.inner_text() == f"{everyone} organizations"
    expected = (
        Membership.objects.filter(network=demo, organization__sectors__code="grantmaker")
        .distinct()
        .count()
    )
    assert 0 < expected < everyone
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Sector").select_option(label="Grantmaker")

    page.wait_for_url("**/partners/?*sector=grantmaker*")
    page.wait_for_function(
        "n => document.querySelector('#partner-results caption').innerText.startsWith(n + ' ')",
        arg=expected,
    )
    assert page.evaluate("window.notReloaded") is True, "the page reloaded instead of swapping"
    sectors = page.locator("#partner-results tbody tr td:nth-child(2)").all_inner_texts()
    assert len(sectors) == expected
    assert all("Grantmaker" in text for text in sectors), sectors
    assert_accessible(page)


def test_network_admin_edits_an_organization_and_finds_it_in_the_audit_log(page, demo):
    organization = Organization.objects.filter(memberships__network=demo).order_by("name")[0]
    new_mission = "Reading tutors in every elementary school, summer included."
    log_in(page, "admin", totp_secret=seed.DEMO_TOTP_SECRET)

    visit(page, f"{NETWORK}/organizations/{organization.slug}/")
    follow(page, page.get_by_role("link", name="Edit profile"))
    assert_accessible(page)

    page.get_by_label("Name").fill("")
    follow(page, page.get_by_role("button", name="Save"))
    expect(page.locator(".errorlist").first).to_be_visible()
    assert_accessible(page)
    organization.refresh_from_db()
    assert organization.name != ""

    page.get_by_label("Name").fill(organization.name)
    page.get_by_label("Mission").fill(new_mission)
    follow(page, page.get_by_role("button", name="Save"))
    assert page.url.endswith(f"{NETWORK}/organizations/{organization.slug}/")
    assert page.get_by_role("status").inner_text() == f"Saved {organization.name}."
    assert page.get_by_text(new_mission).is_visible()
    assert_accessible(page)
    organization.refresh_from_db()
    assert organization.mission == new_mission

    visit(page, f"{NETWORK}/audit/")
    page.get_by_label("Person (email)").fill(demo_email("admin"))
    follow(page, page.get_by_role("button", name="Filter"))
    assert "actor=" in page.url
    row = page.locator("main table tbody tr", has_text=organization.name).first
    assert "Update" in row.inner_text()
    row.locator("summary").click()
    expect(row.get_by_role("cell", name=new_mission)).to_be_visible()
    assert_accessible(page)
    assert AuditEvent.objects.filter(object_repr=organization.name).exists()
