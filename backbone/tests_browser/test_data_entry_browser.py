"""A partner enters a cycle of data in the web grid, a bad figure is caught where it was
typed, the partner submits, and the backbone approves and locks it: in a real browser."""

from pathlib import Path

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


def _upload(page, name: str, text: str) -> None:
    page.goto(f"{NETWORK}/data/import/")
    page.get_by_label("Data file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
    )
    follow(page, page.get_by_role("button", name="Check the file"))


def test_partner_uploads_a_spreadsheet_sees_the_bad_row_then_commits(page, demo):
    """The CSV template, a bad row reported by row, column and rule with nothing written,
    the fixed file committed, and the same file again changing nothing."""
    log_in(page, "orgadmin")
    draft = Submission.objects.filter(
        organization=NetworkRole.objects.get(user__email=demo_email("orgadmin")).organization,
        status=Submission.Status.DRAFT,
    ).first()
    page.goto(f"{NETWORK}/data/import/")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    template = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    header, rows = template[0], [line.split(",") for line in template[1:]]
    assert header.startswith("indicator,period,organization,area")
    assert rows and all(row[2] == draft.organization.slug for row in rows)
    measures = {row[0]: row for row in rows}
    count = next(code for code in measures if code.endswith("families-contacted"))
    saved = {v.measure.code: v for v in DataValue.objects.filter(submission=draft)}
    before = {v.pk: (v.value, v.version) for v in saved.values()}

    def filled(families: str) -> str:
        """The draft's own figures, one more in each numerator (no outlier warnings)."""
        lines = [header]
        for code, row in sorted(measures.items()):
            value = saved[code]
            figures = (
                [families, "", ""]
                if code == count
                else ["", f"{value.numerator + 1:f}", f"{value.denominator:f}"]
            )
            lines.append(",".join([code, draft.period, row[2], row[3], *figures, ""]))
        return "\n".join(lines) + "\n"

    _upload(page, "bad.csv", filled("-5"))
    report = page.locator("#import-errors")
    assert "Nothing was written" in page.get_by_role("alert").inner_text()
    first = report.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first[:3] == ["2", "value", "-5"], first
    assert_accessible(page)
    assert {v.pk: (v.value, v.version) for v in DataValue.objects.filter(submission=draft)} == (
        before
    )

    families = saved[count].value + 4
    _upload(page, "fixed.csv", filled(f"{families:f}"))
    stats = page.locator("dl.stats").inner_text()
    assert "Would update" in stats and "3" in stats, stats
    follow(page, page.get_by_role("button", name="Commit: write all 3 values"))
    assert "Written." in page.locator("body").inner_text()
    stored = DataValue.objects.get(pk=saved[count].pk)
    assert stored.value == families and stored.version == before[stored.pk][1] + 1

    _upload(page, "fixed-again.csv", filled(f"{families:f}"))
    assert "committing this file would change nothing" in page.locator("body").inner_text()
