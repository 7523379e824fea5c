"""Reads of designed pathways: which services carry each step, the flags, and the drawing.

A pathway is a directed graph of steps (networkx). Flags:

- dead end: a step that is not final and has no onward step, or a step with no active
  service (no specific service is active, or nothing of its category and life stage is);
- single point of failure: every active service of the step belongs to one provider;
- unreachable: a step that cannot be reached from a first step (the lowest order).

Final steps are the ones marked final; when none is marked, the steps of the highest order.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx
from django.db.models import Q

from backbone.core.access import Access
from backbone.directory.models import Attribute, Service, TaxonomyTerm
from backbone.ecosystem.models import Pathway, PathwayEdge, PathwayStep

NODE_WIDTH, NODE_HEIGHT = 200, 72
COLUMN_GAP, ROW_GAP, MARGIN = 80, 28, 16

DEAD_END = "dead end"
SINGLE_POINT = "single point of failure"
UNREACHABLE = "unreachable"


@dataclass
class StepReport:
    step: PathwayStep
    services: list[tuple[str, str]] = field(default_factory=list)  # (service, provider)
    providers: set[str] = field(default_factory=set)
    flags: list[tuple[str, str]] = field(default_factory=list)  # (kind, why)
    is_final: bool = False
    x: int = 0
    y: int = 0

    @property
    def flag_kinds(self) -> set[str]:
        return {kind for kind, _ in self.flags}

    @property
    def flag_label(self) -> str:
        return ", ".join(dict.fromkeys(kind for kind, _ in self.flags))

    @property
    def css(self) -> str:
        kinds = self.flag_kinds
        if DEAD_END in kinds or UNREACHABLE in kinds:
            return "bad"
        return "warn" if SINGLE_POINT in kinds else "ok"

    @property
    def label(self) -> str:
        name = self.step.name
        return name if len(name) <= 24 else name[:23] + "…"

    @property
    def label_y(self) -> int:
        return self.y + 26

    @property
    def summary_y(self) -> int:
        return self.y + 48

    @property
    def summary(self) -> str:
        services, providers = len(self.services), len(self.providers)
        return f"{services} service{'s' * (services != 1)} · {providers} provider" + (
            "s" * (providers != 1)
        )


@dataclass
class EdgeDrawing:
    source: StepReport
    target: StepReport
    path: str


@dataclass
class PathwayAnalysis:
    pathway: Pathway
    steps: list[StepReport]
    edges: list[EdgeDrawing]
    width: int
    height: int

    def flagged(self, kind: str) -> list[StepReport]:
        return [s for s in self.steps if kind in s.flag_kinds]

    @property
    def dead_ends(self) -> list[StepReport]:
        return self.flagged(DEAD_END)

    @property
    def single_points(self) -> list[StepReport]:
        return self.flagged(SINGLE_POINT)

    @property
    def unreachable(self) -> list[StepReport]:
        return self.flagged(UNREACHABLE)


def _descendant_terms(access: Access, term_ids: set[str]) -> dict[str, set[str]]:
    """Term hsds id -> itself and every term below it."""
    children = defaultdict(set)
    for hsds_id, parent in access.scope(TaxonomyTerm).values_list("hsds_id", "parent_id"):
        if parent:
            children[str(parent)].add(str(hsds_id))
    out = {}
    for term in term_ids:
        found, stack = {term}, [term]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        out[term] = found
    return out


def tagged_services(access: Access, term_ids) -> list[uuid.UUID]:
    """HSDS ids of the services that carry one of TERM_IDS as an attribute.

    `link_id` is text and `hsds_id` a UUID column, so the ids are matched in Python."""
    linked = access.scope(Attribute).filter(
        link_entity="service", taxonomy_term__hsds_id__in=list(term_ids)
    )
    out = []
    for link_id in linked.values_list("link_id", flat=True).distinct():
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            out.append(uuid.UUID(link_id))
    return out


def step_services(access: Access, steps: list[PathwayStep]) -> dict[int, list[tuple]]:
    """Step pk -> [(service name, provider name)] of its active services."""
    active = access.scope(Service).filter(status="active")
    out: dict[int, list[tuple]] = {}
    chosen = defaultdict(list)
    through = PathwayStep.services.through.objects.filter(pathwaystep__in=[s.pk for s in steps])
    for step_id, service_id in through.values_list("pathwaystep_id", "service_id"):
        chosen[step_id].append(service_id)
    categories = {str(s.category.hsds_id) for s in steps if s.category_id and not chosen[s.pk]}
    below = _descendant_terms(access, categories)
    for step in steps:
        if chosen[step.pk]:
            services = active.filter(pk__in=chosen[step.pk])
        elif step.category_id:
            terms = below[str(step.category.hsds_id)]
            services = active.filter(hsds_id__in=tagged_services(access, terms))
            if step.life_stage_id:
                services = services.filter(
                    Q(life_stages=step.life_stage_id) | Q(life_stages__isnull=True)
                )
        else:
            services = active.none()
        out[step.pk] = sorted(
            set(services.values_list("name", "organization__name")),
            key=lambda pair: (pair[1] or "", pair[0] or ""),
        )
    return out


def pathway_analysis(access: Access, pathway: Pathway) -> PathwayAnalysis:
    steps = list(
        access.scope(PathwayStep)
        .filter(pathway=pathway)
        .select_related("category", "life_stage")
        .order_by("position", "name")
    )
    edges = list(
        access.scope(PathwayEdge).filter(pathway=pathway).values_list("from_step_id", "to_step_id")
    )
    graph = nx.DiGraph()
    graph.add_nodes_from(s.pk for s in steps)
    graph.add_edges_from(edges)
    services = step_services(access, steps)
    reports = {s.pk: StepReport(s) for s in steps}
    if not steps:
        return PathwayAnalysis(pathway, [], [], 2 * MARGIN, 2 * MARGIN)
    marked = {s.pk for s in steps if s.is_final}
    last = max(s.position for s in steps)
    finals = marked or {s.pk for s in steps if s.position == last}
    first = min(s.position for s in steps)
    starts = {s.pk for s in steps if s.position == first}
    reachable = set(starts)
    for start in starts:
        reachable |= nx.descendants(graph, start)
    for step in steps:
        report = reports[step.pk]
        report.is_final = step.pk in finals
        report.services = [(name or "", provider or "") for name, provider in services[step.pk]]
        report.providers = {provider for _, provider in report.services if provider}
        if not report.is_final and graph.out_degree(step.pk) == 0:
            report.flags.append((DEAD_END, "no onward step: people referred here go nowhere next"))
        if not report.services:
            why = (
                "no active service among the chosen services"
                if step.services.exists()
                else "no active service of this category and life stage"
                if step.category_id
                else "no need category or service chosen"
            )
            report.flags.append((DEAD_END, why))
        elif len(report.providers) == 1:
            (provider,) = report.providers
            report.flags.append((SINGLE_POINT, f"only {provider} carries this step"))
        if step.pk not in reachable:
            report.flags.append((UNREACHABLE, "no path leads here from a first step"))
    width, height = _layout(steps, reports)
    drawings = [
        EdgeDrawing(reports[a], reports[b], _curve(reports[a], reports[b])) for a, b in edges
    ]
    return PathwayAnalysis(pathway, [reports[s.pk] for s in steps], drawings, width, height)


def _layout(steps: list[PathwayStep], reports: dict[int, StepReport]) -> tuple[int, int]:
    """Columns left to right by order; steps of the same order stacked."""
    columns = sorted({s.position for s in steps})
    rows = defaultdict(int)
    for step in steps:
        column = columns.index(step.position)
        report = reports[step.pk]
        report.x = MARGIN + column * (NODE_WIDTH + COLUMN_GAP)
        report.y = MARGIN + rows[column] * (NODE_HEIGHT + ROW_GAP)
        rows[column] += 1
    width = 2 * MARGIN + len(columns) * NODE_WIDTH + (len(columns) - 1) * COLUMN_GAP
    height = 2 * MARGIN + max(rows.values()) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    return width, height


def _curve(source: StepReport, target: StepReport) -> str:
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT // 2
    x2, y2 = target.x - 6, target.y + NODE_HEIGHT // 2
    if target.x <= source.x:  # backwards or within a column: loop over the top
        x2, y2 = target.x + NODE_WIDTH // 2, target.y - 6
        top = min(source.y, target.y) - MARGIN + 4
        return f"M{x1},{y1} C{x1 + 40},{top} {x2},{top} {x2},{y2}"
    bend = (x2 - x1) // 2
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
