import pytest

from backbone.core.access import access_for
from backbone.ecosystem.models import Pathway, PathwayEdge, PathwayStep
from backbone.ecosystem.pathways import DEAD_END, SINGLE_POINT, UNREACHABLE, pathway_analysis

pytestmark = pytest.mark.django_db


@pytest.fixture
def college(world, directory):
    """A → B, A → C, B → D (final), E → D.

    A: one service of one provider. B: the postsecondary category in high school (two
    providers). C: legal help, of which the directory has none, and no onward step.
    D: two providers, final. E: two providers, but nothing leads to it."""
    d = directory
    one = d.service("Senior Seminar", provider="Solo", term="youth")
    d.service("FAFSA Nights", provider="P1", areas=[d.harbor])
    d.service("College Coaching", provider="P2", areas=[d.harbor])
    d.service("Closed FAFSA", provider="P3", status="inactive")
    retention = [
        d.service("Retention Coach", provider="R1", stages=("postsecondary",)),
        d.service("Retention Mentor", provider="R2", stages=("postsecondary",)),
    ]
    pathway = Pathway.objects.create(network=d.network, name="Senior to college")

    def step(name, position, **fields):
        services = fields.pop("services", [])
        made = PathwayStep.objects.create(
            network=d.network, pathway=pathway, name=name, position=position, **fields
        )
        made.services.set(services)
        return made

    a = step("Senior", 0, services=[one])
    b = step("FAFSA", 1, category=d.terms["education.postsecondary"], life_stage=d.high_school)
    c = step("Legal check", 1, category=d.terms["legal"])
    dd = step("Retention", 2, services=retention, is_final=True)
    e = step("Orphan", 1, services=retention)
    for source, target in ((a, b), (a, c), (b, dd), (e, dd)):
        PathwayEdge.objects.create(network=d.network, pathway=pathway, from_step=source,
                                   to_step=target)  # fmt: skip
    return pathway


def flags(analysis):
    return {r.step.name: sorted(kind for kind, _ in r.flags) for r in analysis.steps}


def test_flags_dead_ends_single_points_and_unreachable_steps(world, college):
    access = access_for(world.users["viewer"], college.network)

    analysis = pathway_analysis(access, college)

    assert flags(analysis) == {
        "Senior": [SINGLE_POINT],
        "FAFSA": [],
        "Legal check": [DEAD_END, DEAD_END],
        "Orphan": [UNREACHABLE],
        "Retention": [],
    }
    reasons = dict((r.step.name, r.flags) for r in analysis.steps)
    assert (SINGLE_POINT, "only Solo carries this step") in reasons["Senior"]
    assert (DEAD_END, "no active service of this category and life stage") in reasons["Legal check"]
    fafsa = next(r for r in analysis.steps if r.step.name == "FAFSA")
    # the inactive service does not count; services of the category's children do
    assert fafsa.providers == {"P1", "P2"}
    assert len(analysis.edges) == 4


def test_the_last_steps_are_final_when_none_is_marked(world, directory):
    d = directory
    pathway = Pathway.objects.create(network=d.network, name="Two steps")
    first = PathwayStep.objects.create(
        network=d.network, pathway=pathway, name="First", position=0,
        category=d.terms["education"],
    )  # fmt: skip
    PathwayStep.objects.create(
        network=d.network, pathway=pathway, name="Second", position=1,
        category=d.terms["education"],
    )  # fmt: skip
    d.service("Help 1", provider="P1")
    d.service("Help 2", provider="P2")
    access = access_for(world.users["viewer"], d.network)

    analysis = pathway_analysis(access, pathway)

    # "Second" is final (the highest order); "First" leads nowhere, so it is a dead end,
    # and "Second" is unreachable.
    assert flags(analysis) == {"First": [DEAD_END], "Second": [UNREACHABLE]}
    PathwayEdge.objects.create(
        network=d.network, pathway=pathway, from_step=first, to_step=pathway.steps.get(position=1)
    )
    assert flags(pathway_analysis(access, pathway)) == {"First": [], "Second": []}


def test_detail_page_draws_the_graph_with_a_text_list(world, college, client_for):
    response = client_for("viewer").get(
        f"/n/{college.network.slug}/ecosystem/pathways/{college.pk}/"
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
    assert '<title id="graph-title">Senior to college: 5 steps' in text
    assert text.count('class="edge"') == 4
    assert "Legal check (dead end)" in text  # in the graph's description
    assert "only Solo carries this step" in text  # in the list beside it
