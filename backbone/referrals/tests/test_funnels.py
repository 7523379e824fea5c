"""Funnels along designed pathways and actual flows: counts against an independent
computation, suppression, and the pages."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backbone.measurement.models import Dimension
from backbone.referrals import funnels
from backbone.referrals.models import Consent, Milestone, Person, Referral
from backbone.referrals.network_metrics import Figure
from backbone.referrals.tests.insights_world import T0, K, figures, insights  # noqa: F401

pytestmark = pytest.mark.django_db

# One event of a person at a step: how it is recorded, and the day (after T0).
EVENT = st.tuples(st.sampled_from(["milestone", "referral", "tagged-referral"]), st.integers(0, 40))
PERSON = st.tuples(
    st.sampled_from(["black", "white", None]),
    st.lists(st.tuples(st.sampled_from([0, 1, 2]), EVENT), max_size=4),
)


def _clear(network):
    Referral.objects.filter(network=network).delete()
    Milestone.objects.filter(network=network).delete()
    Consent.objects.filter(network=network).delete()
    Person.objects.filter(network=network).delete()


def _record(i, people):
    steps = [i.fafsa, i.college, i.job]
    services = [i.fafsa_service, i.college_service, i.job_service]
    first = []  # per person: {step index: first day}
    for race, events in people:
        person = i.person(race=race)
        days: dict[int, int] = {}
        for index, (how, day) in events:
            when = T0 + datetime.timedelta(days=day)
            if how == "milestone":
                i.milestone(person, steps[index], when.date())
            elif how == "referral":  # to the step's service
                i.completed(person, services[index], sent=T0, days=day)
            else:  # to another service, naming the step
                i.completed(person, i.other_service, sent=T0, days=day, step=steps[index])
            days[index] = min(day, days.get(index, day))
        first.append((race, days))
    return first


def _expected(first, group=False):
    reach, moved, continued = Counter(), {}, Counter()
    edges = [(0, 1), (1, 2)]
    for race, days in first:
        value = (race or "") if group else ""
        for index in days:
            reach[(index, value)] += 1
        for a, b in edges:
            if a in days and b in days and days[b] >= days[a]:
                bucket = moved.setdefault((a, b, value), {})
                bucket[days[b] - days[a]] = bucket.get(days[b] - days[a], 0) + 1
        for a in (0, 1):
            if a in days and any(b in days and days[b] >= days[a] for x, b in edges if x == a):
                continued[(a, value)] += 1
    return reach, moved, continued


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(PERSON, max_size=8), by_race=st.booleans())
def test_funnel_counts_match_an_independent_count(insights, people, by_race):  # noqa: F811
    i = insights
    _clear(i.network)
    first = _record(i, people)
    index = {i.fafsa.pk: 0, i.college.pk: 1, i.job.pk: 2}

    raw = funnels.funnel_counts(i.network, i.pathway, "race" if by_race else "")

    reach, moved, continued = _expected(first, group=by_race)
    assert {(index[s], g): n for (s, g), n in raw["reach"].items()} == dict(reach)
    assert {(index[s], g): n for (s, g), n in raw["continued"].items()} == dict(continued)
    assert {(index[a], index[b], g): h for (a, b, g), h in raw["moved"].items()} == moved


def test_the_funnel_counts_steps_edges_and_drop_off(insights):  # noqa: F811
    i = insights
    for n in range(10):
        person = i.person(race="black" if n < 5 else "white")
        i.milestone(person, i.fafsa, datetime.date(2026, 1, 10))
        if n < 6:  # 5 January + 30..35 days: 25..30 days after 10 January
            i.completed(person, i.college_service, days=30 + n)
        if n < 1:
            i.milestone(person, i.job, datetime.date(2026, 6, 1))

    funnel = funnels.pathway_funnel(i.network, i.pathway)

    fafsa, college, job = funnel.steps
    assert [fafsa.reached.text, college.reached.text] == ["10", "6"]
    assert [fafsa.moved_on.text, fafsa.dropped.text, fafsa.drop_rate.text] == ["6", "4", "40.0%"]
    assert job.is_final and job.reached.suppressed  # one person
    assert college.moved_on.suppressed and college.dropped.suppressed  # 1 and 5 of 6
    first_edge = funnel.edges[0]
    assert first_edge.moved.text == "6" and first_edge.conversion.text == "60.0%"
    assert first_edge.median_days.text == "27.5 days"
    assert first_edge.p75_days.text == "28.8 days"  # 25, 26, 27, 28, 29, 30
    assert funnel.edges[1].median_days.suppressed  # one person moved on: no statistic


def test_no_figure_by_group_gives_away_a_small_count(insights):  # noqa: F811
    i = insights
    for n in range(9):
        person = i.person(race=["black", "white", "latinx"][n % 3] if n < 8 else None)
        i.milestone(person, i.fafsa, datetime.date(2026, 1, 10))
        if n < 7:
            i.completed(person, i.college_service, days=30)

    funnel = funnels.pathway_funnel(i.network, i.pathway, group="race")

    assert funnel.groups == ["Black", "Latinx", "White", "Not recorded"]
    fafsa = funnel.steps[0]
    assert [f.text for f in fafsa.by_group][:3] == ["3", "–", "3"]  # latinx 2: withheld
    for figure in figures(funnel):
        if figure.value is not None and "%" not in figure.text and "days" not in figure.text:
            assert figure.value == 0 or figure.value >= K, figure
    # Complementary suppression: a row never has exactly one withheld group.
    for row in funnel.steps:
        assert sum(1 for f in row.by_group if f.suppressed) != 1


def test_area_groups_roll_up_to_the_geography_dimension(insights):  # noqa: F811
    from backbone.testing import factories as f

    i = insights
    Dimension.objects.create(
        network=i.network, code="county", name="County", kind="geography", area_kind="county"
    )
    town = f.AreaFactory(network=i.network, code="H-1", name="Harbortown", kind="city",
                         parent=i.harbor)  # fmt: skip
    for area in [town, town, i.harbor, i.mill, i.mill, i.mill]:
        i.milestone(i.person(area=area), i.fafsa, datetime.date(2026, 2, 1))

    funnel = funnels.pathway_funnel(i.network, i.pathway, group="area")

    assert funnel.groups == ["Harbor County", "Mill County"]
    assert [f.text for f in funnel.steps[0].by_group] == ["3", "3"]


def test_unknown_group_is_refused(insights):  # noqa: F811
    with pytest.raises(ValueError, match="Unknown group"):
        funnels.pathway_funnel(insights.network, insights.pathway, group="shoe-size")


def test_actual_flows_against_the_design(insights):  # noqa: F811
    i = insights
    for n in range(4):
        person = i.person()
        i.referral(person, i.fafsa_service, status="completed", respond_hours=2, close_days=5,
                   outcome="service_received")  # fmt: skip
        # straight to a job: an edge nobody designed
        i.referral(person, i.job_service, status="accepted", respond_hours=2,
                   sent=T0 + datetime.timedelta(days=20 + n))  # fmt: skip
    person = i.person()
    i.referral(person, i.fafsa_service, status="accepted", respond_hours=1)
    i.referral(person, i.college_service, status="accepted", respond_hours=1,
               sent=T0 + datetime.timedelta(days=9))  # fmt: skip
    # a declined referral is not a flow
    i.referral(person, i.job_service, status="declined", respond_hours=1,
               decline_reason="no_capacity", sent=T0 + datetime.timedelta(days=12))  # fmt: skip

    flows = funnels.pathway_flows(i.network, i.pathway)

    edges = {(e.from_name, e.to_name): e for e in flows.edges}
    assert edges[("FAFSA filed", "Employed")].count.text == "4"
    assert not edges[("FAFSA filed", "Employed")].designed
    assert edges[("FAFSA filed", "Enrolled in college")].count.suppressed  # one person
    assert edges[("Enrolled in college", "Employed")].count == Figure("0", 0.0)
    assert [(e.from_name, e.to_name) for e in flows.undesigned] == [("FAFSA filed", "Employed")]
    assert [(e.from_name, e.to_name) for e in flows.unused] == [("Enrolled in college", "Employed")]
    assert all(e.path.startswith("M") for e in flows.edges)


# Pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["network_admin", "org_member", "funder", "viewer"])
def test_members_see_the_funnel_and_flows_without_names(insights, client_for, role):  # noqa: F811
    i = insights
    for _ in range(3):
        i.milestone(i.person(race="black"), i.fafsa, datetime.date(2026, 1, 10))
    client = client_for(role)
    url = reverse("referrals:funnels", args=[i.network.slug])
    page = client.get(url + f"?pathway={i.pathway.pk}&group=race")
    text = page.content.decode()
    assert page.status_code == 200
    assert "People reaching each step" in text and 'role="img"' in text
    assert "Given" not in text and "Family" not in text
    flows = client.get(reverse("referrals:flows", args=[i.network.slug]))
    assert flows.status_code == 200 and "Edges of Senior to college" in flows.content.decode()
    assert "Given" not in flows.content.decode()


@pytest.mark.parametrize("name", ["referrals:funnels", "referrals:flows"])
def test_outsiders_the_public_and_other_pathways_get_404(insights, client_for, name):  # noqa: F811
    i = insights
    i.network.is_public = True
    i.network.save()
    url = reverse(name, args=[i.network.slug])
    assert client_for("outsider").get(url).status_code == 404
    assert client_for(None).get(url).status_code == 404
    from backbone.ecosystem.models import Pathway

    elsewhere = Pathway.objects.create(network=i.world.other_network, name="Theirs")
    response = client_for("network_admin").get(url + f"?pathway={elsewhere.pk}")
    assert response.status_code == 404
