import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.measurement import periods, reporting, submissions
from backbone.measurement.models import ReportingAssignment, Submission
from backbone.measurement.tasks import send_reporting_reminders
from backbone.measurement.tests.reporting_setup import TODAY, setup  # noqa: F401

pytestmark = pytest.mark.django_db


def codes(assignment, until, fiscal=7):
    found = reporting.expected_periods(assignment, until=until, fiscal_year_start=fiscal)
    return [p.code for p in found]


@pytest.mark.parametrize(
    ("frequency", "first", "last", "until", "expected"),
    [
        ("month", "2025-11", "", datetime.date(2026, 2, 27), ["2025-11", "2025-12", "2026-01"]),
        ("quarter", "2025-Q4", "", datetime.date(2026, 6, 30), ["2025-Q4", "2026-Q1", "2026-Q2"]),
        ("quarter", "2025-Q4", "2026-Q1", datetime.date(2026, 12, 31), ["2025-Q4", "2026-Q1"]),
        ("school_year", "SY2023-24", "", datetime.date(2025, 7, 1), ["SY2023-24", "SY2024-25"]),
        ("calendar_year", "2024", "", datetime.date(2025, 12, 30), ["2024"]),
        ("fiscal_year", "FY2025", "", datetime.date(2026, 6, 30), ["FY2025", "FY2026"]),
    ],
)
def test_expected_periods_are_the_ended_periods_of_the_frequency(
    frequency, first, last, until, expected
):
    assignment = ReportingAssignment(frequency=frequency, first_period=first, last_period=last)
    assert codes(assignment, until) == expected


def test_fiscal_years_follow_the_network_start_month():
    assignment = ReportingAssignment(frequency="fiscal_year", first_period="FY2025", due_days=10)
    # With a January start FY2025 is calendar 2025 and has not ended by mid-2025.
    assert codes(assignment, datetime.date(2025, 7, 15), fiscal=1) == []
    assert codes(assignment, datetime.date(2025, 7, 15), fiscal=7) == ["FY2025"]
    assert reporting.due_date(assignment, periods.parse("FY2025"), 7) == datetime.date(2025, 7, 10)
    assert reporting.due_date(assignment, periods.parse("FY2025"), 1) == datetime.date(2026, 1, 10)


def test_sync_makes_one_not_started_submission_per_ended_period(setup):  # noqa: F811
    rows = Submission.objects.filter(network=setup.world.network)
    assert sorted((s.organization_id, s.period) for s in rows) == sorted(
        (o.pk, p)
        for o in (setup.world.organization, setup.world.second_organization)
        for p in ("2026-Q1", "2026-Q2")
    )
    first = setup.submission("2026-Q1")
    assert first.status == Submission.Status.NOT_STARTED
    assert (first.period_start, first.period_end) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 3, 31),
    )
    assert first.due_date == datetime.date(2026, 4, 30)
    assert reporting.submissions_sync(setup.world.network, TODAY) == 0


def test_sync_waits_for_the_period_to_end(world):
    assignment = ReportingAssignment.objects.create(
        network=world.network,
        organization=world.organization,
        frequency="quarter",
        first_period="2026-Q3",
    )
    # Q3 2026 ends on September 30: not expected on the 29th, expected on the 30th.
    assert reporting.submissions_sync(world.network, datetime.date(2026, 9, 29)) == 0
    assert reporting.submissions_sync(world.network, datetime.date(2026, 9, 30)) == 1
    assert Submission.objects.get(assignment=assignment).period == "2026-Q3"


def test_completeness_counts_on_time_late_and_missing(setup):  # noqa: F811
    own, second = setup.world.organization, setup.world.second_organization
    Submission.objects.filter(organization=own, period="2026-Q1").update(
        status="approved", submitted_at=timezone.make_aware(datetime.datetime(2026, 4, 20))
    )
    Submission.objects.filter(organization=second, period="2026-Q1").update(
        status="submitted", submitted_at=timezone.make_aware(datetime.datetime(2026, 5, 3))
    )
    Submission.objects.filter(organization=own, period="2026-Q2").update(status="draft")
    report = reporting.completeness(setup.access("network_admin"), today=TODAY)

    assert report.periods == ["2026-Q1", "2026-Q2"]
    q1_own = report.cells[(own.pk, "2026-Q1")]
    assert (q1_own.expected, q1_own.on_time, q1_own.rate) == (1, 1, 100)
    assert report.cells[(second.pk, "2026-Q1")].late == 1
    assert report.by_period["2026-Q1"].rate == 50
    assert report.by_period["2026-Q2"].missing == 2  # due July 30, not sent by Aug 15
    assert report.by_organization[own.pk].rate == 50
    assert (report.total.expected, report.total.on_time, str(report.total.rate)) == (4, 1, "25.0")
    assert [(s.organization, s.period) for s in report.late] == [(second, "2026-Q1")]
    assert {(s.organization, s.period) for s in report.missing} == {
        (own, "2026-Q2"),
        (second, "2026-Q2"),
    }
    # Before the due date nothing counts against anyone.
    early = reporting.completeness(setup.access("network_admin"), today=datetime.date(2026, 7, 5))
    assert early.by_period["2026-Q2"].expected == 0 and early.by_period["2026-Q2"].pending == 2


def test_an_organization_sees_only_its_own_completeness(setup):  # noqa: F811
    report = reporting.completeness(setup.access("org_member"), today=TODAY)
    assert report.organizations == [setup.world.organization]
    assert reporting.completeness(setup.access("funder"), today=TODAY).organizations == []


def test_assignment_with_a_period_of_the_wrong_kind_is_refused(setup):  # noqa: F811
    count = ReportingAssignment.objects.count()
    with pytest.raises(ValidationError) as error:
        submissions.assignment_create(
            access=setup.access("network_admin"),
            fields={
                "organization": setup.world.organization,
                "indicators": [setup.served],
                "frequency": "quarter",
                "first_period": "2026-05",
                "last_period": "2025-Q1",
            },
        )
    assert "2026-05 is a month; this assignment reports by quarter" in str(error.value)
    assert ReportingAssignment.objects.count() == count


def test_only_network_admins_create_assignments(setup):  # noqa: F811
    count = ReportingAssignment.objects.count()
    with pytest.raises(PermissionDenied):
        submissions.assignment_create(
            access=setup.access("org_admin"),
            fields={
                "organization": setup.world.organization,
                "frequency": "quarter",
                "first_period": "2026-Q1",
            },
        )
    assert ReportingAssignment.objects.count() == count


def test_changing_due_days_moves_open_due_dates_and_is_audited(setup):  # noqa: F811
    submissions.assignment_update(
        access=setup.access("network_admin"),
        assignment=setup.assignment,
        fields={"due_days": 45},
    )
    assert setup.submission("2026-Q1").due_date == datetime.date(2026, 5, 15)
    assert AuditEvent.objects.filter(
        object_type="measurement.reportingassignment", action="update"
    ).exists()


def test_reminders_email_the_organization_once(setup, mailoutbox):  # noqa: F811
    # Q2 is due July 30; 7 reminder days: from July 23.
    assert send_reporting_reminders.call(setup.world.network.pk, "2026-07-22") == 0
    # Only the first partner has people to email.
    assert send_reporting_reminders.call(setup.world.network.pk, "2026-07-25") == 1
    own = [m for m in mailoutbox if "org-admin@river.example" in m.to]
    assert len(own) == 1 and set(own[0].to) == {
        "org-admin@river.example",
        "org-member@river.example",
    }
    assert "2026-Q2" in own[0].subject and "July 30, 2026" in own[0].subject
    assert f"/data/submissions/{setup.submission('2026-Q2').pk}/edit/" in own[0].body
    assert setup.submission("2026-Q2").reminded_at is not None
    assert send_reporting_reminders.call(setup.world.network.pk, "2026-07-26") == 0
    assert len(mailoutbox) == 1


def test_reminders_skip_submitted_data(setup, mailoutbox):  # noqa: F811
    Submission.objects.filter(period="2026-Q2").update(status="submitted")
    assert send_reporting_reminders.call(setup.world.network.pk, "2026-07-25") == 0
    assert mailoutbox == []


def test_the_remind_command_queues_the_task(setup, mailoutbox):  # noqa: F811
    call_command("reporting", "remind", "--network", "river-city", "--today", "2026-07-25")
    assert len(mailoutbox) == 1
    with pytest.raises(CommandError, match="No network has the slug 'nowhere'"):
        call_command("reporting", "remind", "--network", "nowhere")
    with pytest.raises(CommandError, match="not a date"):
        call_command("reporting", "remind", "--network", "river-city", "--today", "July")


def test_the_remind_command_does_not_touch_another_network(setup, mailoutbox):  # noqa: F811
    call_command("reporting", "remind", "--network", "lake-county", "--today", "2026-07-25")
    assert mailoutbox == []
    assert not Submission.objects.filter(reminded_at__isnull=False).exists()
    assert access_for(setup.world.outsider, setup.world.network) is None
