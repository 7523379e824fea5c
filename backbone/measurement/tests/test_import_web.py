# ruff: noqa: F811 - `framework` is a fixture imported from test_data_file
"""Web upload with a background check, progress, preview, report and commit; the bulk
write path behind every door; templates per reporting assignment."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.measurement import import_jobs, periods
from backbone.measurement.data_file import data_import
from backbone.measurement.models import (
    DataValue,
    DataValueVersion,
    Dimension,
    ImportJob,
    Indicator,
    PerformanceMeasure,
    ReportingAssignment,
    Submission,
)
from backbone.measurement.tests.test_data_file import (  # noqa: F401 - the fixture
    HEADER,
    admin,
    framework,
    good_file,
)

pytestmark = pytest.mark.django_db


def upload(client, world, data: bytes, name="values.csv"):
    url = reverse("measurement:import-job-create", args=[world.network.slug])
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def written(world) -> tuple[int, int, int]:
    return (
        DataValue.objects.filter(network=world.network).count(),
        DataValueVersion.objects.filter(network=world.network).count(),
        AuditEvent.objects.filter(network=world.network).count(),
    )


def test_upload_is_checked_then_committed_all_at_once(framework, client_for):
    client = client_for("network_admin")
    before = written(framework)

    response = upload(client, framework, good_file(framework))

    job = ImportJob.objects.get(network=framework.network)
    assert response.status_code == 302 and response.url.endswith(f"/data/import/{job.pk}/")
    assert job.status == ImportJob.Status.CHECKED
    assert job.report["created"] == 11 and job.report["errors"] == []
    assert job.total_rows == job.processed_rows == 11
    assert written(framework) == before  # the check writes nothing
    page = client.get(response.url).content.decode()
    assert "Would create" in page and "Commit: write all 11 values" in page

    commit = reverse("measurement:import-job-commit", args=[framework.network.slug, job.pk])
    client.post(commit)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and bytes(job.content) == b""
    values, versions, audits = written(framework)
    assert (values, versions) == (11, 11)
    # One audit record for the whole import, pointing at the job.
    assert audits == before[2] + 1
    event = AuditEvent.objects.get(network=framework.network, object_type="measurement.importjob")
    assert event.object_id == str(job.pk) and event.after["created"] == 11


def test_uploading_the_same_file_again_changes_nothing(framework, client_for):
    client = client_for("network_admin")
    upload(client, framework, good_file(framework))
    job = ImportJob.objects.get()
    client.post(reverse("measurement:import-job-commit", args=[framework.network.slug, job.pk]))
    before = written(framework)

    upload(client, framework, good_file(framework))

    again = ImportJob.objects.exclude(pk=job.pk).get()
    assert again.status == ImportJob.Status.CHECKED
    assert again.report["unchanged"] == 11 and again.report["created"] == 0
    page = client.get(
        reverse("measurement:import-job-detail", args=[framework.network.slug, again.pk])
    ).content.decode()
    assert "would change nothing" in page and "Commit" not in page
    assert written(framework) == before


def test_a_bad_upload_reports_row_column_rule_and_writes_nothing(framework, client_for):
    client = client_for("network_admin")
    before = written(framework)
    data = (HEADER + "enrolled,2024,,,,,-3,,,\nreading,2024,,,,,,60,50,\n").encode()

    upload(client, framework, data)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID
    assert [(e["row"], e["column"], e["rule"]) for e in job.report["errors"]] == [
        (2, "value", "range"),
        (3, "numerator", "ratio"),
    ]
    page = client.get(
        reverse("measurement:import-job-detail", args=[framework.network.slug, job.pk])
    ).content.decode()
    assert "2 problems. Nothing was written." in page and "whole number" in page
    commit = reverse("measurement:import-job-commit", args=[framework.network.slug, job.pk])
    client.post(commit)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert written(framework) == before


def test_a_running_job_polls_with_a_progress_bar(framework, client_for):
    access = admin(framework)
    job = ImportJob.objects.create(
        network=framework.network,
        created_by=access.user,
        filename="big.csv",
        content=b"",
        sha256="x",
        status=ImportJob.Status.CHECKING,
        total_rows=200,
        processed_rows=50,
    )
    url = reverse("measurement:import-job-detail", args=[framework.network.slug, job.pk])

    partial = client_for("network_admin").get(url, HTTP_HX_REQUEST="true").content.decode()

    assert 'hx-trigger="every 1s"' in partial and 'value="25"' in partial
    assert "50 of 200 rows" in partial and "<h1>" not in partial


def test_progress_is_reported_while_checking(framework):
    calls = []
    rows = "".join(f"enrolled,{2000 + n // 12}-{n % 12 + 1:02d},,,,,{n},,,\n" for n in range(12000))

    result = data_import(
        access=admin(framework),
        data=(HEADER + rows).encode(),
        filename="d.csv",
        commit=False,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert result.ok
    assert calls[0] == (5000, 12000) and calls[-1] == (12000, 12000)


def test_outsiders_get_404_and_roles_without_data_rights_403(framework, client_for):
    url = reverse("measurement:import-job-create", args=[framework.network.slug])
    assert client_for("outsider").get(url).status_code == 404
    assert client_for("viewer").get(url).status_code == 403
    assert client_for("funder").post(url).status_code == 403
    assert client_for("org_member").get(url).status_code == 200


def test_a_job_is_seen_by_its_sender_and_network_admins_only(framework, client_for):
    upload(client_for("network_admin"), framework, good_file(framework))
    job = ImportJob.objects.get()
    url = reverse("measurement:import-job-detail", args=[framework.network.slug, job.pk])

    assert client_for("network_admin").get(url).status_code == 200
    assert client_for("org_member").get(url).status_code == 404
    assert client_for("outsider").get(url).status_code == 404


def test_an_org_member_uploads_their_own_organization_only(framework, client_for):
    org = framework.organization.slug
    other = framework.second_organization.slug
    data = (
        HEADER + f"enrolled,2024-Q2,{org},,,,40,,,\nenrolled,2024-Q2,{other},,,,9,,,\n"
    ).encode()

    upload(client_for("org_member"), framework, data)

    job = ImportJob.objects.get()
    assert [(e["row"], e["column"], e["rule"]) for e in job.report["errors"]] == [
        (3, "organization", "permission")
    ]
    assert not DataValue.objects.exists()


def measure(world, code="tutoring-hours", **extra):
    return PerformanceMeasure.objects.create(
        network=world.network,
        code=code,
        name="Tutoring hours",
        category="how_much",
        unit="count",
        polarity="higher_is_better",
        **extra,
    )


def test_measure_codes_go_in_the_indicator_column(framework):
    measure(framework, organization=framework.organization)
    org = framework.organization.slug
    data = (HEADER + f"tutoring-hours,2024-Q2,{org},,,,120,,,\n").encode()

    result = data_import(access=admin(framework), data=data, filename="m.csv", commit=True)

    assert result.committed, [str(e) for e in result.errors]
    value = DataValue.objects.get()
    assert value.measure.code == "tutoring-hours" and value.indicator is None
    assert value.value == Decimal(120) and value.versions.count() == 1
    other = framework.second_organization.slug
    refused = data_import(
        access=admin(framework),
        data=(HEADER + f"tutoring-hours,2024-Q2,{other},,,,5,,,\n").encode(),
        filename="m.csv",
        commit=True,
    )
    assert [(e.row, e.column) for e in refused.errors] == [(2, "organization")]


def test_a_measure_code_equal_to_an_indicator_code_is_refused(framework):
    measure(framework, code="enrolled")

    result = data_import(
        access=admin(framework),
        data=(HEADER + "enrolled,2024,,,,,5,,,\n").encode(),
        filename="m.csv",
        commit=True,
    )

    assert [(e.row, e.column) for e in result.errors] == [(2, "indicator")]
    assert "Both an indicator and a performance measure" in result.errors[0].message
    assert not DataValue.objects.exists()


def assignment(world, **extra):
    enrolled = Indicator.objects.get(code="enrolled")
    item = ReportingAssignment.objects.create(
        network=world.network,
        organization=world.organization,
        frequency="quarter",
        first_period="2024-Q1",
        last_period="2024-Q3",
        **extra,
    )
    item.indicators.set([enrolled])
    return item


def test_a_submission_links_the_values_written(framework):
    task = assignment(framework)
    submission = Submission.objects.create(
        network=framework.network,
        assignment=task,
        organization=framework.organization,
        period="2024-Q2",
        period_start="2024-04-01",
        period_end="2024-06-30",
        due_date="2024-07-31",
    )
    org = framework.organization.slug
    data = (HEADER + f"enrolled,2024-Q2,{org},,,,40,,,\n").encode()

    result = data_import(
        access=admin(framework), data=data, filename="s.csv", commit=True, submission=submission
    )

    assert result.committed and DataValue.objects.get().submission == submission


def test_the_freshness_hook_hears_of_every_value_written(
    framework, monkeypatch, django_capture_on_commit_callbacks
):
    heard = []
    monkeypatch.setattr(
        "backbone.insights.refresh.data_values_changed",
        lambda *, network_id, value_ids: heard.append((network_id, sorted(value_ids))),
    )

    with django_capture_on_commit_callbacks(execute=True):
        data_import(
            access=admin(framework), data=good_file(framework), filename="d.csv", commit=True
        )

    ids = sorted(DataValue.objects.values_list("pk", flat=True))
    assert heard == [(framework.network.pk, ids)]


def test_templates_have_one_key_row_per_expected_value(framework, client_for):
    task = assignment(framework)
    task.areas.set(list(framework.network.areas.filter(code__in=["z1", "z2"])))
    slug = framework.network.slug
    client = client_for("org_admin")

    response = client.get(reverse("measurement:assignment-template-csv", args=[slug, task.pk]))

    assert response.status_code == 200
    assert "2024-Q3.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[0]
    assert header[:4] == ["indicator", "period", "organization", "area"]
    assert "race-ethnicity" in header and header[-4:] == [
        "value",
        "numerator",
        "denominator",
        "comment",
    ]
    # enrolled by race (total + 3 categories) × 2 areas; geography takes its areas.
    assert len(rows) - 1 == 8
    race = header.index("race-ethnicity")
    assert sorted({r[race] for r in rows[1:]}) == ["", "asian", "black", "white"]
    assert {(r[1], r[2]) for r in rows[1:]} == {("2024-Q3", framework.organization.slug)}
    xlsx = client.get(reverse("measurement:assignment-template-xlsx", args=[slug, task.pk]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 9 and sheet["A2"].value == "enrolled"
    # Filled in, the template imports.
    for row in rows[1:]:
        row[header.index("value")] = "10" if row[race] else "30"
    filled = io.StringIO(newline="")
    csv.writer(filled, lineterminator="\n").writerows(rows)
    result = data_import(
        access=access_for(framework.users["org_admin"], framework.network),
        data=filled.getvalue().encode(),
        filename="t.csv",
        commit=True,
    )
    assert result.committed and result.created == 8


def test_another_networks_assignment_template_is_404(framework, client_for):
    task = assignment(framework)
    url = reverse("measurement:assignment-template-csv", args=[framework.network.slug, task.pk])
    assert client_for("outsider").get(url).status_code == 404
    other = reverse(
        "measurement:assignment-template-csv", args=[framework.other_network.slug, task.pk]
    )
    assert client_for("network_admin").get(other).status_code == 404
    assert client_for("viewer").get(url).status_code in (403, 404)


def test_import_job_service_queues_and_checks(framework):
    job, created = import_jobs.import_job_create(
        access=admin(framework), data=good_file(framework), filename="v.csv", via="web"
    )

    job.refresh_from_db()
    assert created and job.status == ImportJob.Status.CHECKED
    assert Dimension.objects.filter(network=framework.network).count() == 2


def test_the_template_is_for_the_period_owed_now(framework, client_for):
    """Not a period already approved: the latest submission still open, whether a draft
    of a period under way or one never started of a period that has ended."""
    task = assignment(framework)
    task.last_period = "2025-Q4"
    task.save()
    url = reverse("measurement:assignment-template-csv", args=[framework.network.slug, task.pk])
    client = client_for("org_admin")

    def submission(period: str, status: str) -> Submission:
        parsed = periods.parse(period)
        return Submission.objects.create(
            network=framework.network,
            assignment=task,
            organization=framework.organization,
            period=period,
            period_start=parsed.start(7),
            period_end=parsed.end(7),
            due_date=parsed.end(7),
            status=status,
        )

    def template_period() -> str:
        rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
        periods_in_file = {row[1] for row in rows[1:]}
        assert len(periods_in_file) == 1
        return periods_in_file.pop()

    for period in ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"):
        submission(period, Submission.Status.APPROVED)
    # Everything owed so far approved: the latest period that has ended.
    assert template_period() == "2025-Q4"
    assert "2025-Q4.csv" in client.get(url)["Content-Disposition"]
    missed = submission("2025-Q2", Submission.Status.NOT_STARTED)
    assert template_period() == "2025-Q2"
    current = submission("2025-Q3", Submission.Status.DRAFT)
    assert template_period() == "2025-Q3", "the gap before it does not hide it"
    current.status = Submission.Status.SUBMITTED
    current.save()
    assert template_period() == "2025-Q2"
    missed.status = Submission.Status.RETURNED
    missed.save()
    assert template_period() == "2025-Q2"
