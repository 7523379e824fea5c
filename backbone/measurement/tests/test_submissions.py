from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backbone.measurement import submissions
from backbone.measurement.models import DataValue, DataValueVersion, Submission
from backbone.measurement.tests.reporting_setup import good_entries, setup  # noqa: F401

pytestmark = pytest.mark.django_db


def test_grid_rows_are_one_per_subject_area_and_category(setup):  # noqa: F811
    rows = submissions.grid_rows(access=setup.access("org_member"), submission=setup.submission())
    assert [row.label for row in rows] == [
        "reading, whole network, total",
        "served, whole network, total",
        "served, whole network, Race: Asian",
        "served, whole network, Race: Black",
    ]
    assert [row.is_ratio for row in rows] == [True, False, False, False]


def test_save_draft_submit_approve(setup):  # noqa: F811
    submission = setup.submission()
    rows, errors = setup.save("org_member", submission, good_entries(setup))

    assert errors == []
    values = DataValue.objects.filter(submission=submission)
    assert values.count() == 4 and set(values.values_list("status", flat=True)) == {"draft"}
    reading = values.get(indicator=setup.reading)
    assert reading.value == Decimal("50") and reading.organization == setup.world.organization
    assert rows[0].value == reading
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DRAFT

    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    submission.refresh_from_db()
    assert (
        submission.status == "submitted"
        and submission.submitted_by == setup.world.users["org_member"]
    )
    assert set(values.values_list("status", flat=True)) == {"submitted"}

    submissions.submission_approve(access=setup.access("network_admin"), submission=submission)
    submission.refresh_from_db()
    assert submission.status == "approved" and submission.reviewed_at is not None
    assert set(values.values_list("status", flat=True)) == {"approved"}


def test_bad_cells_are_reported_by_row_and_field_and_nothing_is_written(setup):  # noqa: F811
    served, reading = setup.served.pk, setup.reading.pk
    entries = {
        f"i{served}-0-": {"value": "12.5"},
        f"i{served}-0-race=asian": {"value": "lots"},
        f"i{reading}-0-": {"numerator": "95", "denominator": "90"},
    }
    rows, errors = setup.save("org_member", setup.submission(), entries)

    assert errors == [
        "reading, whole network, total, numerator: The numerator (95) is larger than the "
        "denominator (90); a percent cannot exceed 100.",
        "served, whole network, total, value: A count must be a whole number, 0 or more.",
        "served, whole network, Race: Asian, value: This is not a number.",
    ]
    assert rows[2].field_errors["value"] == "This is not a number."
    assert rows[2].shown["value"] == "lots"  # what was typed stays in the cell
    assert not DataValue.objects.exists()
    assert setup.submission().status == Submission.Status.NOT_STARTED


def test_parts_must_add_up_to_the_total(setup):  # noqa: F811
    entries = good_entries(setup)
    entries[f"i{setup.served.pk}-0-race=black"] = {"value": "50"}
    rows, errors = setup.save("org_member", setup.submission(), entries)
    assert errors == [
        "served, whole network, total, value: The Race rows add up to 60, not to this total."
    ]
    assert not DataValue.objects.exists()


def test_an_empty_grid_saves_nothing(setup):  # noqa: F811
    rows, errors = setup.save("org_member", setup.submission(), {})
    assert errors == ["Nothing to save: enter at least one value."]
    assert setup.submission().status == Submission.Status.NOT_STARTED


def test_another_organization_cannot_fill_in_a_submission(setup):  # noqa: F811
    theirs = setup.submission(assignment=setup.second_assignment)
    with pytest.raises(PermissionDenied):
        setup.save("org_member", theirs, good_entries(setup))
    with pytest.raises(PermissionDenied):
        submissions.submission_submit(access=setup.access("org_admin"), submission=theirs)
    assert not DataValue.objects.exists()


def test_only_network_admins_review_and_returning_needs_a_comment(setup):  # noqa: F811
    submission = setup.submission()
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    for role in ("org_admin", "org_member"):
        with pytest.raises(PermissionDenied):
            submissions.submission_approve(access=setup.access(role), submission=submission)
    with pytest.raises(ValidationError, match="needs a comment"):
        submissions.submission_return(
            access=setup.access("network_admin"), submission=submission, comment="  "
        )
    assert set(DataValue.objects.values_list("status", flat=True)) == {"submitted"}


def test_returned_data_is_fixed_and_submitted_again(setup):  # noqa: F811
    submission = setup.submission()
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    with pytest.raises(ValidationError, match="submitted"):
        setup.save("org_member", submission, good_entries(setup))
    submissions.submission_return(
        access=setup.access("network_admin"), submission=submission, comment="Check reading."
    )
    submission.refresh_from_db()
    assert submission.status == "returned" and submission.review_comment == "Check reading."
    assert set(DataValue.objects.values_list("status", flat=True)) == {"returned"}

    entries = good_entries(setup)
    entries[f"i{setup.reading.pk}-0-"] = {"numerator": "50", "denominator": "90"}
    _, errors = setup.save("org_member", submission, entries)
    assert errors == []
    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    assert set(DataValue.objects.values_list("status", flat=True)) == {"submitted"}
    submission.refresh_from_db()
    assert submission.review_comment == ""


def test_approved_data_is_locked_and_corrected_with_a_reason(setup):  # noqa: F811
    submission = setup.submission()
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    submissions.submission_approve(access=setup.access("network_admin"), submission=submission)
    submission.refresh_from_db()
    entries = good_entries(setup)
    entries[f"i{setup.reading.pk}-0-"] = {"numerator": "46", "denominator": "90"}

    with pytest.raises(PermissionDenied):
        setup.save("org_admin", submission, entries)
    with pytest.raises(ValidationError, match="needs a reason"):
        setup.save("network_admin", submission, entries)
    _, errors = setup.save("network_admin", submission, entries, reason="State file revised")

    assert errors == []
    reading = DataValue.objects.get(indicator=setup.reading)
    assert reading.status == "approved" and reading.numerator == 46
    latest = reading.versions.order_by("-version").first()
    assert latest.reason == "State file revised"
    assert (latest.old["numerator"], latest.new["numerator"]) == ("45", "46")
    assert latest.changed_by == setup.world.users["network_admin"]
    # untouched values got no new version
    served = DataValue.objects.get(indicator=setup.served, disaggregation="")
    assert DataValueVersion.objects.filter(data_value=served).count() == 3  # draft, sub, appr


def test_the_grid_takes_performance_measures_too(setup):  # noqa: F811
    from backbone.measurement.models import PerformanceMeasure

    measure = PerformanceMeasure.objects.create(
        network=setup.world.network,
        organization=setup.world.organization,
        code="tutoring-hours",
        name="Hours of tutoring",
        category="how_much",
        unit="count",
        polarity="higher_is_better",
    )
    setup.assignment.measures.add(measure)
    rows = submissions.grid_rows(access=setup.access("org_member"), submission=setup.submission())
    assert rows[-1].label == "tutoring-hours, whole network, total"

    entries = {f"m{measure.pk}-0-": {"value": "120"}}
    _, errors = setup.save("org_member", setup.submission(), entries)

    assert errors == []
    value = DataValue.objects.get(measure=measure)
    assert value.value == 120 and value.submission == setup.submission()
    _, errors = setup.save(
        "org_member", setup.submission(), {f"m{measure.pk}-0-": {"value": "1.5"}}
    )
    assert errors == [
        "tutoring-hours, whole network, total, value: A count must be a whole number, 0 or more."
    ]


def test_a_value_changed_after_submitting_blocks_approval(setup):  # noqa: F811
    from backbone.measurement.data_file import data_import

    submission = setup.submission()
    setup.save("org_member", submission, good_entries(setup))
    submissions.submission_submit(access=setup.access("org_member"), submission=submission)
    org = setup.world.organization.slug
    changed = data_import(
        access=setup.access("org_member"),
        data=f"indicator,period,organization,value\nserved,2026-Q1,{org},31\n".encode(),
        filename="late.csv",
        commit=True,
        reason="",
    )
    assert changed.ok, [str(e) for e in changed.errors]
    with pytest.raises(ValidationError, match="1 value of this submission changed"):
        submissions.submission_approve(access=setup.access("network_admin"), submission=submission)
    assert not DataValue.objects.filter(status="approved").exists()
    assert Submission.objects.get(pk=submission.pk).status == "submitted"
