"""Closing the loop in the browser: organization A refers a consenting person to a
service of organization B; B's admin accepts, starts and completes the referral."""

import datetime

import pytest
from django.utils import timezone

from backbone.core.access import access_for
from backbone.core.models import Membership, NetworkRole
from backbone.demo import seed
from backbone.referrals import consents, people
from backbone.referrals.models import Notification, Referral
from backbone.referrals.tests.workflow_world import listing
from backbone.testing import factories as f
from backbone.tests_browser.support import NETWORK, assert_accessible, demo_email, follow, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def queued_tasks(settings):
    """Queue background tasks as the demo does (a worker runs them), instead of the test
    default that runs them inside the request: each referral change queues the
    measurement feed, which is a worker's job, not the page's."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _cast(demo):
    sender = NetworkRole.objects.get(user__email=demo_email("orgadmin"))
    receiver_org = (
        Membership.objects.filter(network=demo, status=Membership.Status.ACTIVE)
        .exclude(organization=sender.organization)
        .exclude(role=Membership.Role.BACKBONE)
        .order_by("organization__name")[0]
        .organization
    )
    receiver = f.UserFactory(email=demo_email("referrals-b"), password=seed.DEMO_PASSWORD)
    f.NetworkRoleFactory(user=receiver, network=demo, role="org_admin", organization=receiver_org)
    service = listing(demo, receiver_org, "Summer algebra tutoring")
    access = access_for(sender.user, demo)
    person = people.person_create(
        access=access,
        given_name="Imani",
        family_name="Okafor",
        birth_date=datetime.date(2008, 9, 2),
        email="imani@example.org",
    )
    consent = consents.consent_record(
        access=access,
        person=person,
        recipients="named",
        recipient_organizations=[receiver_org],
        information=["identity", "referrals", "outcomes", "notes"],
        purpose="referral",
        expires_on=timezone.localdate() + datetime.timedelta(days=365),
        signature="paper",
        signed_by="Imani Okafor",
    )
    return person, consent, service, receiver_org


def test_refer_accept_complete(browser, live_server, page, demo, tmp_path):
    """Screenshots go to tmp_path (pytest prints where with -v --basetemp)."""
    shots = tmp_path
    person, consent, service, receiver_org = _cast(demo)

    log_in(page, "orgadmin")
    page.goto(f"{NETWORK}/referrals/new/")
    page.select_option("#person-choice", str(person.pk))
    follow(page, page.get_by_role("button", name="Continue"))
    assert "Imani Okafor" in page.locator("main").inner_text()
    page.select_option("#id_service", str(service.pk))
    page.select_option("#id_consent", str(consent.pk))
    page.fill("#id_reason", "Wants to pass algebra before ninth grade.")
    follow(page, page.get_by_role("button", name="Send referral"))
    referral = Referral.objects.get(person=person)
    assert page.url.endswith(f"/referrals/{referral.pk}/")
    assert "Referral " in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)
    page.screenshot(path=str(shots / "detail-sender.png"), full_page=True)

    receiving = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    receiving.set_default_timeout(10_000)
    b = receiving.new_page()
    log_in(b, "referrals-b")
    b.goto(f"{NETWORK}/referrals/")
    row = b.locator("main table tbody tr").filter(has_text=f"Referral {referral.pk}")
    assert "Imani Okafor" in row.inner_text() and "Sent" in row.inner_text()
    assert_accessible(b)
    b.screenshot(path=str(shots / "inbox-receiver.png"), full_page=True)

    follow(b, row.get_by_role("link", name=f"Referral {referral.pk}"))
    assert_accessible(b)
    b.screenshot(path=str(shots / "detail-receiver-sent.png"), full_page=True)
    follow(b, b.get_by_role("button", name="Accept"))
    assert "The referral is now accepted." in b.locator("main").inner_text()
    follow(b, b.get_by_role("button", name="Start service"))
    b.select_option("#complete-outcome", "goal_met")
    b.fill("#note-complete", "Passed the placement test.")
    follow(b, b.get_by_role("button", name="Complete"))
    assert b.get_by_role("heading", level=1).inner_text() == f"Referral {referral.pk}: Completed"
    timeline = b.locator("section", has=b.get_by_role("heading", name="Timeline")).inner_text()
    assert "In service → Completed" in timeline
    assert_accessible(b)
    b.screenshot(path=str(shots / "detail-receiver-completed.png"), full_page=True)
    receiving.close()

    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("completed", "goal_met")
    # A's staff were told of each step, never by name
    texts = Notification.objects.filter(referral=referral).values_list("text", flat=True)
    assert len(texts) >= 4 and not [t for t in texts if "Imani" in t or "Okafor" in t]
    page.goto(f"{NETWORK}/notifications/")
    assert "is now completed" in page.locator("main").inner_text()
    assert_accessible(page)
