"""Audit completeness (HIPAA §164.312(b)): every route of the referrals app that shows a
person's identity writes a PersonAccess row for that person.

Routes are enumerated from the URL resolver, so a route added later is covered without
anyone remembering. A route that shows the person's name without an access-log row fails
the test with its name.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from backbone.referrals.models import PersonAccess
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

FAMILY_NAME = "Quintero"


def referrals_routes(patterns=None, namespace="", converters=None):
    """(route name, its URL parameters) of every route in the `referrals:` namespace."""
    converters = converters or {}
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            inherited = {**converters, **getattr(entry.pattern, "converters", {})}
            yield from referrals_routes(entry.url_patterns, ns, inherited)
        elif isinstance(entry, URLPattern) and entry.name and namespace == "referrals":
            yield f"referrals:{entry.name}", [*converters, *entry.pattern.converters]


def pk_for(route_name: str, built) -> int:
    """The object a route's <pk> stands for, by the route name's prefix."""
    name = route_name.split(":", 1)[1]
    if name.startswith("person-") or name == "consent-add":
        return built["person"].pk
    if name.startswith("consent-"):
        return built["consent"].pk
    if name.startswith("referral-"):
        return built["referral"].pk
    if name == "self-referral":
        return built["service"].pk
    pytest.fail(
        f"test_read_audit cannot fill <pk> of {route_name}: teach pk_for() which object "
        "the route reads."
    )


def kwargs_for(route_name: str, params, world, built) -> dict:
    values = {}
    for param in params:
        if param == "network_slug":
            values[param] = world.network.slug
        elif param == "pk":
            values[param] = pk_for(route_name, built)
        else:
            pytest.fail(
                f"test_read_audit cannot fill <{param}> of {route_name}: teach kwargs_for() "
                "what to use."
            )
    return values


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def unaudited_routes(world, only: str = "") -> tuple[list[str], set[str]]:
    """Request every referrals route (whose name starts with ONLY) as the sender and the
    receiver of a referral; return the routes that showed the name without an access-log
    row, and the routes that showed the name at all."""
    built = f.client_world(world)
    person = built["person"]
    b_user = f.UserFactory(email="b-staff@river.example")
    f.NetworkRoleFactory(
        user=b_user,
        network=world.network,
        role="org_member",
        organization=world.second_organization,
    )
    clients = {}
    for label, user in (
        ("sender (org A)", world.users["org_admin"]),
        ("receiver (org B)", b_user),
    ):
        clients[label] = Client()
        clients[label].force_login(user)

    routes = [(n, p) for n, p in referrals_routes() if n.startswith(f"referrals:{only}")]
    failures, shown_by, post_only = [], set(), []

    def check(label, method, name, path):
        before = PersonAccess.objects.filter(person=person).count()
        response = getattr(clients[label], method)(path)
        text = body_of(response)
        if response.status_code == 405 and method == "get":
            post_only.append((name, path))
            return
        if FAMILY_NAME in text:
            shown_by.add(name)
            if PersonAccess.objects.filter(person=person).count() == before:
                failures.append(
                    f"{name} ({method.upper()} {path} as {label}, {response.status_code}) "
                    "shows the person's name without a PersonAccess row"
                )

    for name, params in routes:
        path = reverse(name, kwargs=kwargs_for(name, params, world, built))
        for label in clients:
            check(label, "get", name, path)
    # Routes that only accept POST are posted empty (a refused form may echo the person).
    for name, path in post_only:
        for label in clients:
            check(label, "post", name, path)
    return failures, shown_by


def test_every_referrals_route_that_shows_a_name_writes_an_access_row(world):
    names = {name for name, _ in referrals_routes()}
    assert {"referrals:person-list", "referrals:person-detail", "referrals:consent-add"} <= names
    failures, shown_by = unaudited_routes(world)
    assert not failures, "\n".join(failures)
    # The check is live: the pages that must show the person did.
    assert {"referrals:person-list", "referrals:person-detail"} <= shown_by


def test_a_route_that_forgets_the_audit_is_caught(world, monkeypatch):
    from backbone.referrals import selectors

    monkeypatch.setattr(selectors, "record_reads", lambda *args, **kwargs: None)
    failures, _ = unaudited_routes(world, only="person-")
    assert any(line.startswith("referrals:person-detail ") for line in failures)
    assert any(line.startswith("referrals:person-list ") for line in failures)


def test_each_read_row_says_who_when_what_and_route(world, client_for):
    built = f.client_world(world)
    client = client_for("org_admin")
    client.get(reverse("referrals:person-detail", args=[world.network.slug, built["person"].pk]))
    row = PersonAccess.objects.filter(person=built["person"]).latest("at")
    assert row.user == world.users["org_admin"]
    assert row.user_email == world.users["org_admin"].email
    assert row.organization == world.organization
    assert row.what == "person"
    assert row.route == "referrals:person-detail"
    assert row.network == world.network


def test_a_refused_read_writes_no_row(world, client_for):
    built = f.client_world(world, consent_to_second=False)
    b_user = f.UserFactory()
    f.NetworkRoleFactory(
        user=b_user,
        network=world.network,
        role="org_member",
        organization=world.second_organization,
    )
    client = Client()
    client.force_login(b_user)
    url = reverse("referrals:person-detail", args=[world.network.slug, built["person"].pk])
    assert client.get(url).status_code == 404
    assert not PersonAccess.objects.filter(user=b_user).exists()


def test_the_access_log_is_for_the_organizations_serving_the_person(world, client_for):
    built = f.client_world(world)
    slug, pk = world.network.slug, built["person"].pk
    client_for("org_member").get(reverse("referrals:person-detail", args=[slug, pk]))
    url = reverse("referrals:person-access-log", args=[slug, pk])
    page = client_for("org_admin").get(url)
    assert page.status_code == 200
    assert "org-member@river.example" in page.content.decode()
    # Org B reads under the consent but does not serve the person (yet): refused.
    b_user = f.UserFactory()
    f.NetworkRoleFactory(
        user=b_user,
        network=world.network,
        role="org_member",
        organization=world.second_organization,
    )
    b_client = Client()
    b_client.force_login(b_user)
    assert b_client.get(url).status_code == 403
    # Once B serves the person (an accepted referral), B reviews the log too.
    from backbone.referrals.models import CareRelationship

    CareRelationship.objects.create(
        network=world.network,
        person=built["person"],
        organization=world.second_organization,
        source="referral",
    )
    assert b_client.get(url).status_code == 200
    assert client_for("network_admin").get(url).status_code == 403
    assert client_for("funder").get(url).status_code == 403
    assert client_for("outsider").get(url).status_code == 404
