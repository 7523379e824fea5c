"""Referral figures as system-computed measures and indicators in measurement."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.measurement.data_file import data_import
from backbone.measurement.models import DataValue, DataValueVersion, Indicator, PerformanceMeasure
from backbone.referrals import measurement_feed
from backbone.referrals.measurement_feed import feed_measurement, referrals_changed
from backbone.referrals.models import Referral
from backbone.referrals.tests.insights_world import T0, insights  # noqa: F401

pytestmark = pytest.mark.django_db


def value(network, code, *, organization=None, period="2026-Q1", disaggregation=""):
    subject = {"measure__code": code} if "pathway" not in code else {"indicator__code": code}
    return DataValue.objects.get(
        network=network,
        period=period,
        organization=organization,
        area=None,
        disaggregation=disaggregation,
        **subject,
    )


def scenario(i):
    """Partner A receives four referrals in 2026-Q1: three answered on time, one late;
    two completed (one with the goal met), one still accepted, one in service."""
    black, white = i.person(race="black"), i.person(race="white")
    i.completed(black, i.college_service, outcome="goal_met")
    i.completed(white, i.college_service)
    waiting = i.referral(i.person(race="black"), i.college_service, status="accepted",
                         respond_hours=5)  # fmt: skip
    i.referral(i.person(race="purple"), i.college_service, status="in_service", respond_hours=90,
               on_time=False)  # fmt: skip
    return waiting


def test_the_feed_writes_approved_system_measures(insights):  # noqa: F811
    i = insights
    scenario(i)

    summary = feed_measurement(i.network)

    assert summary["created"] > 0 and summary["updated"] == 0
    measures = PerformanceMeasure.objects.filter(network=i.network, system_source="referrals")
    assert sorted(m.category for m in measures) == [
        "better_off", "how_much", "how_well", "how_well",
    ]  # fmt: skip
    received = value(i.network, "referrals-received", organization=i.a)
    assert received.value == 4 and received.status == DataValue.Status.APPROVED
    assert received.version == 2  # written, then approved by the system
    on_time = value(i.network, "referrals-accepted-on-time", organization=i.a)
    assert (on_time.numerator, on_time.denominator, on_time.value) == (3, 4, Decimal("75"))
    closure = value(i.network, "referrals-loop-closure", organization=i.a)
    assert (closure.numerator, closure.denominator) == (2, 4)
    assert value(i.network, "people-goal-met", organization=i.a).value == 1
    # disaggregated by race; an unknown category counts in the total only
    by_race = value(i.network, "referrals-received", organization=i.a,
                    disaggregation="race=black")  # fmt: skip
    assert by_race.value == 2 and by_race.categories == {"race": "black"}
    assert not DataValue.objects.filter(disaggregation="race=purple").exists()
    versions = DataValueVersion.objects.filter(data_value=received).order_by("version")
    assert [v.new["status"] for v in versions] == ["draft", "approved"]


def test_running_the_feed_twice_changes_nothing(insights):  # noqa: F811
    i = insights
    scenario(i)
    feed_measurement(i.network)
    counts = (
        DataValue.objects.count(),
        DataValueVersion.objects.count(),
        AuditEvent.objects.count(),
    )

    assert feed_measurement(i.network) == {"created": 0, "updated": 0, "unchanged": counts[0]}
    assert (
        DataValue.objects.count(), DataValueVersion.objects.count(), AuditEvent.objects.count()
    ) == counts  # fmt: skip


def test_a_completed_referral_moves_the_measures(insights):  # noqa: F811
    i = insights
    waiting = scenario(i)
    feed_measurement(i.network)

    Referral.objects.filter(pk=waiting.pk).update(
        status="completed", outcome="goal_met", closed_at=T0 + datetime.timedelta(days=20)
    )
    summary = feed_measurement(i.network)

    assert summary["updated"] >= 2 and summary["created"] == 0
    goal = value(i.network, "people-goal-met", organization=i.a)
    assert goal.value == 2 and goal.status == DataValue.Status.APPROVED and goal.version == 3
    closure = value(i.network, "referrals-loop-closure", organization=i.a)
    assert (closure.numerator, closure.value) == (3, Decimal("75"))
    assert value(i.network, "people-goal-met", organization=i.a,
                 disaggregation="race=black").value == 2  # fmt: skip


def test_people_reaching_the_final_step_are_a_network_indicator(insights):  # noqa: F811
    i = insights
    i.milestone(i.person(race="white"), i.job, datetime.date(2026, 2, 2))
    i.completed(i.person(race="black"), i.job_service, days=100)  # 2026-Q2

    feed_measurement(i.network)

    indicator = Indicator.objects.get(network=i.network, code=f"pathway-{i.pathway.pk}-completed")
    assert indicator.system_source == "referrals" and indicator.result == i.result
    assert value(i.network, indicator.code).value == 1
    assert value(i.network, indicator.code, period="2026-Q2").value == 1
    assert value(i.network, indicator.code, disaggregation="race=white").value == 1


def test_only_the_periods_asked_for_are_written(insights):  # noqa: F811
    i = insights
    scenario(i)
    assert feed_measurement(i.network, periods=["2026-Q2"])["created"] == 0
    assert not DataValue.objects.exists()
    with pytest.raises(ValueError, match="not a quarter"):
        feed_measurement(i.network, periods=["2026"])


def test_a_measure_the_network_typed_itself_is_left_alone(insights):  # noqa: F811
    i = insights
    PerformanceMeasure.objects.create(
        network=i.network, code="referrals-received", name="Ours", category="how_much",
        unit="count", polarity="higher_is_better",
    )  # fmt: skip
    scenario(i)
    feed_measurement(i.network)
    assert not DataValue.objects.filter(measure__code="referrals-received").exists()
    assert DataValue.objects.filter(measure__code="people-goal-met").exists()


def test_system_measures_refuse_typed_or_imported_values(insights):  # noqa: F811
    i = insights
    scenario(i)
    feed_measurement(i.network)
    admin = access_for(i.world.users["network_admin"], i.network)
    data = f"indicator,period,organization,value\nreferrals-received,2026-Q1,{i.a.slug},99\n"

    result = data_import(
        access=admin, data=data.encode(), filename="typed.csv", commit=True, reason="fix"
    )

    assert not result.committed
    (error,) = result.errors
    assert "computed by Backbone from referrals" in error.message
    assert value(i.network, "referrals-received", organization=i.a).value == 4


def test_referral_changes_run_the_feed_after_the_commit(
    insights,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    i = insights
    scenario(i)
    referrals_changed(i.network.pk)
    assert not DataValue.objects.exists()  # not before the commit
    with django_capture_on_commit_callbacks(execute=True):
        referrals_changed(i.network.pk)
    assert value(i.network, "referrals-received", organization=i.a).value == 4


class _Queue:
    supports_defer = True

    def __init__(self):
        self.queued = []

    def using(self, *, run_after):
        self.run_after = run_after
        return self

    def enqueue(self, network_id):
        self.queued.append((network_id, self.run_after))


def test_with_a_deferring_queue_the_feed_runs_at_most_once_a_minute(
    insights,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    i = insights
    queue = _Queue()
    monkeypatch.setattr(measurement_feed, "default_task_backend", queue)
    monkeypatch.setattr(measurement_feed, "feed_measurement_task", queue)
    before = datetime.datetime.now(datetime.UTC)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            referrals_changed(i.network.pk)

    ((network_id, run_after),) = queue.queued
    assert network_id == i.network.pk
    assert before + datetime.timedelta(seconds=59) < run_after
    cache.delete(measurement_feed._pending_key(i.network.pk))  # a minute later
    with django_capture_on_commit_callbacks(execute=True):
        referrals_changed(i.network.pk)
    assert len(queue.queued) == 2


def test_the_command_function(insights):  # noqa: F811
    from django.core.management.base import CommandError

    i = insights
    scenario(i)
    assert "values created" in measurement_feed.feed_command(i.network.slug)
    assert "0 values created, 0 updated" in measurement_feed.feed_command(i.network.slug)
    with pytest.raises(CommandError, match="No network"):
        measurement_feed.feed_command("nowhere")
    with pytest.raises(CommandError, match="not a quarter"):
        measurement_feed.feed_command(i.network.slug, ["2026-05"])
