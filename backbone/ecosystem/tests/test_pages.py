import csv
import io

import pytest

from backbone.core.models import AuditEvent
from backbone.ecosystem.models import NeedIndicator, Pathway, PathwayEdge, PathwayStep
from backbone.measurement.models import Indicator, Result

pytestmark = pytest.mark.django_db


def url(network, rest=""):
    return f"/n/{network.slug}/ecosystem/{rest}"


@pytest.mark.parametrize("role", ["network_admin", "org_member", "funder", None])
def test_map_pages_for_members_and_the_public(world, directory, client_for, role):
    d = directory
    d.service("FAFSA Nights", provider="A", areas=[d.harbor])
    client = client_for(role)
    for page in ("", "gaps/", "redundancy/", "pathways/", "need-indicators/"):
        response = client.get(url(d.network, page))
        assert response.status_code == 200, page
    heatmap = client.get(url(d.network, "?area_kind=county&metric=services")).content.decode()
    assert "Harbor County" in heatmap and "Mill County" in heatmap
    assert 'title="Education in Harbor County: 1 services, 1 providers' in heatmap


def test_outsiders_get_404_and_the_anonymous_of_a_private_network_sign_in(
    world, directory, client_for
):
    pathway = Pathway.objects.create(network=directory.network, name="Senior to college")
    directory.network.is_public = False
    directory.network.save()
    pages = ["", "gaps/", "redundancy/", "cells.csv", "pathways/", f"pathways/{pathway.pk}/"]
    for page in pages:
        assert client_for("outsider").get(url(directory.network, page)).status_code == 404
    for page in pages:
        response = client_for(None).get(url(directory.network, page))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_csv_export_has_every_cell(world, directory, client_for):
    d = directory
    d.service("FAFSA Nights", provider="A", areas=[d.harbor])

    response = client_for("viewer").get(url(d.network, "cells.csv?area_kind=county"))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 2 * 11 * 2  # life stages × need categories × counties
    harbor = next(
        r
        for r in rows
        if r["area"] == "Harbor County"
        and r["category_code"] == "education"
        and r["life_stage"] == "High school"
    )
    assert (harbor["services"], harbor["providers"], harbor["population"]) == ("1", "1", "10000")
    assert float(harbor["services_per_1000"]) == pytest.approx(0.1)


def test_admin_designs_a_pathway_with_audited_steps(world, directory, client_for):
    d = directory
    client = client_for("network_admin")

    response = client.post(
        url(d.network, "pathways/new/"),
        {"name": "Senior to college", "description": "", "life_stages": [d.high_school.pk]},
    )

    pathway = Pathway.objects.get(network=d.network)
    assert response.status_code == 302 and response["Location"].endswith(f"/{pathway.pk}/")
    first = client.post(
        url(d.network, f"pathways/{pathway.pk}/steps/new/"),
        {"name": "FAFSA help", "position": 1, "category": d.terms["education.postsecondary"].pk},
    )
    assert first.status_code == 302
    fafsa = PathwayStep.objects.get(pathway=pathway)
    senior = client.post(
        url(d.network, f"pathways/{pathway.pk}/steps/new/"),
        {
            "name": "Senior",
            "position": 0,
            "category": d.terms["education"].pk,
            "next_steps": [fafsa.pk],
        },
    )
    assert senior.status_code == 302
    edge = PathwayEdge.objects.get(pathway=pathway)
    assert (edge.from_step.name, edge.to_step.name) == ("Senior", "FAFSA help")
    audited = set(
        AuditEvent.objects.filter(
            network=d.network, actor=world.users["network_admin"]
        ).values_list("object_type", flat=True)
    )
    assert {"ecosystem.pathway", "ecosystem.pathwaystep", "ecosystem.pathwayedge"} <= audited


def test_a_step_needs_a_category_or_services(world, directory, client_for):
    pathway = Pathway.objects.create(network=directory.network, name="Senior to college")
    events = AuditEvent.objects.count()

    response = client_for("network_admin").post(
        url(directory.network, f"pathways/{pathway.pk}/steps/new/"),
        {"name": "Something", "position": 0},
    )

    assert response.status_code == 400
    assert "Choose a need category, specific services, or both." in response.content.decode()
    assert not PathwayStep.objects.exists() and AuditEvent.objects.count() == events


def test_a_step_cannot_lead_to_another_pathways_step(world, directory, client_for):
    d = directory
    ours = Pathway.objects.create(network=d.network, name="Ours")
    theirs = Pathway.objects.create(network=d.network, name="Theirs")
    elsewhere = PathwayStep.objects.create(
        network=d.network, pathway=theirs, name="Elsewhere", category=d.terms["legal"]
    )

    response = client_for("network_admin").post(
        url(d.network, f"pathways/{ours.pk}/steps/new/"),
        {"name": "Start", "position": 0, "category": d.terms["legal"].pk,
         "next_steps": [elsewhere.pk]},
    )  # fmt: skip

    assert response.status_code == 400
    assert "next_steps" in response.context["form"].errors
    assert not PathwayStep.objects.filter(pathway=ours).exists()


def test_partner_admin_edits_only_its_own_pathways(world, directory, client_for):
    d = directory
    ours = Pathway.objects.create(
        network=d.network, name="Ninth grade on track", owner_organization=world.organization
    )
    backbone = Pathway.objects.create(network=d.network, name="Senior to college")
    other_partner = Pathway.objects.create(
        network=d.network, name="Kindergarten", owner_organization=world.second_organization
    )
    client = client_for("org_admin")

    saved = client.post(
        url(d.network, f"pathways/{ours.pk}/edit/"),
        {"name": "Ninth grade on track", "description": "Mentors first.",
         "owner_organization": world.organization.pk},
    )  # fmt: skip
    assert saved.status_code == 302
    ours.refresh_from_db()
    assert ours.description == "Mentors first."
    for pathway in (backbone, other_partner):
        for page in ("edit/", "delete/", "steps/new/"):
            response = client.post(url(d.network, f"pathways/{pathway.pk}/{page}"), {"name": "X"})
            assert response.status_code == 403, (pathway, page)
    assert set(Pathway.objects.values_list("name", flat=True)) == {
        "Ninth grade on track",
        "Senior to college",
        "Kindergarten",
    }
    refused = client.post(
        url(d.network, "pathways/new/"),
        {"name": "Theirs", "owner_organization": world.second_organization.pk},
    )
    assert refused.status_code == 400
    assert "owner_organization" in refused.context["form"].errors
    assert not Pathway.objects.filter(name="Theirs").exists()
    made = client.post(
        url(d.network, "pathways/new/"),
        {"name": "Mine", "owner_organization": world.organization.pk},
    )
    assert made.status_code == 302
    assert Pathway.objects.get(name="Mine").owner_organization == world.organization


def test_members_without_the_right_cannot_design_pathways(world, directory, client_for):
    pathway = Pathway.objects.create(network=directory.network, name="Senior to college")
    for role in ("org_member", "funder", "viewer"):
        client = client_for(role)
        assert client.get(url(directory.network, "pathways/new/")).status_code == 403
        assert client.get(url(directory.network, f"pathways/{pathway.pk}/edit/")).status_code == 403
        assert client.get(url(directory.network, f"pathways/{pathway.pk}/")).status_code == 200


def test_need_indicators_are_set_by_network_admins(world, directory, client_for):
    d = directory
    result = Result.objects.create(
        network=d.network, code="grad", name="Graduation", life_stage=d.high_school
    )
    indicator = Indicator.objects.create(
        network=d.network, result=result, code="grad-rate", name="Graduation rate",
        definition="x", unit="percent", polarity="higher_is_better", aggregation="none",
        frequency="school_year",
    )  # fmt: skip
    page = url(d.network, "need-indicators/new/")
    form = {"category": "education", "life_stage": d.high_school.pk, "indicator": indicator.pk}

    assert client_for("org_admin").post(page, form).status_code == 403
    assert client_for("network_admin").post(page, form).status_code == 302
    duplicate = client_for("network_admin").post(page, form)

    assert duplicate.status_code == 400
    assert "education × High school already has a need indicator" in duplicate.content.decode()
    assert NeedIndicator.objects.filter(network=d.network).count() == 1
    unknown = client_for("network_admin").post(page, {**form, "category": "astrology"})
    assert unknown.status_code == 400 and "category" in unknown.context["form"].errors
