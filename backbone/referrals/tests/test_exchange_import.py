"""Importing people, consents and referrals from a CSV: all or nothing, idempotent."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from backbone.core.access import Access
from backbone.core.models import AuditEvent
from backbone.referrals import exchange
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Person,
    Referral,
    ReferralEvent,
)
from backbone.referrals.tests.test_exchange import exchange_world, org_admin_access
from backbone.testing import factories as f

TODAY = datetime.date.today()
DAY = datetime.timedelta(days=1)
MODELS = (Person, Consent, Referral, ReferralEvent, CareRelationship)


def admin_access(world) -> Access:
    return Access(user=world.users["network_admin"], network=world.network, role="network_admin")


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def row(world, service, /, **values) -> dict:
    base = {
        "organization": world.organization.slug,
        "person_ref": "C-1",
        "given_name": "Ana",
        "family_name": "Torres",
        "birth_date": "2008-03-14",
        "phone": "555-0142",
        "email": "ana@example.org",
        "area": "RL-001-C01",
        "gender": "female",
        "income-band": "100-199-fpl",
        "consent_recipients": "named",
        "consent_recipient_organizations": world.second_organization.slug,
        "consent_information": "identity; referrals; outcomes",
        "consent_purpose": "referral",
        "consent_expires_on": (TODAY + 200 * DAY).isoformat(),
        "consent_signature": "paper",
        "consent_signed_by": "Ana Torres",
        "consent_signed_on": (TODAY - 60 * DAY).isoformat(),
        "service": str(service.hsds_id),
        "status": "accepted",
        "sent_on": (TODAY - 30 * DAY).isoformat(),
        "responded_on": (TODAY - 28 * DAY).isoformat(),
        "reason": "FAFSA help for a senior",
    }
    base.update(values)
    return base


def to_csv(rows: list[dict]) -> bytes:
    columns = list(dict.fromkeys(c for r in rows for c in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def happy_rows(world, service) -> list[dict]:
    return [
        row(world, service),
        # The same person, a second referral (completed) under the same consent.
        row(
            world,
            service,
            status="completed",
            outcome="goal_met",
            sent_on=(TODAY - 50 * DAY).isoformat(),
            responded_on=(TODAY - 49 * DAY).isoformat(),
            started_on=(TODAY - 45 * DAY).isoformat(),
            closed_on=(TODAY - 20 * DAY).isoformat(),
        ),
        # Another person, declined; consent for treating participants.
        row(
            world,
            service,
            person_ref="C-2",
            given_name="Ben",
            family_name="Okafor",
            birth_date="2007-11-02",
            email="",
            consent_recipients="treating",
            consent_recipient_organizations="",
            consent_signed_by="Ben Okafor",
            status="declined",
            decline_reason="not_eligible",
            responded_on=(TODAY - 29 * DAY).isoformat(),
        ),
        # A person only, no consent, no referral.
        row(
            world,
            service,
            person_ref="C-3",
            given_name="Cleo",
            family_name="Park",
            birth_date="2010-01-20",
            email="",
            **dict.fromkeys(
                [
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
                    "reason",
                ],
                "",
            ),
        ),
    ]


@pytest.fixture
def setup(world):
    return exchange_world(world, people=0)


def run(world, rows, *, commit=True, access=None):
    return exchange.referrals_import(
        access=access or admin_access(world), data=to_csv(rows), filename="f.csv", commit=commit
    )


@pytest.mark.django_db
def test_happy_path_creates_people_consents_referrals_encrypted(world, setup):
    result = run(world, happy_rows(world, setup["service"]))
    assert result.ok, result.errors
    assert result.committed
    assert Person.objects.count() == 3
    assert Consent.objects.count() == 2
    assert Referral.objects.count() == 3
    ana = Person.objects.get(given_name__isnull=False, birth_year=2008)
    assert ana.given_name == "Ana" and ana.family_name == "Torres"
    assert ana.demographics == {"gender": "female", "income-band": "100-199-fpl"}
    assert ana.area.code == "RL-001-C01"
    completed = Referral.objects.get(status="completed")
    assert completed.outcome == "goal_met"
    assert list(completed.events.values_list("to_status", flat=True)) == [
        "sent",
        "accepted",
        "in_service",
        "completed",
    ]
    declined = Referral.objects.get(status="declined")
    assert declined.consent.recipients == "treating"
    assert [e.to_status for e in declined.events.all()] == ["sent", "declined"]
    # The receiver serves the people whose referral it accepted.
    assert CareRelationship.objects.filter(
        person=ana, organization=world.second_organization
    ).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT given_name, family_name, birth_date, phone FROM referrals_person")
        stored = cursor.fetchall()
    assert all(value.startswith("enc1:") for line in stored for value in line if value)
    assert not any("Ana" in value or "Torres" in value for line in stored for value in line)
    audit = AuditEvent.objects.get(object_id="referrals-import")
    assert audit.after == {"file": "f.csv", "people": 3, "consents": 2, "referrals": 3}
    assert "Ana" not in str(audit.after)


@pytest.mark.django_db
def test_reimport_is_idempotent(world, setup):
    rows = happy_rows(world, setup["service"])
    assert run(world, rows).committed
    before = counts()
    again = run(world, rows, commit=False)
    assert again.ok, again.errors
    assert again.created == 0 and again.unchanged == 4
    assert run(world, rows).committed
    assert counts() == before


@pytest.mark.django_db
def test_reimport_adds_only_new_rows(world, setup):
    rows = happy_rows(world, setup["service"])
    run(world, rows)
    extra = row(
        world,
        setup["service"],
        status="sent",
        sent_on=(TODAY - 3 * DAY).isoformat(),
        responded_on="",
    )
    result = run(world, [*rows, extra])
    assert result.committed and result.created == 1
    assert Person.objects.count() == 3 and Referral.objects.count() == 4
    assert Consent.objects.count() == 2


@pytest.mark.django_db
def test_dry_run_writes_nothing(world, setup):
    result = run(world, happy_rows(world, setup["service"]), commit=False)
    assert result.ok and result.created == 4 and not result.committed
    assert Person.objects.count() == 0


def _bad_cases(world, service):
    """(rows, row number, column, words of the message)."""
    other_service = service.hsds_id.hex[::-1]
    return [
        ([row(world, service, organization="nobody-here")], 2, "organization", "no active partner"),
        (
            [row(world, service, service="00000000-0000-0000-0000-000000000000")],
            2,
            "service",
            "no service",
        ),
        ([row(world, service, service=other_service)], 2, "service", "no service"),
        ([row(world, service, birth_date="14/03/2008")], 2, "birth_date", "yyyy-mm-dd"),
        ([row(world, service, sent_on="2026-02-30")], 2, "sent_on", "yyyy-mm-dd"),
        ([row(world, service, consent_signed_by="")], 2, "consent_signed_by", "consent needs"),
        ([row(world, service, status="lost")], 2, "status", "unknown status"),
        ([row(world, service, status="declined")], 2, "decline_reason", "needs a reason"),
        (
            [row(world, service, status="completed", started_on=TODAY.isoformat())],
            2,
            "outcome",
            "needs an outcome",
        ),
        ([row(world, service), row(world, service)], 3, "sent_on", "twice"),
        (
            [row(world, service), row(world, service, person_ref="C-9")],
            3,
            "person_ref",
            "same name and date of birth",
        ),
        (
            [
                row(world, service),
                row(
                    world,
                    service,
                    sent_on=(TODAY - 5 * DAY).isoformat(),
                    responded_on=(TODAY - 4 * DAY).isoformat(),
                    birth_date="2008-03-15",
                ),
            ],
            3,
            "person_ref",
            "must agree",
        ),
        (
            [row(world, service, consent_recipient_organizations=world.prospect.slug)],
            2,
            "consent_recipient_organizations",
            "no active partner",
        ),
        (
            [row(world, service, consent_recipient_organizations=world.organization.slug)],
            2,
            "consent_recipient_organizations",
            "does not name the organization",
        ),
        (
            [row(world, service, consent_information="identity")],
            2,
            "consent_information",
            "referrals",
        ),
        (
            [row(world, service, consent_expires_on=(TODAY - 40 * DAY).isoformat())],
            2,
            "consent_expires_on",
            "expired before",
        ),
        (
            [row(world, service, consent_expires_on="", consent_expiry_event="")],
            2,
            "consent_expires_on",
            "expiry date or an expiry event",
        ),
        ([row(world, service, sent_on=(TODAY + 5 * DAY).isoformat())], 2, "sent_on", "future"),
        (
            [row(world, service, responded_on=(TODAY - 35 * DAY).isoformat())],
            2,
            "responded_on",
            "before sent_on",
        ),
        ([row(world, service, gender="robot")], 2, "gender", "not a category"),
        ([row(world, service, area="ZZ-9")], 2, "area", "no area"),
        ([row(world, service, email="not-an-email")], 2, "email", "not an email"),
        (
            [
                row(
                    world,
                    service,
                    **dict.fromkeys(
                        [c for c in exchange.IMPORT_COLUMNS if c.startswith("consent_")], ""
                    ),
                )
            ],
            2,
            "service",
            "no active consent",
        ),
    ]


@pytest.mark.django_db
def test_bad_files_name_row_and_column_and_write_nothing(world, setup):
    cases = _bad_cases(world, setup["service"])
    assert len(cases) >= 10
    before = counts()
    for rows, number, column, words in cases:
        result = run(world, rows)
        assert not result.committed, (column, words)
        assert any(
            e.row == number and e.column == column and words in e.message.lower()
            for e in result.errors
        ), (column, words, [str(e) for e in result.errors])
        assert counts() == before
    assert not AuditEvent.objects.filter(object_id="referrals-import").exists()


@pytest.mark.django_db
def test_one_bad_row_stops_the_whole_file(world, setup):
    rows = happy_rows(world, setup["service"])
    rows.append(row(world, setup["service"], person_ref="C-4", given_name="Dee", status="bogus"))
    result = run(world, rows)
    assert not result.committed
    assert [(e.row, e.column) for e in result.errors] == [(6, "status")]
    assert counts() == {name: 0 for name in counts()}


@pytest.mark.django_db
def test_unknown_column_and_missing_required_column(world, setup):
    rows = [row(world, setup["service"], favourite_colour="blue")]
    result = run(world, rows)
    assert result.errors[0].row == 1 and "favourite_colour" in result.errors[0].message
    data = b"organization,person_ref\r\nx,1\r\n"
    result = exchange.referrals_import(
        access=admin_access(world), data=data, filename="f.csv", commit=True
    )
    assert "given_name" in result.errors[0].message


@pytest.mark.django_db
def test_recorded_referral_is_not_changed_by_import(world, setup):
    rows = happy_rows(world, setup["service"])
    run(world, rows)
    rows[0]["status"] = "declined"
    rows[0]["decline_reason"] = "no_capacity"
    result = run(world, rows)
    assert not result.committed
    assert (result.errors[0].row, result.errors[0].column) == (2, "status")
    assert "already recorded" in result.errors[0].message
    assert Referral.objects.filter(status="declined").count() == 1


@pytest.mark.django_db
def test_existing_consent_covers_a_referral_row_without_consent_columns(world, setup):
    rows = happy_rows(world, setup["service"])
    run(world, rows)
    blank = dict.fromkeys([c for c in exchange.IMPORT_COLUMNS if c.startswith("consent_")], "")
    later = row(
        world,
        setup["service"],
        status="sent",
        sent_on=(TODAY - 2 * DAY).isoformat(),
        responded_on="",
        **blank,
    )
    result = run(world, [later])
    assert result.committed, result.errors
    referral = Referral.objects.order_by("-pk").first()
    assert referral.consent.recipients == "named"


@pytest.mark.django_db
def test_revoked_consent_does_not_cover_an_open_referral(world, setup):
    rows = happy_rows(world, setup["service"])
    run(world, rows)
    Consent.objects.update(revoked_at=timezone.now() - datetime.timedelta(days=5))
    blank = dict.fromkeys([c for c in exchange.IMPORT_COLUMNS if c.startswith("consent_")], "")
    later = row(
        world,
        setup["service"],
        status="sent",
        sent_on=(TODAY - 2 * DAY).isoformat(),
        responded_on="",
        **blank,
    )
    result = run(world, [later])
    assert not result.committed
    assert (
        result.errors[0].column == "service"
        and "no active consent" in result.errors[0].message.lower()
    )


@pytest.mark.django_db
def test_org_admin_imports_only_for_own_organization(world, setup):
    access = org_admin_access(world)
    rows = [row(world, setup["service"])]
    assert run(world, rows, access=access).committed
    third = f.MembershipFactory(network=world.network).organization
    other = [row(world, setup["service"], organization=third.slug, person_ref="X")]
    result = run(world, other, access=access)
    assert result.errors[0].column == "organization"
    assert "own organization" in result.errors[0].message


@pytest.mark.django_db
def test_import_page_preview_then_commit(world, setup, client_for):
    client = client_for("org_admin")
    url = reverse("referrals:import", args=[world.network.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert b"person_ref" in page.content
    upload = io.BytesIO(to_csv(happy_rows(world, setup["service"])))
    upload.name = "clients.csv"
    preview = client.post(url, {"file": upload})
    assert preview.status_code == 200
    assert b"Confirm import" in preview.content
    assert Person.objects.count() == 0
    token = preview.context["token"]
    done = client.post(url, {"token": token})
    assert done.status_code == 302
    assert Person.objects.count() == 3 and Referral.objects.count() == 3


@pytest.mark.django_db
def test_import_page_reports_errors(world, setup, client_for):
    client = client_for("network_admin")
    url = reverse("referrals:import", args=[world.network.slug])
    upload = io.BytesIO(to_csv([row(world, setup["service"], status="lost")]))
    upload.name = "clients.csv"
    response = client.post(url, {"file": upload})
    assert response.status_code == 400
    assert b"Unknown status" in response.content
    assert Person.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("org_member", 403), ("viewer", 403), ("outsider", 404)]
)
def test_import_page_refused(world, setup, client_for, role, status):
    client = client_for(role)
    for name in ("referrals:import", "referrals:import-template"):
        assert client.get(reverse(name, args=[world.network.slug])).status_code == status
    upload = io.BytesIO(to_csv([row(world, setup["service"])]))
    upload.name = "clients.csv"
    response = client.post(reverse("referrals:import", args=[world.network.slug]), {"file": upload})
    assert response.status_code == status
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_template_lists_the_network_columns(world, setup, client_for):
    response = client_for("org_admin").get(
        reverse("referrals:import-template", args=[world.network.slug])
    )
    header = response.content.decode().splitlines()[0].split(",")
    assert "gender" in header and "income-band" in header and "person_ref" in header


@pytest.mark.django_db
def test_command_function_dry_run_and_commit(world, setup, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(to_csv(happy_rows(world, setup["service"])))
    dry = exchange.import_file(world.network, path, dry_run=True)
    assert dry.ok and not dry.committed and Person.objects.count() == 0
    done = exchange.import_file(world.network, path, dry_run=False)
    assert done.committed and Person.objects.count() == 3
