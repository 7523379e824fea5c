"""Funnels along designed pathways, and the actual flows of referrals against the design.

A person *reaches* a step on the first day of either a milestone recorded at the step or a
completed referral to the step (the referral's `pathway_step`, else its service when the
service carries the step: one of the step's chosen services, or, for a step by need
category, an active service of that category and life stage). For each designed edge
A → B, a person *moves on* when they reach B on or after the day they reach A; the days
between are summarized by the median and 75th percentile. A person who reaches a step
that has onward steps and moves on to none of them *drops off* there.

Groups come from the person's record: a category of a measurement dimension in
`Person.demographics` (race, gender, income band ...), or the person's area (rolled up to
the level of the network's geography dimension, if it has one).

Actual flows: consecutive accepted referrals of the same person (by sent time) between
steps of the pathway, counted as edges; compared with the designed edges, the page shows
edges used that were never designed and designed edges never used.

All counting is done in SQL (one statement per funnel, one per flow graph) and cached per
network under the data version of `network_metrics`; every figure is suppressed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from backbone.core.access import NETWORK_ADMIN, Access
from backbone.core.models import Area, Network
from backbone.directory.models import Service
from backbone.ecosystem.models import Pathway, PathwayEdge, PathwayStep
from backbone.ecosystem.pathways import (
    _curve,
    _descendant_terms,
    pathway_analysis,
    tagged_services,
)
from backbone.insights import suppression
from backbone.measurement.models import Category, Dimension
from backbone.referrals.insights_cache import Freshness, cached, rebuilt_in_background
from backbone.referrals.models import Milestone, Person, Referral
from backbone.referrals.network_metrics import (
    DASH,
    Figure,
    accepted_sql,
    count_figure,
    is_postgres,
    percentile,
    rate_figure,
    run,
    sql_day,
    sql_days_between,
    sql_json_text,
    statistic_figure,
    suppression_k,
)

ALL = "all"
AREA = "area"
NOT_RECORDED = "Not recorded"
OTHER = "All other groups"
TOP_GROUPS = 25


def system_access(network: Network) -> Access:
    """Reads of the directory and pathways for aggregates computed by the system."""
    return Access(user=None, network=network, role=NETWORK_ADMIN)


def step_service_ids(network: Network, steps: list[PathwayStep]) -> dict[int, set[int]]:
    """Step pk -> the pks of the services that carry it (as ecosystem.pathways counts
    them: the chosen services, else the active services of its category and life stage)."""
    access = system_access(network)
    chosen: dict[int, set[int]] = defaultdict(set)
    through = PathwayStep.services.through.objects.filter(pathwaystep__in=[s.pk for s in steps])
    for step_id, service_id in through.values_list("pathwaystep_id", "service_id"):
        chosen[step_id].add(service_id)
    by_category = [s for s in steps if not chosen[s.pk] and s.category_id]
    below = _descendant_terms(access, {str(s.category.hsds_id) for s in by_category})
    out = {}
    for step in steps:
        if chosen[step.pk]:
            out[step.pk] = chosen[step.pk]
            continue
        if not step.category_id:
            out[step.pk] = set()
            continue
        services = Service.objects.filter(
            network=network,
            status="active",
            hsds_id__in=tagged_services(access, below[str(step.category.hsds_id)]),
        )
        if step.life_stage_id:
            services = services.filter(
                Q(life_stages=step.life_stage_id) | Q(life_stages__isnull=True)
            )
        out[step.pk] = set(services.values_list("pk", flat=True))
    return out


def group_choices(network: Network) -> list[tuple[str, str]]:
    """(code, label) of the ways a funnel can be broken down."""
    dimensions = Dimension.objects.filter(network=network, kind=Dimension.Kind.CATEGORICAL)
    return [
        *((d.code, d.name) for d in dimensions.order_by("position", "code")),
        (AREA, "Area"),
    ]


def _values_cte(name: str, columns: tuple[str, str], pairs) -> tuple[str, list]:
    pairs = sorted(pairs)
    if not pairs:
        pairs = [(-1, -1)]  # matches nothing, keeps the statement's shape
    cast = "CAST(%s AS integer)" if is_postgres() else "%s"
    values = ", ".join(f"({cast}, {cast})" for _ in pairs)
    return f"{name}({columns[0]}, {columns[1]}) AS (VALUES {values})", [
        n for pair in pairs for n in pair
    ]


def _group_sql(group: str) -> tuple[str, list]:
    if not group:
        return "''", []
    if group == AREA:
        return "CAST(p.area_id AS TEXT)", []
    expression, key = sql_json_text("p.demographics")
    return expression, [key(group)]


def _reach_sql(network_id: int, steps: list[int], services: dict[int, set[int]]):
    """The CTEs `stepmap` and `reach(person_id, step_id, day)`, and their parameters.

    `status || ''` keeps SQLite off the (network, status) index for the referrals at the
    pathway's steps, so it reads them through the pathway step index: the other way
    fetches every completed referral of the network, and `reach` took 23 s instead of
    8.6 s over 10 million referrals."""
    stepmap, params = _values_cte(
        "stepmap",
        ("service_id", "step_id"),
        {(sv, st) for st, ids in services.items() for sv in ids},
    )
    milestone, referral = Milestone._meta.db_table, Referral._meta.db_table
    marks = ", ".join(["%s"] * len(steps))
    day = sql_day("closed_at")
    sql = (
        f"{stepmap}, reach AS (SELECT person_id, step_id, MIN(day) AS day FROM ("  # noqa: S608
        f"SELECT person_id, pathway_step_id AS step_id, achieved_on AS day FROM {milestone} "
        f"WHERE network_id = %s AND pathway_step_id IN ({marks}) "
        f"UNION ALL SELECT person_id, pathway_step_id, {day} FROM {referral} "
        f"WHERE network_id = %s AND (status || '') = 'completed' AND pathway_step_id IN ({marks}) "
        f"UNION ALL SELECT r.person_id, m.step_id, {sql_day('r.closed_at')} FROM {referral} r "
        f"JOIN stepmap m ON m.service_id = r.to_service_id WHERE r.network_id = %s "
        f"AND r.status = 'completed' AND r.pathway_step_id IS NULL"
        f") x GROUP BY person_id, step_id)"
    )
    return sql, [*params, network_id, *steps, network_id, *steps, network_id]


def funnel_counts(network: Network, pathway: Pathway, group: str = "") -> dict:
    """The raw counts of a funnel: {"reach": {(step, group): n}, "moved": {(from, to,
    group): {days: n}}, "continued": {(step, group): n}}."""
    steps = list(PathwayStep.objects.filter(pathway=pathway).select_related("category"))
    if not steps:
        return {"reach": {}, "moved": {}, "continued": {}}
    step_ids = [s.pk for s in steps]
    services = step_service_ids(network, steps)
    reach, params = _reach_sql(network.pk, step_ids, services)
    edges = PathwayEdge.objects.filter(pathway=pathway).values_list("from_step_id", "to_step_id")
    edge_cte, edge_params = _values_cte("edges", ("f", "t"), set(edges))
    grp, grp_params = _group_sql(group)
    person = Person._meta.db_table
    days = sql_days_between("b.day", "a.day")
    null = "CAST(NULL AS integer)"
    sql = (
        f"WITH {reach}, {edge_cte} "  # noqa: S608 (no user text)
        f"SELECT 'r', a.step_id, {null}, {grp}, {null}, COUNT(*) FROM reach a "
        f"JOIN {person} p ON p.id = a.person_id GROUP BY 2, 4 "
        f"UNION ALL SELECT 'm', a.step_id, b.step_id, {grp}, {days}, COUNT(*) FROM reach a "
        f"JOIN reach b ON b.person_id = a.person_id AND b.day >= a.day "
        f"JOIN edges e ON e.f = a.step_id AND e.t = b.step_id "
        f"JOIN {person} p ON p.id = a.person_id GROUP BY 2, 3, 4, 5 "
        f"UNION ALL SELECT 'c', c.step_id, {null}, {grp}, {null}, COUNT(*) FROM ("
        f"SELECT DISTINCT a.person_id, a.step_id FROM reach a JOIN reach b "
        f"ON b.person_id = a.person_id AND b.day >= a.day "
        f"JOIN edges e ON e.f = a.step_id AND e.t = b.step_id) c "
        f"JOIN {person} p ON p.id = c.person_id GROUP BY 2, 4"
    )
    rows = run(sql, [*params, *edge_params, *grp_params * 3])
    out: dict = {"reach": defaultdict(int), "moved": defaultdict(dict), "continued": {}}
    for kind, a, b, value, gap, n in rows:
        value = "" if value is None else str(value)
        if kind == "r":
            out["reach"][(a, value)] += int(n)
        elif kind == "c":
            out["continued"][(a, value)] = int(n)
        else:
            bucket = out["moved"][(a, b, value)]
            bucket[int(gap)] = bucket.get(int(gap), 0) + int(n)
    return {"reach": dict(out["reach"]), "moved": dict(out["moved"]), "continued": out["continued"]}


# Groups ----------------------------------------------------------------------------------


def _group_labels(network: Network, group: str, values: set[str]) -> dict[str, str]:
    if group == AREA:
        ids = [int(v) for v in values if v.isdigit()]
        names = dict(Area.objects.filter(network=network, pk__in=ids).values_list("pk", "name"))
        return {v: names.get(int(v), NOT_RECORDED) if v.isdigit() else NOT_RECORDED for v in values}
    names = dict(
        Category.objects.filter(network=network, dimension__code=group).values_list("code", "name")
    )
    return {v: names.get(v, v) if v else NOT_RECORDED for v in values}


def _area_rollup(network: Network) -> dict[str, str]:
    """Area pk (text) -> the pk of its area at the geography dimension's level."""
    level = (
        Dimension.objects.filter(network=network, kind=Dimension.Kind.GEOGRAPHY)
        .exclude(area_kind="")
        .values_list("area_kind", flat=True)
        .first()
    )
    if not level:
        return {}
    rows = Area.objects.filter(network=network).values_list("pk", "kind", "parent_id")
    areas = {pk: (kind, parent) for pk, kind, parent in rows}
    out = {}
    for pk in areas:
        node, seen = pk, set()
        while node is not None and areas[node][0] != level and node not in seen:
            seen.add(node)
            node = areas[node][1] if areas[node][1] in areas else None
        if node is not None:
            out[str(pk)] = str(node)
    return out


def _regroup(counts: dict, position: int, mapping: dict[str, str]) -> dict:
    """Counts keyed by tuples whose POSITION-th item is a group, with groups renamed."""
    out: dict = {}
    for key, value in counts.items():
        new = list(key)
        new[position] = mapping.get(key[position], key[position])
        new = tuple(new)
        if isinstance(value, dict):
            bucket = out.setdefault(new, {})
            for days, n in value.items():
                bucket[days] = bucket.get(days, 0) + n
        else:
            out[new] = out.get(new, 0) + value
    return out


# The funnel ------------------------------------------------------------------------------


@dataclass
class StepRow:
    pk: int
    name: str
    is_final: bool
    reached: Figure
    moved_on: Figure
    dropped: Figure
    drop_rate: Figure
    by_group: list[Figure] = field(default_factory=list)


@dataclass
class EdgeRow:
    from_name: str
    to_name: str
    moved: Figure
    conversion: Figure
    median_days: Figure
    p75_days: Figure
    by_group: list[tuple[Figure, Figure]] = field(default_factory=list)  # (share, median)


@dataclass
class Funnel(Freshness):
    pathway_name: str
    k: int
    group: str
    group_label: str
    groups: list[str]
    steps: list[StepRow]
    edges: list[EdgeRow]
    footnotes: list[str]

    @property
    def chart_items(self) -> list[tuple[str, float | None]]:
        return [(row.name, row.reached.value) for row in self.steps]


def _build(network: Network, pathway: Pathway, group: str, group_label: str) -> Funnel:
    k = suppression_k(network)
    steps = list(PathwayStep.objects.filter(pathway=pathway).order_by("position", "name"))
    edges = list(
        PathwayEdge.objects.filter(pathway=pathway)
        .select_related("from_step", "to_step")
        .order_by("from_step__position", "to_step__position", "pk")
    )
    raw = funnel_counts(network, pathway, group)
    reach, moved, continued = raw["reach"], raw["moved"], raw["continued"]
    if group == AREA:
        rollup = _area_rollup(network)
        reach, continued = _regroup(reach, 1, rollup), _regroup(continued, 1, rollup)
        moved = _regroup(moved, 2, rollup)
    totals: dict[str, int] = defaultdict(int)
    for (_, value), n in reach.items():
        totals[value] += n
    values = sorted(totals, key=lambda v: (-totals[v], v))
    labels = _group_labels(network, group, set(values)) if group else {"": ""}
    if len(values) > TOP_GROUPS:
        rest = {v: OTHER for v in values[TOP_GROUPS:]}
        reach, continued = _regroup(reach, 1, rest), _regroup(continued, 1, rest)
        moved = _regroup(moved, 2, rest)
        values = [*values[:TOP_GROUPS], OTHER]
        labels[OTHER] = OTHER
    if group:
        values = sorted(values, key=lambda v: (v in ("", OTHER), labels.get(v, v)))
    groups = [ALL, *values] if group else [ALL]

    has_onward = {e.from_step_id for e in edges}
    finals = {s.pk for s in steps if s.is_final} or (
        {s.pk for s in steps if s.position == max(s.position for s in steps)} if steps else set()
    )

    def total(counts: dict, *key) -> int:
        return sum(n for k_, n in counts.items() if k_[: len(key)] == key)

    def days_total(step_from, step_to, value=None) -> dict[int, int]:
        out: dict[int, int] = {}
        for (a, b, v), bucket in moved.items():
            if (a, b) == (step_from, step_to) and (value is None or v == value):
                for days, n in bucket.items():
                    out[days] = out.get(days, 0) + n
        return out

    table = suppression.Table()
    numbers: dict = {}
    for step in steps:
        for value in groups:
            got = total(reach, step.pk) if value == ALL else reach.get((step.pk, value), 0)
            cont = total(continued, step.pk) if value == ALL else continued.get((step.pk, value), 0)
            numbers[("reach", step.pk, value)] = got
            table.add_count(("reach", step.pk, value), got)
            if step.pk in has_onward:
                table.add_count(("cont", step.pk, value), cont)
                table.add_count(("drop", step.pk, value), got - cont)
                numbers[("cont", step.pk, value)] = cont
                numbers[("drop", step.pk, value)] = got - cont
                table.add_relation(
                    ("reach", step.pk, value), [("cont", step.pk, value), ("drop", step.pk, value)]
                )
                table.add_rate(("droprate", step.pk, value), ("drop", step.pk, value),
                               ("reach", step.pk, value))  # fmt: skip
        if len(groups) > 1:
            for name in ("reach", "cont", "drop") if step.pk in has_onward else ("reach",):
                table.add_relation((name, step.pk, ALL), [(name, step.pk, v) for v in values])
    for edge in edges:
        pair = (edge.from_step_id, edge.to_step_id)
        for value in groups:
            histogram = days_total(*pair, None if value == ALL else value)
            numbers[("move", pair, value)] = sum(histogram.values())
            numbers[("days", pair, value)] = histogram
            table.add_count(("move", pair, value), sum(histogram.values()))
            table.add_rate(("conv", pair, value), ("move", pair, value),
                           ("reach", edge.from_step_id, value))  # fmt: skip
            table.add_rate(("median", pair, value), None, ("move", pair, value))
            table.add_rate(("p75", pair, value), None, ("move", pair, value))
        if len(groups) > 1:
            table.add_relation(("move", pair, ALL), [("move", pair, v) for v in values])
    result = suppression.suppress(table, k)

    step_rows = []
    for step in steps:
        onward = step.pk in has_onward
        got = numbers[("reach", step.pk, ALL)]
        row = StepRow(
            step.pk,
            step.name,
            step.pk in finals,
            count_figure(result, ("reach", step.pk, ALL), got),
            count_figure(result, ("cont", step.pk, ALL), numbers[("cont", step.pk, ALL)])
            if onward
            else Figure(DASH),
            count_figure(result, ("drop", step.pk, ALL), numbers[("drop", step.pk, ALL)])
            if onward
            else Figure(DASH),
            rate_figure(result, ("droprate", step.pk, ALL), numbers[("drop", step.pk, ALL)], got)
            if onward
            else Figure(DASH),
        )
        row.by_group = [
            count_figure(result, ("reach", step.pk, v), numbers[("reach", step.pk, v)])
            for v in values
        ] if group else []  # fmt: skip
        step_rows.append(row)
    edge_rows = []
    for edge in edges:
        pair = (edge.from_step_id, edge.to_step_id)

        def figures(value, pair=pair, edge=edge):
            histogram = numbers[("days", pair, value)]
            return (
                count_figure(result, ("move", pair, value), numbers[("move", pair, value)]),
                rate_figure(
                    result,
                    ("conv", pair, value),
                    numbers[("move", pair, value)],
                    numbers[("reach", edge.from_step_id, value)],
                ),
                statistic_figure(
                    result, ("median", pair, value), percentile(histogram, 0.5), "days"
                ),  # fmt: skip
                statistic_figure(
                    result, ("p75", pair, value), percentile(histogram, 0.75), "days"
                ),  # fmt: skip
            )

        moved_all, conversion, median, p75 = figures(ALL)
        row = EdgeRow(edge.from_step.name, edge.to_step.name, moved_all, conversion, median, p75)
        if group:
            row.by_group = [(f[1], f[2]) for f in (figures(v) for v in values)]
        edge_rows.append(row)
    reasons = sorted(set(result.reasons.values()))
    return Funnel(
        pathway.name,
        k,
        group,
        group_label,
        [labels.get(v, v) for v in values] if group else [],
        step_rows,
        edge_rows,
        [suppression.FOOTNOTES[r].format(k=k) for r in reasons],
    )


def pathway_funnel(network: Network, pathway: Pathway, *, group: str = "") -> Funnel | None:
    """The funnel of PATHWAY, broken down by GROUP ("" for none, a dimension code, or
    "area"), suppressed, cached under the network's data version (None while a large
    network's first computation runs as a task)."""
    choices = dict(group_choices(network))
    if group and group not in choices:
        raise ValueError(f"Unknown group: {group!r}.")
    label = choices.get(group, "")
    params = {"pathway": pathway.pk, "group": group}
    return cached(network.pk, "funnel", params, lambda: _build(network, pathway, group, label))


@rebuilt_in_background("funnel")
def _funnel_of(network: Network, params: dict) -> Funnel | None:
    pathway = Pathway.objects.filter(network=network, pk=params["pathway"]).first()
    choices = dict(group_choices(network))
    group = params["group"]
    if pathway is None or (group and group not in choices):
        return None  # deleted meanwhile: nothing to compute
    return _build(network, pathway, group, choices.get(group, ""))


# Actual flows against the design -----------------------------------------------------------


def flow_counts(network: Network, pathway: Pathway) -> dict[tuple[int, int], int]:
    """{(from step, to step): consecutive accepted referrals of the same person}."""
    steps = list(PathwayStep.objects.filter(pathway=pathway).select_related("category"))
    if not steps:
        return {}
    services = step_service_ids(network, steps)
    position = {s.pk: (s.position, s.pk) for s in steps}
    first_step: dict[int, int] = {}
    for step_id, ids in services.items():
        for service_id in ids:
            if service_id not in first_step or position[step_id] < position[first_step[service_id]]:
                first_step[service_id] = step_id
    stepmap, params = _values_cte("stepmap", ("service_id", "step_id"), set(first_step.items()))
    referral = Referral._meta.db_table
    marks = ", ".join(["%s"] * len(steps))
    sql = (
        f"WITH {stepmap}, mapped AS (SELECT r.person_id, r.sent_at, r.id, "  # noqa: S608
        f"COALESCE(r.pathway_step_id, m.step_id) AS step_id FROM {referral} r "
        f"LEFT JOIN stepmap m ON m.service_id = r.to_service_id "
        f"WHERE r.network_id = %s AND {accepted_sql('r')} "
        f"AND (r.pathway_step_id IN ({marks}) OR (r.pathway_step_id IS NULL "
        f"AND m.step_id IS NOT NULL))), "
        f"ordered AS (SELECT step_id, LAG(step_id) OVER (PARTITION BY person_id "
        f"ORDER BY sent_at, id) AS previous FROM mapped) "
        f"SELECT previous, step_id, COUNT(*) FROM ordered WHERE previous IS NOT NULL "
        f"AND previous <> step_id GROUP BY previous, step_id"
    )
    rows = run(sql, [*params, network.pk, *[s.pk for s in steps]])
    return {(a, b): int(n) for a, b, n in rows}


@dataclass
class FlowEdge:
    from_name: str
    to_name: str
    count: Figure
    designed: bool
    path: str = ""

    @property
    def kind(self) -> str:
        if not self.designed:
            return "undesigned"
        return "unused" if self.count.value == 0 else "used"

    @property
    def label_xy(self) -> tuple[int, int]:
        """Where the count is written: the middle of the curve's end points."""
        text = self.path.replace("M", " ").replace("C", " ").replace(",", " ")
        numbers = [float(n) for n in text.split()]
        return int((numbers[0] + numbers[-2]) / 2), int((numbers[1] + numbers[-1]) / 2) - 4


@dataclass
class Flows(Freshness):
    k: int
    steps: list  # StepReport of ecosystem.pathways, laid out
    edges: list[FlowEdge]
    width: int
    height: int
    footnotes: list[str]

    @property
    def undesigned(self) -> list[FlowEdge]:
        return [e for e in self.edges if not e.designed]

    @property
    def unused(self) -> list[FlowEdge]:
        return [e for e in self.edges if e.designed and e.count.value == 0]


def _build_flows(network: Network, pathway: Pathway) -> Flows:
    k = suppression_k(network)
    analysis = pathway_analysis(system_access(network), pathway)
    reports = {r.step.pk: r for r in analysis.steps}
    counts = flow_counts(network, pathway)
    designed = set(
        PathwayEdge.objects.filter(pathway=pathway).values_list("from_step_id", "to_step_id")
    )
    pairs = sorted(designed | set(counts), key=lambda p: (reports[p[0]].x, reports[p[0]].y, p))
    table = suppression.Table()
    for pair in pairs:
        table.add_count(pair, counts.get(pair, 0))
    result = suppression.suppress(table, k)
    edges = [
        FlowEdge(
            reports[a].step.name,
            reports[b].step.name,
            count_figure(result, (a, b), counts.get((a, b), 0)),
            (a, b) in designed,
            _curve(reports[a], reports[b]),
        )
        for a, b in pairs
    ]
    reasons = sorted(set(result.reasons.values()))
    return Flows(
        k,
        analysis.steps,
        edges,
        analysis.width,
        analysis.height,
        [suppression.FOOTNOTES[r].format(k=k) for r in reasons],
    )


def pathway_flows(network: Network, pathway: Pathway) -> Flows | None:
    """Actual flows against the designed edges of PATHWAY, suppressed and cached (None
    while a large network's first computation runs as a task)."""
    return cached(
        network.pk, "flows", {"pathway": pathway.pk}, lambda: _build_flows(network, pathway)
    )


@rebuilt_in_background("flows")
def _flows_of(network: Network, params: dict) -> Flows | None:
    pathway = Pathway.objects.filter(network=network, pk=params["pathway"]).first()
    return None if pathway is None else _build_flows(network, pathway)
