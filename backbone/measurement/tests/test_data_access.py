"""Who reads which data values: partner A never sees partner B's unapproved data;
funders and viewers see approved data only; the public approved population data only."""

import pytest
from django.urls import reverse

from backbone.core.access import Access, access_for
from backbone.measurement import submissions
from backbone.measurement.data_file import data_export
from backbone.measurement.models import DataValue, DataValueVersion, Submission
from backbone.measurement.tests.reporting_setup import good_entries, setup  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def values(setup):  # noqa: F811
    """Own organization's and the second partner's values in every status, and
    population values (approved and draft)."""
    admin = setup.access("network_admin")
    made = {}
    for owner, assignment in (
        ("own", setup.assignment),
        ("second", setup.second_assignment),
    ):
        for period, status in (("2026-Q1", "approved"), ("2026-Q2", "submitted")):
            submission = Submission.objects.get(assignment=assignment, period=period)
            entries = {f"i{setup.served.pk}-0-": {"value": "7" if owner == "own" else "9"}}
            submissions.submission_save(access=admin, submission=submission, entries=entries)
            submissions.submission_submit(access=admin, submission=submission)
            if status == "approved":
                submissions.submission_approve(access=admin, submission=submission)
            made[(owner, status)] = DataValue.objects.get(submission=submission)
        for status in ("draft", "returned"):
            value = made[(owner, "submitted")]
            clone = DataValue.objects.get(pk=value.pk)
            clone.pk, clone.period, clone.status, clone.submission = None, status, status, None
            clone.period = "2025-Q4" if status == "draft" else "2025-Q3"
            clone.save()
            made[(owner, status)] = clone
    for status, period in (("approved", "2025"), ("draft", "2024")):
        population = DataValue.objects.get(pk=made[("own", "approved")].pk)
        population.pk, population.organization, population.submission = None, None, None
        population.period, population.status = period, status
        population.save()
        made[("population", status)] = population
    return made


def visible(access, values):
    seen = set(access.scope(DataValue).values_list("pk", flat=True))
    return {key for key, value in values.items() if value.pk in seen}


ALL = {
    (owner, status)
    for owner in ("own", "second")
    for status in ("draft", "submitted", "returned", "approved")
} | {("population", "approved"), ("population", "draft")}
APPROVED = {("own", "approved"), ("second", "approved"), ("population", "approved")}


def test_network_admins_see_every_value(setup, values):  # noqa: F811
    assert visible(setup.access("network_admin"), values) == ALL


@pytest.mark.parametrize("role", ["org_admin", "org_member"])
def test_an_organization_sees_its_own_values_and_everyones_approved(setup, values, role):  # noqa: F811
    own = {("own", status) for status in ("draft", "submitted", "returned", "approved")}
    assert visible(setup.access(role), values) == own | APPROVED


@pytest.mark.parametrize("role", ["org_admin", "org_member"])
def test_partner_a_never_sees_partner_b_unapproved_values(setup, values, role):  # noqa: F811
    seen = visible(setup.access(role), values)
    for status in ("draft", "submitted", "returned"):
        assert ("second", status) not in seen


@pytest.mark.parametrize("role", ["funder", "viewer"])
def test_funders_and_viewers_see_approved_values_only(setup, values, role):  # noqa: F811
    assert visible(setup.access(role), values) == APPROVED


def test_the_public_sees_approved_population_values_only(setup, values):  # noqa: F811
    network = setup.world.network
    network.is_public = True
    network.save()
    public = Access(user=None, network=network, role="public")
    assert visible(public, values) == {("population", "approved")}


def test_an_outsider_has_no_access_at_all(setup, values):  # noqa: F811
    assert access_for(setup.world.outsider, setup.world.network) is None
    other = access_for(setup.world.outsider, setup.world.other_network)
    assert not other.scope(DataValue).exists()


def test_history_is_visible_exactly_where_the_value_is(setup, values):  # noqa: F811
    member = setup.access("org_member")
    histories = set(member.scope(DataValueVersion).values_list("data_value", flat=True))
    assert values[("second", "submitted")].pk not in histories
    assert values[("second", "approved")].pk in histories
    assert values[("own", "submitted")].pk in histories


def test_the_export_leaves_out_other_partners_unapproved_values(setup, values):  # noqa: F811
    second = setup.world.second_organization.slug
    member_file = data_export(access=setup.access("org_member")).decode()
    lines = [line for line in member_file.splitlines() if f",{second}," in line]
    assert [line.split(",")[1] for line in lines] == ["2026-Q1"]  # the approved one only
    admin_file = data_export(access=setup.access("network_admin")).decode()
    assert len([line for line in admin_file.splitlines() if f",{second}," in line]) == 4


def test_pages_never_show_partner_b_submissions_to_partner_a(
    setup,  # noqa: F811
    values,
    client_for,
):
    slug = setup.world.network.slug
    theirs = Submission.objects.get(assignment=setup.second_assignment, period="2026-Q2")
    member = client_for("org_member")
    for name in ("submission-detail", "submission-edit"):
        response = member.get(reverse(f"measurement:{name}", args=[slug, theirs.pk]))
        assert response.status_code == 404, name
    for name in ("submission-detail", "submission-edit", "submission-review"):
        assert (
            member.post(reverse(f"measurement:{name}", args=[slug, theirs.pk])).status_code == 404
        )
    listing = member.get(reverse("measurement:submission-list", args=[slug])).content.decode()
    assert setup.world.second_organization.name not in listing
    assert f"/submissions/{theirs.pk}/" not in listing
    report = member.get(reverse("measurement:completeness-report", args=[slug])).content.decode()
    assert setup.world.second_organization.name not in report
    assert member.get(reverse("measurement:review-list", args=[slug])).status_code == 403
    # Funders and viewers have no reporting pages at all.
    for role in ("funder", "viewer"):
        url = reverse("measurement:submission-list", args=[slug])
        assert client_for(role).get(url).status_code == 403, role


def test_an_own_submission_page_shows_its_values_and_history(setup, values, client_for):  # noqa: F811
    slug = setup.world.network.slug
    ours = Submission.objects.get(assignment=setup.assignment, period="2026-Q1")
    page = client_for("org_member").get(
        reverse("measurement:submission-detail", args=[slug, ours.pk])
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "served" in text and "Approved" in text and "v3" in text


def test_good_entries_helper_matches_the_grid(setup):  # noqa: F811
    keys = {
        row.key
        for row in submissions.grid_rows(
            access=setup.access("org_member"), submission=setup.submission()
        )
    }
    assert set(good_entries(setup)) <= keys
