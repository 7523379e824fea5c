"""Referral network analytics: counts against an independent computation, suppression,
the capacity declines on the gap map, and who may see the page."""

from __future__ import annotations

import datetime
import statistics

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backbone.core.access import access_for
from backbone.ecosystem.selectors import ecosystem_gaps, ecosystem_map
from backbone.ecosystem.tests.conftest import directory  # noqa: F401 (a fixture)
from backbone.referrals import insights_cache
from backbone.referrals import network_metrics as nm
from backbone.referrals.models import Referral
from backbone.referrals.tests.insights_world import T0, K, figures, insights  # noqa: F401

pytestmark = pytest.mark.django_db

HOURS = st.sampled_from([1, 2, 5, 30, 80])
SPEC = st.tuples(
    st.sampled_from(["sent", "accepted", "declined", "in_service", "completed", "cancelled"]),
    st.booleans(),  # to A (else B)
    HOURS,
    st.booleans(),  # on time
    st.sampled_from(["no_capacity", "not_eligible", "unreachable", "other"]),
)


def make(i, spec):
    status, to_a, hours, on_time, reason = spec
    service = i.college_service if to_a else i.fafsa_service
    person = i.person(race="black")
    if status == "sent":
        return i.referral(person, service)
    if status == "cancelled":  # closed by the sender while sent: answered and closed at once
        referral = i.referral(person, service, status="closed", respond_hours=hours)
        Referral.objects.filter(pk=referral.pk).update(closed_at=referral.responded_at)
        return referral
    return i.referral(
        person,
        service,
        status=status,
        respond_hours=hours,
        on_time=on_time,
        decline_reason=reason if status == "declined" else "",
        outcome="goal_met" if status == "completed" else "",
        close_days=10 if status == "completed" else None,
    )


def expected(specs, to_a=None):
    rows = [s for s in specs if to_a is None or s[1] == to_a]
    accepted = [s for s in rows if s[0] in ("accepted", "in_service", "completed")]
    return (
        len(rows),
        len(accepted),
        sum(1 for s in rows if s[0] == "declined"),
        sum(1 for s in accepted if s[3]),
        sum(1 for s in accepted if s[0] == "completed"),
    )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(SPEC, max_size=14))
def test_counts_and_hours_match_an_independent_count(insights, specs):  # noqa: F811
    i = insights
    Referral.objects.filter(network=i.network).delete()
    for spec in specs:
        make(i, spec)

    total = nm.referral_counts(i.network.pk).get(None, (0,) * 5)
    by_org = nm.referral_counts(i.network.pk, group="to_organization_id")
    hours = nm.accept_hours(i.network.pk)

    assert total == expected(specs)
    assert by_org.get(i.a.pk, (0,) * 5) == expected(specs, to_a=True)
    assert by_org.get(i.b.pk, (0,) * 5) == expected(specs, to_a=False)
    accepted_hours = [s[2] for s in specs if s[0] in ("accepted", "in_service", "completed")]
    if accepted_hours:
        assert nm.percentile(hours, 0.5) == pytest.approx(statistics.median(accepted_hours))
    else:
        assert hours == {}


@given(st.lists(st.integers(min_value=0, max_value=200), min_size=2, max_size=60))
def test_percentile_is_the_inclusive_quantile(values):
    histogram = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert nm.percentile(histogram, 0.5) == pytest.approx(median)
    assert nm.percentile(histogram, 0.75) == pytest.approx(q3)
    assert nm.percentile({}, 0.5) is None


def test_the_network_figures_are_counted_and_small_cells_withheld(insights):  # noqa: F811
    i = insights
    for _ in range(5):  # B: five accepted on time, in service
        i.referral(i.person(), i.fafsa_service, status="in_service", respond_hours=4)
    i.referral(i.person(), i.fafsa_service, status="declined", respond_hours=2,
               decline_reason="no_capacity", area=i.mill)  # fmt: skip
    for _ in range(4):  # A: four completed, one accepted late
        i.completed(i.person(), i.college_service)
    i.referral(i.person(), i.college_service, status="accepted", respond_hours=70, on_time=False)

    metrics = nm.network_metrics(i.network, organization_id=i.a.pk)

    assert metrics.total.received.text == "11"
    assert metrics.total.accepted.text == "10"
    assert metrics.total.declined.suppressed  # 1 decline: fewer than k
    assert metrics.total.acceptance.suppressed  # a rate built on it
    assert metrics.total.loop_closure.text == "40.0%"  # 4 of 10 accepted have an outcome
    assert metrics.total.on_time.text == f"{100 * 9 / 11:.1f}%"
    assert metrics.median_hours.text == "4.5 hours"  # 4, 4, 4, 4, 4 | 5, 5, 5, 5, 70
    assert metrics.p75_hours.text == "5.0 hours"
    assert metrics.own.label == i.a.name and metrics.own.received.text == "5"
    assert metrics.own.acceptance.text == "100.0%"
    assert metrics.own.loop_closure.text == "80.0%"
    (service_row,) = metrics.declines_by_service
    assert service_row.label == "FAFSA Nights" and service_row.declined.suppressed
    (area_row,) = metrics.declines_by_area
    assert area_row.label == "Mill County" and area_row.reasons[0].suppressed
    for figure in figures(metrics):
        if figure.value is not None and "%" not in figure.text and "hours" not in figure.text:
            assert figure.value == 0 or figure.value >= K, figure
    assert any("fewer than 3" in note for note in metrics.footnotes)


def test_a_partner_sees_its_own_small_figures_and_cannot_subtract_to_anothers(insights):  # noqa: F811
    """A's own declines (2, under k = 3) are its own referrals: shown to A as they are.
    B's single decline stays withheld from A, and so does the network's total of 3,
    which A could otherwise subtract its own 2 from. B sees the mirror image; a reader
    with no organization (backbone staff) sees neither partner's small count."""
    i = insights
    for _ in range(4):
        i.completed(i.person(), i.college_service)  # to A
    for _ in range(2):
        i.referral(i.person(), i.college_service, status="declined", respond_hours=3,
                   decline_reason="not_eligible")  # fmt: skip
    for _ in range(5):  # to B
        i.referral(i.person(), i.fafsa_service, status="in_service", respond_hours=4)
    i.referral(i.person(), i.fafsa_service, status="declined", respond_hours=2,
               decline_reason="no_capacity")  # fmt: skip

    def rows(metrics):
        return {row.label: row for row in metrics.by_organization}

    as_a = nm.network_metrics(i.network, organization_id=i.a.pk)
    assert as_a.own.declined.text == "2" and as_a.own.acceptance.text == f"{400 / 6:.1f}%"
    assert rows(as_a)[i.a.name].declined.text == "2"
    assert rows(as_a)[i.b.name].declined.suppressed
    assert as_a.total.declined.suppressed  # 3 − 2 would give B's decline away

    as_b = nm.network_metrics(i.network, organization_id=i.b.pk)
    assert as_b.own.declined.text == "1" and as_b.own.acceptance.text == f"{500 / 6:.1f}%"
    assert rows(as_b)[i.a.name].declined.suppressed
    assert as_b.total.declined.suppressed

    staff = nm.network_metrics(i.network, organization_id=None)
    assert rows(staff)[i.a.name].declined.suppressed
    assert rows(staff)[i.b.name].declined.suppressed


def test_a_period_counts_only_referrals_sent_in_it(insights):  # noqa: F811
    i = insights
    i.referral(i.person(), i.fafsa_service)
    i.referral(i.person(), i.fafsa_service, sent=T0 + datetime.timedelta(days=100))
    first_quarter = (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    assert nm.referral_counts(i.network.pk, period=first_quarter)[None][0] == 1
    assert nm.referral_counts(i.network.pk)[None][0] == 2


def test_warm_calls_are_cached_until_referrals_change(insights, django_assert_max_num_queries):  # noqa: F811
    i = insights
    for _ in range(3):
        i.referral(i.person(), i.fafsa_service)
    first = nm.network_metrics(i.network)
    with django_assert_max_num_queries(4):  # the data version only
        assert nm.network_metrics(i.network).total.received.text == first.total.received.text
    i.referral(i.person(), i.fafsa_service)
    assert nm.network_metrics(i.network).total.received.text == "4"
    Referral.objects.filter(network=i.network).update(status="declined", decline_reason="other")
    insights_cache.bump_version(i.network.pk)  # an edit the newest ids do not see
    assert nm.network_metrics(i.network).total.declined.text == "4"


class _Queue:
    """A task queue that keeps what is enqueued, as a worker-backed queue would."""

    def __init__(self):
        self.queued = []

    def enqueue(self, *args):
        self.queued.append(args)


def test_after_a_change_the_last_figures_are_served_while_a_task_computes_new_ones(
    insights,  # noqa: F811
    client_for,
    monkeypatch,
):
    from backbone.referrals import tasks

    i = insights
    url = reverse("referrals:network-analytics", args=[i.network.slug])
    for _ in range(3):
        i.referral(i.person(), i.fafsa_service)
    first = nm.network_metrics(i.network)
    assert first.current and first.computed_at and first.total.received.text == "3"
    assert "Newer figures" not in client_for("network_admin").get(url).content.decode()
    queue = _Queue()
    monkeypatch.setattr(tasks, "refresh_referral_insights", queue)

    for _ in range(3):
        i.referral(i.person(), i.fafsa_service)
    stale = nm.network_metrics(i.network)
    assert not stale.current and stale.computed_at == first.computed_at
    assert stale.total.received.text == "3"
    ((network_id, name, params),) = queue.queued
    assert (network_id, name) == (i.network.pk, "metrics")
    assert nm.network_metrics(i.network).total.received.text == "3"
    assert len(queue.queued) == 1  # queued once per data version and parameters
    page = client_for("network_admin").get(url).content.decode()
    assert "Newer figures are being computed" in page
    assert len(queue.queued) == 2  # the page's own parameters (its period label)

    for args in queue.queued:
        insights_cache.refresh(*args)  # what the worker runs
    fresh = nm.network_metrics(i.network)
    assert fresh.current and fresh.total.received.text == "6"
    assert "Newer figures" not in client_for("network_admin").get(url).content.decode()


def test_a_large_networks_first_figures_are_computed_by_a_task(
    insights,  # noqa: F811
    client_for,
    monkeypatch,
):
    """From LARGE_NETWORK referrals on, the first view of a page does not compute in the
    request (it would outlast a web worker's timeout at state size): it queues the task
    and says so; once the task ran, the figures show."""
    from backbone.referrals import funnels, tasks

    i = insights
    for _ in range(3):
        i.referral(i.person(), i.fafsa_service)
    monkeypatch.setattr(insights_cache, "LARGE_NETWORK", 3)
    queue = _Queue()
    monkeypatch.setattr(tasks, "refresh_referral_insights", queue)
    url = reverse("referrals:network-analytics", args=[i.network.slug])

    assert nm.network_metrics(i.network) is None
    page = client_for("network_admin").get(url)
    assert page.status_code == 200
    assert "being computed for the first time" in page.content.decode()
    funnel_url = reverse("referrals:funnels", args=[i.network.slug])
    assert "being computed for the first time" in (
        client_for("network_admin").get(funnel_url).content.decode()
    )
    assert funnels.pathway_flows(i.network, i.pathway) is None
    assert {name for _, name, _ in queue.queued} == {"metrics", "funnel", "flows"}

    for args in queue.queued:
        insights_cache.refresh(*args)
    assert nm.network_metrics(i.network).current
    text = client_for("network_admin").get(url).content.decode()
    assert "being computed" not in text and "Referrals received" in text


def test_a_small_network_computes_its_first_figures_in_the_request(insights):  # noqa: F811
    i = insights
    i.referral(i.person(), i.fafsa_service)
    assert not insights_cache.is_large(i.network.pk)
    assert nm.network_metrics(i.network).current


def test_funnels_and_flows_are_refreshed_the_same_way(insights, monkeypatch):  # noqa: F811
    from backbone.referrals import funnels, tasks

    i = insights
    funnel = funnels.pathway_funnel(i.network, i.pathway)
    flows = funnels.pathway_flows(i.network, i.pathway)
    queue = _Queue()
    monkeypatch.setattr(tasks, "refresh_referral_insights", queue)
    i.completed(i.person(), i.college_service)
    assert not funnels.pathway_funnel(i.network, i.pathway).current
    assert not funnels.pathway_flows(i.network, i.pathway).current
    assert [name for _, name, _ in queue.queued] == ["funnel", "flows"]
    for args in queue.queued:
        insights_cache.refresh(*args)
    assert funnels.pathway_funnel(i.network, i.pathway).current
    assert funnels.pathway_flows(i.network, i.pathway).current
    assert funnel.current and flows.current


# The gap map -----------------------------------------------------------------------------


def test_capacity_declines_raise_the_gap_score_for_members_only(world, directory):  # noqa: F811
    from backbone.measurement.models import Framework
    from backbone.referrals.tests.insights_world import make_person, make_referral

    d = directory
    Framework.objects.create(network=d.network, suppression_k=K)
    service = d.service("FAFSA Nights", provider="Harbor Youth", areas=[d.harbor])
    d.service("College Coaching", provider="Mill Youth", areas=[d.mill])
    service.organization.organization = world.second_organization
    service.organization.save()
    admin = access_for(world.users["network_admin"], d.network)
    before = next(
        c
        for c in ecosystem_map(admin).cells
        if c.area == d.harbor and c.category.code == "education"
    )
    person = make_person(d.network, area=d.harbor)
    for n in range(4):
        reason = "no_capacity" if n < 3 else "not_eligible"
        sent = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3)
        make_referral(
            person, service, status="declined", respond_hours=2, decline_reason=reason, sent=sent
        )

    cell = next(
        c
        for c in ecosystem_map(admin).cells
        if c.area == d.harbor and c.category.code == "education"
    )
    assert (cell.referrals_received, cell.capacity_declines) == (4, 3)
    assert cell.score == pytest.approx(before.score * 1.75)
    assert "3 referrals of people here declined for no capacity" in cell.explanation
    gaps = ecosystem_gaps(ecosystem_map(admin, by_life_stage=True), threshold=1.0)
    assert any(c.capacity_declines == 3 for c in gaps)

    public = access_for(None, d.network)
    public_cell = next(
        c
        for c in ecosystem_map(public).cells
        if c.area == d.harbor and c.category.code == "education"
    )
    assert public_cell.capacity_declines == 0 and public_cell.score == pytest.approx(before.score)

    client = Client()
    client.force_login(world.users["viewer"])
    page = client.get(reverse("ecosystem:gaps", args=[d.network.slug]) + "?threshold=1")
    assert "Declined: no capacity" in page.content.decode()
    assert "declined for no capacity in the last year" in page.content.decode()


# Pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["network_admin", "org_admin", "org_member", "funder", "viewer"])
def test_members_see_the_analytics_without_names(insights, client_for, role):  # noqa: F811
    i = insights
    for _ in range(4):
        i.completed(i.person(), i.college_service)
    response = client_for(role).get(reverse("referrals:network-analytics", args=[i.network.slug]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Referrals received" in text and "<svg" in text
    assert "Given" not in text and "Family" not in text  # no person's name anywhere
    assert ("your organization, as receiver" in text) == (role in ("org_admin", "org_member"))


def test_outsiders_and_the_public_get_404(insights, client_for):  # noqa: F811
    i = insights
    i.network.is_public = True
    i.network.save()
    url = reverse("referrals:network-analytics", args=[i.network.slug])
    assert client_for("outsider").get(url).status_code == 404
    assert client_for(None).get(url).status_code == 404
    other = reverse("referrals:network-analytics", args=[i.world.other_network.slug])
    assert client_for("network_admin").get(other).status_code == 404


def test_a_bad_period_says_why_and_shows_all_time(insights, client_for):  # noqa: F811
    url = reverse("referrals:network-analytics", args=[insights.network.slug])
    response = client_for("viewer").get(url + "?period=last-week")
    assert response.status_code == 200
    assert "is not a period code" in response.content.decode()
    assert "All time" in response.content.decode()
    response = client_for("viewer").get(url + "?period=2026-Q1")
    assert "<h2>2026-Q1</h2>" in response.content.decode()
