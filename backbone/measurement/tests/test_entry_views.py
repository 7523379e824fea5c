from decimal import Decimal

import pytest
from django.urls import reverse

from backbone.measurement import submissions
from backbone.measurement.models import DataValue, ReportingAssignment, Submission
from backbone.measurement.tests.reporting_setup import good_entries, setup  # noqa: F401

pytestmark = pytest.mark.django_db


def url(setup, name, *args):  # noqa: F811
    return reverse(f"measurement:{name}", args=[setup.world.network.slug, *args])


def grid_post(entries: dict, action="save") -> dict:
    data = {"action": action}
    for key, cells in entries.items():
        for column, text in cells.items():
            data[f"row-{key}:{column}"] = text
    return data


def test_admin_adds_an_assignment(setup, client_for):  # noqa: F811
    client = client_for("network_admin")
    assert client.get(url(setup, "assignment-create")).status_code == 200
    response = client.post(
        url(setup, "assignment-create"),
        {
            "organization": setup.world.second_organization.pk,
            "name": "Monthly attendance",
            "indicators": [setup.served.pk],
            "frequency": "month",
            "first_period": "2026-01",
            "last_period": "2026-03",
            "due_days": 15,
            "reminder_days": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assignment = ReportingAssignment.objects.get(name="Monthly attendance")
    assert list(assignment.submissions.order_by("period").values_list("period", flat=True)) == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    listing = client.get(url(setup, "assignment-list")).content.decode()
    assert "Monthly attendance" in listing and "2026-01 – 2026-03" in listing


def test_an_assignment_with_bad_periods_is_refused_with_the_reason(setup, client_for):  # noqa: F811
    count = ReportingAssignment.objects.count()
    response = client_for("network_admin").post(
        url(setup, "assignment-create"),
        {
            "organization": setup.world.organization.pk,
            "indicators": [setup.served.pk],
            "frequency": "quarter",
            "first_period": "2026-Q5",
            "due_days": 30,
            "reminder_days": 7,
        },
    )
    assert response.status_code == 400
    assert "&#x27;2026-Q5&#x27; is not a period code" in response.content.decode()
    assert ReportingAssignment.objects.count() == count


@pytest.mark.parametrize("role", ["org_admin", "org_member", "funder", "viewer"])
def test_only_admins_add_or_edit_assignments(setup, client_for, role):  # noqa: F811
    client = client_for(role)
    assert client.get(url(setup, "assignment-create")).status_code == 403
    edit = url(setup, "assignment-edit", setup.assignment.pk)
    assert client.post(edit, {"due_days": 1}).status_code in (403, 404)
    setup.assignment.refresh_from_db()
    assert setup.assignment.due_days == 30


def test_outsiders_get_404_on_every_reporting_page(setup, client_for):  # noqa: F811
    outsider = client_for("outsider")
    pk = setup.submission().pk
    for name, args in (
        ("assignment-list", ()),
        ("assignment-create", ()),
        ("assignment-edit", (setup.assignment.pk,)),
        ("submission-list", ()),
        ("review-list", ()),
        ("submission-detail", (pk,)),
        ("submission-edit", (pk,)),
        ("submission-review", (pk,)),
        ("completeness-report", ()),
    ):
        assert outsider.get(url(setup, name, *args)).status_code == 404, name
        assert outsider.post(url(setup, name, *args)).status_code == 404, name


def test_my_reporting_lists_own_submissions_with_due_dates(setup, client_for):  # noqa: F811
    text = client_for("org_member").get(url(setup, "submission-list")).content.decode()
    assert "My reporting" in text
    assert text.count("/data/submissions/") == 2
    assert "2026-04-30" in text and "2026-07-30" in text
    assert "late" in text  # both are past due and not submitted


def test_the_grid_saves_a_draft_and_submits(setup, client_for):  # noqa: F811
    client = client_for("org_member")
    submission = setup.submission()
    page = client.get(url(setup, "submission-edit", submission.pk))
    assert page.status_code == 200
    assert f'name="row-i{setup.reading.pk}-0-:numerator"' in page.content.decode()

    saved = client.post(
        url(setup, "submission-edit", submission.pk), grid_post(good_entries(setup))
    )
    assert saved.status_code == 302
    assert DataValue.objects.filter(submission=submission, status="draft").count() == 4
    again = client.get(url(setup, "submission-edit", submission.pk)).content.decode()
    assert 'value="45"' in again and "Draft · v1" in again

    sent = client.post(
        url(setup, "submission-edit", submission.pk), grid_post(good_entries(setup), "submit")
    )
    assert sent.status_code == 302 and sent["Location"].endswith(f"/submissions/{submission.pk}/")
    submission.refresh_from_db()
    assert submission.status == "submitted"
    locked = client.get(url(setup, "submission-edit", submission.pk)).content.decode()
    assert "disabled" in locked and "Submit for review" not in locked


def test_the_grid_shows_errors_per_cell_and_writes_nothing(setup, client_for):  # noqa: F811
    entries = good_entries(setup)
    entries[f"i{setup.served.pk}-0-race=asian"] = {"value": "-4"}
    response = client_for("org_member").post(
        url(setup, "submission-edit", setup.submission().pk), grid_post(entries)
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "served, whole network, Race: Asian, value: A count must be a whole number" in text
    assert 'class="cell-error">A count must be a whole number, 0 or more.' in text
    assert 'value="-4"' in text  # what was typed is kept
    assert not DataValue.objects.exists()


def test_admin_reviews_from_the_queue(setup, client_for):  # noqa: F811
    submission = setup.submission()
    member = setup.access("org_member")
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=member, submission=submission)
    admin = client_for("network_admin")
    queue = admin.get(url(setup, "review-list")).content.decode()
    assert f"/submissions/{submission.pk}/" in queue

    refused = admin.post(url(setup, "submission-review", submission.pk), {"action": "return"})
    assert refused.status_code == 302
    submission.refresh_from_db()
    assert submission.status == "submitted"

    returned = admin.post(
        url(setup, "submission-review", submission.pk),
        {"action": "return", "comment": "Reading looks low."},
    )
    assert returned.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.review_comment) == ("returned", "Reading looks low.")
    grid = client_for("org_member").get(url(setup, "submission-edit", submission.pk))
    assert "Reading looks low." in grid.content.decode()


def test_members_cannot_approve(setup, client_for):  # noqa: F811
    submission = setup.submission()
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    response = client_for("org_admin").post(
        url(setup, "submission-review", submission.pk), {"action": "approve"}
    )
    assert response.status_code == 403
    assert Submission.objects.get(pk=submission.pk).status == "submitted"


def test_admin_corrects_approved_data_with_a_reason(setup, client_for):  # noqa: F811
    submission = setup.submission()
    admin_access = setup.access("network_admin")
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=admin_access, submission=submission)
    submissions.submission_approve(access=admin_access, submission=submission)
    entries = good_entries(setup)
    entries[f"i{setup.reading.pk}-0-"] = {"numerator": "47", "denominator": "90"}
    client = client_for("network_admin")
    missing = client.post(url(setup, "submission-edit", submission.pk), grid_post(entries))
    assert missing.status_code == 400
    assert DataValue.objects.get(indicator=setup.reading).numerator == 45
    done = client.post(
        url(setup, "submission-edit", submission.pk),
        {**grid_post(entries), "reason": "Late state file"},
    )
    assert done.status_code == 302
    value = DataValue.objects.get(indicator=setup.reading)
    assert value.numerator == Decimal(47) and value.status == "approved"
    history = client.get(url(setup, "submission-detail", submission.pk)).content.decode()
    assert "Reason: Late state file" in history and "45 → 47" in history
    assert (
        client_for("org_member").get(url(setup, "submission-edit", submission.pk)).status_code
        == 403
    )


def test_completeness_page_shows_rates_by_organization_and_period(setup, client_for):  # noqa: F811
    submission = setup.submission()
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    text = client_for("network_admin").get(url(setup, "completeness-report")).content.decode()
    assert setup.world.organization.name in text
    assert setup.world.second_organization.name in text
    assert "2026-Q1" in text and "2026-Q2" in text
    # The submission was sent today, long after its due date: late, so 0 on time.
    assert "Sent late (1)" in text and "Missing (3)" in text
