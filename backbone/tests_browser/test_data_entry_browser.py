"""A partner enters a cycle of data in the web grid, a bad figure is caught where it was
typed, the partner submits, and the backbone approves and locks it: in a real browser."""

import pytest

from backbone.core.models import NetworkRole
from backbone.demo import seed
from backbone.measurement.models import DataValue, Submission
from backbone.tests_browser.support import (
    NETWORK,
    assert_accessible,
    demo_email,
    follow,
    log_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _open_draft(page) -> Submission:
    organization = NetworkRole.objects.get(user__email=demo_email("orgadmin")).organization
    draft = (
        Submission.objects.filter(organization=organization, status=Submission.Status.DRAFT)
        .order_by("-period_start")
        .first()
    )
    assert draft is not None, "the demo gives the partner a draft of the current period"
    page.goto(f"{NETWORK}/data/reporting/")
    follow(page, page.get_by_role("link", name=draft.period, exact=True))
    follow(page, page.get_by_role("link", name="Enter data"))
    assert page.get_by_role("heading", level=1).inner_text().endswith(draft.period)
    return draft


def _ratio_inputs(page):
    numerators = page.locator("input[name$=':numerator']")
    denominators = page.locator("input[name$=':denominator']")
    assert numerators.count() >= 1 and numerators.count() == denominators.count()
    return numerators.first, denominators.first


def test_partner_enters_data_in_the_grid_and_the_backbone_approves_it(page, demo):
    log_in(page, "orgadmin")
    draft = _open_draft(page)
    assert_accessible(page)
    numerator, denominator = _ratio_inputs(page)
    name = numerator.get_attribute("name")

    # A numerator above its denominator is refused in place, and nothing is saved.
    numerator.fill("600")
    denominator.fill("486")
    follow(page, page.get_by_role("button", name="Submit for review"))
    alert = page.get_by_role("alert")
    assert "Nothing was saved" in alert.inner_text()
    cell = page.locator(f"input[name='{name}']")
    assert cell.get_attribute("aria-invalid") == "true"
    assert cell.input_value() == "600", "what was typed is kept for correcting"
    assert_accessible(page)
    draft.refresh_from_db()
    assert draft.status == Submission.Status.DRAFT

    cell.fill("300")
    follow(page, page.get_by_role("button", name="Submit for review"))
    assert "Submitted for review." in page.locator("body").inner_text()
    draft.refresh_from_db()
    assert draft.status == Submission.Status.SUBMITTED
    values = DataValue.objects.filter(submission=draft)
    assert {v.status for v in values} == {DataValue.Status.SUBMITTED}
    assert any(v.numerator == 300 and v.denominator == 486 for v in values)

    # The backbone reviews it: approving locks the values.
    page.context.clear_cookies()
    log_in(page, "admin", totp_secret=seed.DEMO_TOTP_SECRET)
    page.goto(f"{NETWORK}/data/submissions/{draft.pk}/")
    assert_accessible(page)
    follow(page, page.get_by_role("button", name="Approve and lock"))
    draft.refresh_from_db()
    assert draft.status == Submission.Status.APPROVED
    assert {v.status for v in values.all()} == {DataValue.Status.APPROVED}
    assert page.url.endswith(f"{NETWORK}/data/review/"), "back to what is left to review"
    assert f"Approved {draft}." in page.locator("body").inner_text()
