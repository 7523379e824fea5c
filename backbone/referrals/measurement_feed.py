"""Referral figures become performance measures and indicators in measurement, computed
by the system: nobody types them, and imports refuse them (`system_source`).

Per receiving organization and quarter (shared measures, one value per partner):

- referrals-received (how much): referrals sent to the organization in the quarter;
- referrals-accepted-on-time (how well): of those, the share accepted within the
  network's response standard;
- referrals-loop-closure (how well): of the referrals it accepted, the share whose end is
  recorded (completed with an outcome, or closed without service);
- people-goal-met (better off): people whose referral to it was completed with the goal
  met in the quarter.

Per pathway, a network indicator: people who first reached a final step in the quarter.
Values are disaggregated by each categorical dimension of the network that people's
records carry, and written approved through the measurement bulk writer
(`data_write.write_plans`: versions, one audit record, the analytics refreshed after the
commit). Running the feed again writes nothing when nothing changed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import default_task_backend, task

from backbone.core import audit
from backbone.core.access import NETWORK_ADMIN, Access
from backbone.core.models import AuditEvent, Network
from backbone.core.tabular import RowPlan
from backbone.ecosystem.models import Pathway, PathwayStep
from backbone.measurement import periods as P
from backbone.measurement.data_file import _STORED, _VAL, PLACES, ValuePlan
from backbone.measurement.models import (
    DataValue,
    DataValueVersion,
    Dimension,
    Indicator,
    PerformanceMeasure,
    Polarity,
    Result,
    Unit,
)
from backbone.referrals import insights_cache
from backbone.referrals import network_metrics as nm
from backbone.referrals.models import Person, Referral

SYSTEM_SOURCE = "referrals"
DEBOUNCE_SECONDS = 60
VIA = "referrals"
FILENAME = "referrals (computed by Backbone)"

MEASURES = {
    "referrals-received": dict(
        name="Referrals received",
        category=PerformanceMeasure.Category.HOW_MUCH,
        unit=Unit.COUNT,
        formula=Indicator.Formula.DIRECT,
        aggregation=Indicator.Aggregation.SUM,
        description="Referrals sent to the organization in the quarter (computed from referrals).",
    ),
    "referrals-accepted-on-time": dict(
        name="Referrals accepted within the response standard",
        category=PerformanceMeasure.Category.HOW_WELL,
        unit=Unit.PERCENT,
        formula=Indicator.Formula.RATIO,
        aggregation=Indicator.Aggregation.WEIGHTED,
        description="Of the referrals received in the quarter, the share accepted within "
        "the network's response standard (computed from referrals).",
    ),
    "referrals-loop-closure": dict(
        name="Referral loops closed",
        category=PerformanceMeasure.Category.HOW_WELL,
        unit=Unit.PERCENT,
        formula=Indicator.Formula.RATIO,
        aggregation=Indicator.Aggregation.WEIGHTED,
        description="Of the referrals accepted (sent in the quarter), the share whose "
        "outcome is recorded: completed, or closed without service (computed from referrals).",
    ),
    "people-goal-met": dict(
        name="People whose referral met its goal",
        category=PerformanceMeasure.Category.BETTER_OFF,
        unit=Unit.COUNT,
        formula=Indicator.Formula.DIRECT,
        aggregation=Indicator.Aggregation.SUM,
        description="People whose referral was completed with the goal met in the quarter "
        "(computed from referrals).",
    ),
}


def system_access(network: Network) -> Access:
    return Access(user=None, network=network, role=NETWORK_ADMIN)


# The system's framework rows ----------------------------------------------------------------


def _categorical_dimensions(network: Network) -> list[Dimension]:
    return list(
        Dimension.objects.filter(network=network, kind=Dimension.Kind.CATEGORICAL).order_by(
            "position", "code"
        )
    )


def ensure_measures(network: Network) -> dict[str, PerformanceMeasure]:
    """The system-computed measures of NETWORK, created the first time. A code taken by a
    measure the network typed itself is left alone (and that figure is not fed)."""
    dimensions = _categorical_dimensions(network)
    out = {}
    for code, spec in MEASURES.items():
        measure = PerformanceMeasure.objects.filter(network=network, code=code).first()
        if measure is None:
            measure = PerformanceMeasure.objects.create(
                network=network,
                code=code,
                polarity=Polarity.HIGHER,
                frequency=Indicator.Frequency.QUARTER,
                system_source=SYSTEM_SOURCE,
                **spec,
            )
            measure.dimensions.set(dimensions)
            audit.record(
                actor=None,
                action=AuditEvent.Action.CREATE,
                obj=measure,
                network=network,
                after=audit.snapshot(measure),
                via=VIA,
            )
        if measure.system_source == SYSTEM_SOURCE:
            out[code] = measure
    return out


def _result_for(network: Network, pathway: Pathway) -> Result | None:
    results = Result.objects.filter(network=network).order_by("position", "code")
    stages = list(pathway.life_stages.values_list("pk", flat=True))
    return (stages and results.filter(life_stage__in=stages).first()) or results.first()


def ensure_indicators(network: Network) -> dict[int, Indicator]:
    """Pathway pk -> its system indicator "people reaching the final step", created the
    first time under a result of the pathway's life stage (else the network's first
    result). Without any result in the framework, no indicator is made."""
    dimensions = _categorical_dimensions(network)
    out = {}
    for pathway in Pathway.objects.filter(network=network).order_by("pk"):
        code = f"pathway-{pathway.pk}-completed"
        indicator = Indicator.objects.filter(network=network, code=code).first()
        if indicator is None:
            result = _result_for(network, pathway)
            if result is None:
                continue
            indicator = Indicator.objects.create(
                network=network,
                result=result,
                code=code,
                name=f"People reaching the final step of {pathway.name}"[:200],
                definition=(
                    f"People who first reached a final step of the pathway {pathway.name} "
                    "in the quarter: a milestone at the step or a completed referral to it "
                    "(computed from referrals)."
                ),
                unit=Unit.COUNT,
                polarity=Polarity.HIGHER,
                aggregation=Indicator.Aggregation.SUM,
                frequency=Indicator.Frequency.QUARTER,
                data_source="Backbone referrals and milestones",
                system_source=SYSTEM_SOURCE,
            )
            indicator.dimensions.set(dimensions)
            audit.record(
                actor=None,
                action=AuditEvent.Action.CREATE,
                obj=indicator,
                network=network,
                after=audit.snapshot(indicator),
                via=VIA,
            )
        if indicator.system_source == SYSTEM_SOURCE:
            out[pathway.pk] = indicator
    return out


# The figures ------------------------------------------------------------------------------


def _group(dimension: str) -> tuple[str, list, str]:
    """(expression, its parameters, the join it needs) for a dimension ("" for totals)."""
    if not dimension:
        return "''", [], ""
    expression, key = nm.sql_json_text("p.demographics")
    return expression, [key(dimension)], f" JOIN {Person._meta.db_table} p ON p.id = r.person_id"


def referral_figures(network_id: int, dimension: str = "") -> dict[tuple, list[int]]:
    """{(organization, quarter, category): [received, on time, accepted, loops closed]}."""
    grp, params, join = _group(dimension)
    accepted = nm.accepted_sql("r")
    rows = nm.run(
        f"SELECT r.to_organization_id, {nm.sql_quarter('r.sent_at')}, {grp}, COUNT(*), "  # noqa: S608
        f"SUM(CASE WHEN {accepted} AND r.responded_at <= r.respond_by THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {accepted} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {accepted} AND r.status IN {nm.ENDED_STATUSES!r} THEN 1 ELSE 0 END) "
        f"FROM {Referral._meta.db_table} r{join} WHERE r.network_id = %s GROUP BY 1, 2, 3",
        [*params, network_id],
    )
    return {(o, q, g or ""): [int(n or 0) for n in numbers] for o, q, g, *numbers in rows}


def goal_met_figures(network_id: int, dimension: str = "") -> dict[tuple, int]:
    """{(organization, quarter, category): people with a referral completed, goal met}."""
    grp, params, join = _group(dimension)
    rows = nm.run(
        f"SELECT r.to_organization_id, {nm.sql_quarter('r.closed_at')}, {grp}, "  # noqa: S608
        f"COUNT(DISTINCT r.person_id) FROM {Referral._meta.db_table} r{join} "
        f"WHERE r.network_id = %s AND r.status = 'completed' AND r.outcome = 'goal_met' "
        f"AND r.closed_at IS NOT NULL GROUP BY 1, 2, 3",
        [*params, network_id],
    )
    return {(o, q, g or ""): int(n) for o, q, g, n in rows}


def _quarter_of_day(column: str) -> str:
    if nm.is_postgres():
        return f"to_char({column}, 'YYYY-\"Q\"Q')"
    return (
        f"(strftime('%Y', {column}) || '-Q' || "
        f"((CAST(strftime('%m', {column}) AS INTEGER) + 2) / 3))"
    )


def completer_figures(network: Network, pathway: Pathway, dimension: str = "") -> dict:
    """{(quarter, category): people who first reached a final step of PATHWAY then}."""
    from backbone.referrals.funnels import _reach_sql, step_service_ids

    steps = list(PathwayStep.objects.filter(pathway=pathway).select_related("category"))
    if not steps:
        return {}
    finals = [s.pk for s in steps if s.is_final] or [
        s.pk for s in steps if s.position == max(x.position for x in steps)
    ]
    reach, params = _reach_sql(network.pk, [s.pk for s in steps], step_service_ids(network, steps))
    grp, grp_params, join = _group(dimension)
    join = join.replace("r.person_id", "f.person_id")
    marks = ", ".join(["%s"] * len(finals))
    rows = nm.run(
        f"WITH {reach}, first AS (SELECT person_id, MIN(day) AS day FROM reach "  # noqa: S608
        f"WHERE step_id IN ({marks}) GROUP BY person_id) "
        f"SELECT {_quarter_of_day('f.day')}, {grp}, COUNT(*) FROM first f{join} GROUP BY 1, 2",
        [*params, *finals, *grp_params],
    )
    return {(q, g or ""): int(n) for q, g, n in rows}


def _ratio(numerator: int, denominator: int) -> dict | None:
    if not denominator:
        return None
    num, den = Decimal(numerator), Decimal(denominator)
    return {
        "value": (num * 100 / den).quantize(PLACES),
        "numerator": num.quantize(PLACES),
        "denominator": den.quantize(PLACES),
    }


def _count(n: int) -> dict:
    return {"value": Decimal(n).quantize(PLACES), "numerator": None, "denominator": None}


def computed_values(network: Network, measures: dict, indicators: dict) -> dict[tuple, dict]:
    """{natural key: fields} of every value the feed writes. A key is (kind, subject,
    period, organization, area, disaggregation) as in data_file."""
    valid: dict[str, set[str]] = defaultdict(set)
    dimensions = _categorical_dimensions(network)
    for dimension in dimensions:
        valid[dimension.code] = set(dimension.categories.values_list("code", flat=True))
    out: dict[tuple, dict] = {}

    def put(kind, subject, quarter, organization_id, dimension, category, fields):
        if fields is None or not quarter:
            return
        if dimension and category not in valid[dimension]:
            return  # a code the dimension does not know is counted in the total only
        key_text = f"{dimension}={category}" if dimension else ""
        categories = {dimension: category} if dimension else {}
        out[("m" if kind == "m" else "i", subject.pk, quarter, organization_id, None, key_text)] = {
            **fields,
            "categories": categories,
        }

    for dimension in ["", *(d.code for d in dimensions)]:
        figures = referral_figures(network.pk, dimension)
        for (org, quarter, category), (received, on_time, accepted, closed) in figures.items():
            if "referrals-received" in measures:
                put("m", measures["referrals-received"], quarter, org, dimension, category,
                    _count(received))  # fmt: skip
            if "referrals-accepted-on-time" in measures:
                put("m", measures["referrals-accepted-on-time"], quarter, org, dimension,
                    category, _ratio(on_time, received))  # fmt: skip
            if "referrals-loop-closure" in measures:
                put("m", measures["referrals-loop-closure"], quarter, org, dimension, category,
                    _ratio(closed, accepted))  # fmt: skip
        if "people-goal-met" in measures:
            for (org, quarter, category), n in goal_met_figures(network.pk, dimension).items():
                put("m", measures["people-goal-met"], quarter, org, dimension, category, _count(n))
        for pathway_id, indicator in indicators.items():
            pathway = Pathway.objects.get(pk=pathway_id)
            for (quarter, category), n in completer_figures(network, pathway, dimension).items():
                put("i", indicator, quarter, None, dimension, category, _count(n))
    return out


# The write --------------------------------------------------------------------------------


def _stored(network: Network, measures: dict, indicators: dict) -> dict[tuple, tuple]:
    stored = {}
    rows = DataValue.objects.filter(network=network)
    for ids, name, kind in (
        ([m.pk for m in measures.values()], "measure_id", "m"),
        ([i.pk for i in indicators.values()], "indicator_id", "i"),
    ):
        if not ids:
            continue
        for row in rows.filter(**{f"{name}__in": ids}).values_list(*_STORED):
            subject = row[1] if kind == "i" else row[2]
            stored[(kind, subject, row[3], row[4], row[5], row[6])] = row
    return stored


def _same(existing: tuple, fields: dict) -> bool:
    return (existing[_VAL], existing[8], existing[9]) == (
        fields["value"],
        fields["numerator"],
        fields["denominator"],
    )


def _approve_new(network: Network, measures: dict, indicators: dict, stamp) -> int:
    """The feed's values are approved as written: nobody reviews what the system counts.
    Values the bulk writer created as drafts are approved here, each with its version."""
    drafts = DataValue.objects.filter(network=network, status=DataValue.Status.DRAFT).filter(
        measure__in=list(measures.values())
    ) | DataValue.objects.filter(network=network, status=DataValue.Status.DRAFT).filter(
        indicator__in=list(indicators.values())
    )
    rows = list(drafts.values_list("pk", "version", "value", "numerator", "denominator"))
    if not rows:
        return 0
    versions = []
    for pk, version, value, numerator, denominator in rows:
        state = {
            "value": format(value.normalize(), "f"),
            "numerator": None if numerator is None else format(numerator.normalize(), "f"),
            "denominator": None if denominator is None else format(denominator.normalize(), "f"),
            "comment": "",
            "review_comment": "",
        }
        versions.append(
            DataValueVersion(
                network=network,
                data_value_id=pk,
                version=version + 1,
                old={**state, "status": "draft"},
                new={**state, "status": "approved"},
                reason="Computed from referrals: approved by the system.",
                via=VIA,
            )
        )
    DataValue.objects.filter(pk__in=[r[0] for r in rows]).update(
        status=DataValue.Status.APPROVED, version=F("version") + 1, updated_at=stamp
    )
    DataValueVersion.objects.bulk_create(versions)
    return len(rows)


def feed_measurement(network: Network, periods: list[str] | None = None) -> dict:
    """Compute the referral measures and indicators of NETWORK (for the quarter codes in
    PERIODS, or every quarter with data) and write what changed, approved. Returns counts
    of values created, updated and unchanged."""
    wanted = None
    if periods is not None:
        wanted = set()
        for code in periods:
            period = P.parse(code)
            if period.kind != P.QUARTER:
                raise ValueError(f"{code} is not a quarter; the feed computes quarters.")
            wanted.add(period.code)
    with transaction.atomic():
        measures = ensure_measures(network)
        indicators = ensure_indicators(network)
        values = computed_values(network, measures, indicators)
        stored = _stored(network, measures, indicators)
        count_subjects = {("m", m.pk) for m in measures.values() if m.unit == Unit.COUNT}
        count_subjects |= {("i", i.pk) for i in indicators.values()}
        # A count that was computed before but has no rows now (a person's group changed)
        # is 0, not its old value.
        for key, row in stored.items():
            if key not in values and key[:2] in count_subjects and row[_VAL] != 0:
                values[key] = {**_count(0), "categories": None}
        plans, unchanged = [], 0
        for number, (key, fields) in enumerate(sorted(values.items(), key=str), start=1):
            if wanted is not None and key[2] not in wanted:
                continue
            existing = stored.get(key)
            amounts = {
                "value": fields["value"],
                "numerator": fields["numerator"],
                "denominator": fields["denominator"],
                "comment": "",
            }
            if existing is not None and _same(existing, amounts):
                unchanged += 1
                continue
            plan = ValuePlan(number, " ".join(str(k) for k in key if k), key=key, fields=amounts)
            if existing is None:
                period = P.parse(key[2])
                plan.action = RowPlan.CREATE
                amounts["_dates"] = (period.start(), period.end(), fields["categories"] or {})
            else:
                plan.action = RowPlan.UPDATE
                plan.existing = existing
            plans.append(plan)
        created = sum(1 for p in plans if p.action == RowPlan.CREATE)
        if plans:
            from backbone.measurement.data_write import write_plans

            stamp = timezone.now()
            write_plans(
                system_access(network), plans, b"", FILENAME, VIA,
                "Computed from referrals.", None, None, None,
            )  # fmt: skip
            _approve_new(network, measures, indicators, stamp)
    return {"created": created, "updated": len(plans) - created, "unchanged": unchanged}


@task()
def feed_measurement_task(network_id: int) -> dict:
    """The feed of one network, queued after referral changes."""
    network = Network.objects.get(pk=network_id)
    return feed_measurement(network)


def _pending_key(network_id: int) -> str:
    return f"referrals-feed-pending:{network_id}"


def referrals_changed(network_id: int) -> None:
    """Call after any change to a network's referrals, people or milestones (in or out of
    a transaction): the analytics cache moves on, and once the transaction commits the
    measurement feed is queued to run a minute later, at most once a minute per network
    (the queued run sees every change made before it starts). A task backend that cannot
    defer runs the feed at once, every time."""
    insights_cache.bump_version(network_id)

    def enqueue():
        if not default_task_backend.supports_defer:
            feed_measurement_task.enqueue(network_id)
            return
        if cache.add(_pending_key(network_id), 1, DEBOUNCE_SECONDS):
            later = timezone.now() + datetime.timedelta(seconds=DEBOUNCE_SECONDS)
            feed_measurement_task.using(run_after=later).enqueue(network_id)

    transaction.on_commit(enqueue)


def feed_command(network_slug: str, periods: list[str] | None = None) -> str:
    """`backbone referrals feed-measurement`: run the feed of one network now."""
    from django.core.management.base import CommandError

    network = Network.objects.filter(slug=network_slug).first()
    if network is None:
        raise CommandError(f"No network has the slug {network_slug!r}.")
    try:
        summary = feed_measurement(network, periods)
    except (ValueError, P.PeriodError) as exc:
        raise CommandError(str(exc)) from exc
    return (
        f"{network.name}: {summary['created']} values created, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged."
    )
