"""The eight elements of the collective action framework, and what Backbone has of each.

The navigation is built from this list, so every element is reachable; an element whose
capability is not built yet leads to a page that says so plainly.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Link:
    label: str
    url_name: str
    needs: str = ""  # "app_label.Model" whose right (`action`) the page requires
    action: str = "view"
    roles: frozenset[str] = frozenset()  # when set, only these roles see the link


@dataclass(frozen=True)
class Element:
    number: int | None
    slug: str
    name: str
    summary: str
    links: tuple[Link, ...] = ()
    planned: tuple[str, ...] = field(default_factory=tuple)


ELEMENTS = [
    Element(
        1,
        "purpose",
        "Common purpose",
        "The purpose statement, grounded in community needs and equity, and the life "
        "stages the network works along.",
        links=(
            Link("Purpose and home", "framework:network-home"),
            Link("Results framework", "measurement:framework"),
            Link("Life stages", "core:life-stage-list"),
            Link("Areas", "core:area-list"),
        ),
    ),
    Element(
        2,
        "partnerships",
        "Cross-sector partnerships",
        "Partner organizations by sector, prospective partners and their readiness.",
        links=(
            Link("Partners", "partners:partner-list"),
            Link(
                "Stakeholder matrix",
                "partners:stakeholder-matrix",
                needs="partners.ProspectAssessment",
            ),
            Link("Readiness", "partners:readiness-list", needs="partners.ReadinessAssessment"),
        ),
    ),
    Element(
        3,
        "activities",
        "Mutually-reinforcing activities",
        "A service directory on Open Referral HSDS 3.0, gaps and redundancy in services, "
        "and referral pathways from one resource to the next.",
        links=(
            Link("Service directory", "directory:directory-search"),
            Link("Ecosystem map", "ecosystem:map"),
            Link("Referral pathways", "ecosystem:pathway-list"),
            Link("Import HSDS data", "directory:upload", needs="directory.Service", action="add"),
        ),
    ),
    Element(
        4,
        "measurement",
        "Collective performance measurement",
        "Shared indicators, partner data submissions, progress against shared goals, "
        "disaggregation by race, gender, income and geography, and a public report card.",
        links=(
            Link("Scorecard", "insights:scorecard"),
            Link("Results framework", "measurement:framework"),
            Link("My reporting", "measurement:submission-list", needs="measurement.Submission"),
            Link(
                "Review submissions",
                "measurement:review-list",
                needs="measurement.ReportingAssignment",
                action="add",
            ),
            Link(
                "Reporting assignments",
                "measurement:assignment-list",
                needs="measurement.ReportingAssignment",
            ),
            Link(
                "Completeness",
                "measurement:completeness-report",
                needs="measurement.ReportingAssignment",
                action="add",
            ),
            Link(
                "Upload data",
                "measurement:import-job-create",
                needs="measurement.ImportJob",
                action="add",
            ),
            Link("Public report card", "insights:public-report-card"),
            Link(
                "Publishing", "insights:publishing", needs="measurement.Indicator", action="change"
            ),
        ),
    ),
    Element(
        5,
        "accountability",
        "Shared accountability",
        "Commitments with owners, tracked against the shared data.",
        planned=("Commitments with owners and due dates", "Progress tracked against data"),
    ),
    Element(
        6,
        "backbone",
        "Backbone support",
        "Shared, representative decision-making and working groups.",
        links=(
            Link("Working groups", "governance:working-group-list"),
            Link("People and roles", "core:people", needs="core.NetworkRole"),
            Link("Audit log", "core:audit-log", needs="core.AuditEvent"),
        ),
        planned=("Decisions and votes with representation by sector",),
    ),
    Element(
        7,
        "communication",
        "Continuous communication",
        "Convenings, announcements, email and Slack.",
        planned=("Convenings with agendas and minutes", "Announcements by email and Slack"),
    ),
    Element(
        8,
        "funding",
        "Funding for collaboration",
        "Funders, grants, and alignment of money with outcomes.",
        planned=("Funders and grants (360Giving import)", "Alignment of funding with results"),
    ),
    Element(
        None,
        "referrals",
        "Service coordination",
        "Closed-loop referrals between partners with consent, and life-stage transitions.",
        links=(
            Link("Referral inbox", "referrals:inbox", needs="referrals.Referral", action="add"),
            Link("People served", "referrals:person-list", needs="referrals.Person", action="add"),
            Link("Notifications", "referrals:notifications", needs="referrals.Notification"),
            Link(
                "Record a milestone",
                "referrals:milestone-add",
                needs="referrals.Milestone",
                action="add",
            ),
            Link(
                "Referral analytics",
                "referrals:network-analytics",
                needs="referrals.ReferralSettings",
            ),
            Link("Pathway funnels", "referrals:funnels", needs="referrals.ReferralSettings"),
            Link(
                "Actual and designed flows", "referrals:flows", needs="referrals.ReferralSettings"
            ),
            Link(
                "Import people and referrals",
                "referrals:import",
                roles=frozenset({"network_admin", "org_admin"}),
            ),
            Link(
                "De-identified export",
                "referrals:export",
                roles=frozenset({"network_admin", "org_admin"}),
            ),
            Link(
                "Referral settings",
                "referrals:settings",
                needs="referrals.ReferralSettings",
                action="change",
            ),
        ),
    ),
    Element(
        None,
        "network-map",
        "Relationship map",
        "A map of the relationships between partners in the network.",
        planned=("Network graph of partnerships, referrals and funding",),
    ),
    Element(
        None,
        "library",
        "Knowledge library",
        "Shared documents, evidence and lessons learned.",
        planned=("Documents and evidence, searchable by life stage and topic",),
    ),
]

NOT_BUILT = [element for element in ELEMENTS if not element.links]
BY_SLUG = {element.slug: element for element in ELEMENTS}


def visible_links(element, access) -> list[dict]:
    """The pages of ELEMENT this access may open, as {label, url}."""
    links = []
    for link in element.links:
        if link.needs and not access.allows(apps.get_model(link.needs), link.action):
            continue
        if link.roles and access.role not in link.roles:
            continue
        try:
            url = reverse(link.url_name, args=[access.network.slug])
        except NoReverseMatch:
            continue
        links.append({"label": link.label, "url": url})
    return links
