"""The authorization matrix: every route × every role × objects of another network.

Routes are enumerated from the URL resolver and API operations from the OpenAPI
document, so a new route is covered without anyone remembering. Everything that
belongs to the other network carries the SENTINEL in its text; no response to a
member of `world.network` (or to the public) may contain it, no request may change
the other network's data, and asking for the other network by slug gives 404 (or the
login page for the anonymous).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from backbone.core import audit
from backbone.core.access import registered_models
from backbone.core.models import (
    AuditEvent,
    Invitation,
    NetworkRole,
    OrganizationIdentifier,
)
from backbone.core.services import token_create
from backbone.directory import models as directory
from backbone.ecosystem.models import NeedIndicator, Pathway, PathwayEdge, PathwayStep
from backbone.measurement.models import (
    DataValue,
    ImportJob,
    Indicator,
    ReportingAssignment,
    Result,
    Submission,
    ValidationRule,
)
from backbone.partners.models import ProspectAssessment, ReadinessAssessment
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

SENTINEL = "ZZLEAK"
PRIVATE = "ZZPRIVATE"  # prospect notes: the backbone's own pipeline, admins only
ROLES = ["anonymous", "network_admin", "org_admin", "org_member", "funder", "viewer", "outsider"]
SKIPPED_NAMESPACES = {"admin"}  # Django admin: staff only, tested in test_admin_access
# Third-party account pages hold no tenant data; they are checked for the sentinel too.


def iter_patterns(patterns=None, namespace="", prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns and ns.split(":")[0] in SKIPPED_NAMESPACES:
                continue
            full = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else ns
            yield from iter_patterns(entry.url_patterns, full or "", prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield (
                (f"{namespace}:{entry.name}" if namespace else entry.name),
                prefix + str(entry.pattern),
                entry,
            )


@pytest.fixture
def leaky(world):
    """Objects of every kind in the other network, each marked with the SENTINEL."""
    other = world.other_network
    other.name = f"{SENTINEL} Lake County Promise"
    other.purpose = f"{SENTINEL} purpose"
    other.save()
    org = world.other_organization
    org.name, org.mission = f"{SENTINEL} Harbor Partner", SENTINEL
    org.save()
    stage = f.LifeStageFactory(network=other, name=f"{SENTINEL} stage")
    area = f.AreaFactory(network=other, name=f"{SENTINEL} area", code=f"{SENTINEL}1")
    group = f.WorkingGroupFactory(
        network=other, name=f"{SENTINEL} group", charter=SENTINEL, life_stage=stage
    )
    group.organizations.add(org)
    prospect_org = f.MembershipFactory(
        network=other, status="prospect", organization__name=f"{SENTINEL} prospect"
    ).organization
    f.ProspectAssessmentFactory(network=other, organization=prospect_org, notes=SENTINEL)
    ReadinessAssessment.objects.create(
        network=other, organization=org, answers={}, score=50, level="emerging"
    )
    OrganizationIdentifier.objects.create(organization=org, scheme="ein", value="99-9999999")
    person = f.UserFactory(email=f"{SENTINEL.lower()}@lake.example", full_name=f"{SENTINEL} Person")
    f.NetworkRoleFactory(user=person, network=other, role="org_admin", organization=org)
    Invitation.objects.create(
        network=other,
        email=f"{SENTINEL.lower()}-invite@lake.example",
        role="viewer",
        token=SENTINEL + "token",
        expires_at="2099-01-01T00:00:00Z",
    )
    AuditEvent.objects.create(
        network=other,
        action="create",
        object_type="core.area",
        object_id=str(area.pk),
        object_repr=f"{SENTINEL} audit",
    )
    listing = directory.DirectoryOrganization.objects.create(
        network=other, hsds_id=uuid.uuid4(), name=f"{SENTINEL} listing"
    )
    service = directory.Service.objects.create(
        network=other, hsds_id=uuid.uuid4(), organization=listing, name=f"{SENTINEL} service"
    )
    place = directory.Location.objects.create(
        network=other, hsds_id=uuid.uuid4(), name=f"{SENTINEL} place"
    )
    taxonomy = directory.Taxonomy.objects.create(
        network=other, hsds_id=uuid.uuid4(), name=f"{SENTINEL} taxonomy"
    )
    directory_rows = [
        listing,
        service,
        taxonomy,
        directory.ServiceAtLocation.objects.create(
            network=other, hsds_id=uuid.uuid4(), service=service, location=place
        ),
        directory.TaxonomyTerm.objects.create(
            network=other, hsds_id=uuid.uuid4(), taxonomy=taxonomy, name=f"{SENTINEL} term"
        ),
    ]
    listing_change = directory.ListingChangeRequest.objects.create(
        network=other, service=service, organization=org, proposed={"name": SENTINEL}, current={}
    )
    upload = directory.DirectoryUpload.objects.create(
        network=other, filename=f"{SENTINEL}.json", content=b"", report={"fatal": SENTINEL}
    )
    # The token that fill() gives every <token>: a resource list of the other network.
    directory.ResourceList.objects.create(
        network=other, token="no-such-invitation-token", service_ids=[service.pk]
    )
    # Backbone-private data in the member's own network.
    f.ProspectAssessmentFactory(network=world.network, organization=world.prospect, notes=PRIVATE)
    area_here = f.AreaFactory(network=world.network, name="Harbor County", code="RL-001")
    world.organization.areas_served.add(area_here, area)  # an org in both networks
    other_result = Result.objects.create(
        network=other, code="zzleak-result", name=f"{SENTINEL} result", life_stage=stage
    )
    Indicator.objects.create(
        network=other,
        result=other_result,
        code="zzleak-indicator",
        name=f"{SENTINEL} indicator",
        definition=SENTINEL,
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="calendar_year",
        is_public=True,  # on the other network's public report card
    )
    # Data imports (measurement.import_jobs) and validation rules of the other network.
    leaky_job = ImportJob.objects.create(
        network=other,
        filename=f"{SENTINEL}.csv",
        content=SENTINEL.encode(),
        sha256="0" * 64,
        report={"errors": [{"row": 2, "message": SENTINEL}]},
    )
    leaky_rule = ValidationRule.objects.create(
        network=other, code="zzleak-rule", name=SENTINEL, left="a", operator="<=", right="b"
    )
    leaky_assignment = ReportingAssignment.objects.create(
        network=other, organization=org, name=SENTINEL, frequency="quarter", first_period="2024-Q1"
    )
    # Reporting (measurement.views_entry): a submitted submission with a value in it.
    leaky_submission = Submission.objects.create(
        network=other,
        assignment=leaky_assignment,
        organization=org,
        period="2024-Q1",
        period_start="2024-01-01",
        period_end="2024-03-31",
        due_date="2024-04-30",
        status="submitted",
        review_comment=SENTINEL,
    )
    leaky_value = DataValue.objects.create(
        network=other,
        indicator=Indicator.objects.get(network=other, code="zzleak-indicator"),
        submission=leaky_submission,
        period="2024-Q1",
        period_start="2024-01-01",
        period_end="2024-03-31",
        organization=org,
        value=7,
        comment=SENTINEL,
        status="submitted",
    )
    # Ecosystem (gap map settings and designed pathways) of the other network.
    leaky_pathway = Pathway.objects.create(
        network=other, name=f"{SENTINEL} pathway", description=SENTINEL, owner_organization=org
    )
    leaky_steps = [
        PathwayStep.objects.create(
            network=other, pathway=leaky_pathway, name=f"{SENTINEL} step {n}", position=n
        )
        for n in range(2)
    ]
    PathwayEdge.objects.create(
        network=other, pathway=leaky_pathway, from_step=leaky_steps[0], to_step=leaky_steps[1]
    )
    leaky_need = NeedIndicator.objects.create(
        network=other,
        category="education",
        indicator=Indicator.objects.get(network=other, code="zzleak-indicator"),
    )
    # Referrals (people served, consent, referrals) of the other network: identity is
    # encrypted at rest, so the SENTINEL shows only if a page decrypts it for a reader.
    from backbone.referrals import models as referrals

    receiver = f.MembershipFactory(
        network=other, organization__name=f"{SENTINEL} receiver"
    ).organization
    client = referrals.Person.objects.create(
        network=other,
        given_name=f"{SENTINEL} Given",
        family_name=f"{SENTINEL} Family",
        birth_date="2001-04-03",
        phone=f"{SENTINEL} phone",
        email=f"{SENTINEL.lower()}@client.example",
        birth_date_index=SENTINEL.lower(),
        name_index=SENTINEL.lower(),
        created_by_organization=org,
    )
    care = referrals.CareRelationship.objects.create(
        network=other, person=client, organization=org, source="recorded"
    )
    client_consent = referrals.Consent.objects.create(
        network=other,
        person=client,
        disclosing_organization=org,
        recipients="treating",
        information=["identity", "demographics", "referrals", "outcomes", "notes"],
        information_description=SENTINEL,
        purpose="referral",
        expiry_event=f"{SENTINEL} event",
        signature="electronic",
        signed_by=f"{SENTINEL} Signer",
    )
    leaky_referral = referrals.Referral.objects.create(
        network=other,
        person=client,
        consent=client_consent,
        from_organization=org,
        to_organization=receiver,
        to_service=service,
        reason=SENTINEL,
        respond_by="2099-01-01T00:00:00Z",
    )
    leaky_event = referrals.ReferralEvent.objects.create(
        network=other, referral=leaky_referral, to_status="sent", organization=org, note=SENTINEL
    )
    leaky_message = referrals.ReferralMessage.objects.create(
        network=other, referral=leaky_referral, organization=org, body=SENTINEL
    )
    leaky_milestone = referrals.Milestone.objects.create(
        network=other,
        person=client,
        name=f"{SENTINEL} milestone",
        organization=org,
        source="recorded",
        achieved_on="2024-09-01",
    )
    leaky_read = referrals.PersonAccess.objects.create(
        network=other,
        person=client,
        user_email=f"{SENTINEL.lower()}@lake.example",
        what=SENTINEL,
        route=SENTINEL,
    )
    leaky_notification = referrals.Notification.objects.create(
        network=other, user=person, kind="received", referral=leaky_referral, text=SENTINEL
    )
    referrals.ReferralSettings.objects.create(network=other)
    return {
        "code": "zzleak-indicator",
        "network_slug": other.slug,
        "organization_slug": org.slug,
        "hsds_id": [str(row.hsds_id) for row in directory_rows],
        "pk": sorted(
            {
                stage.pk,
                leaky_job.pk,
                leaky_rule.pk,
                leaky_assignment.pk,
                leaky_submission.pk,
                leaky_value.pk,
                leaky_pathway.pk,
                leaky_need.pk,
                *(step.pk for step in leaky_steps),
                area.pk,
                group.pk,
                prospect_org.pk,
                org.pk,
                listing_change.pk,
                upload.pk,
                client.pk,
                care.pk,
                client_consent.pk,
                leaky_referral.pk,
                leaky_event.pk,
                leaky_message.pk,
                leaky_milestone.pk,
                leaky_read.pk,
                leaky_notification.pk,
                service.pk,
                *ProspectAssessment.objects.filter(network=other).values_list("pk", flat=True),
                *ReadinessAssessment.objects.filter(network=other).values_list("pk", flat=True),
                *NetworkRole.objects.filter(network=other).values_list("pk", flat=True),
                *Invitation.objects.filter(network=other).values_list("pk", flat=True),
                *OrganizationIdentifier.objects.filter(organization=org).values_list(
                    "pk", flat=True
                ),
            }
        ),
    }


def other_network_fingerprint(world) -> str:
    """A digest of every row of the other network, to prove that nothing changed."""
    rows = []
    for model in registered_models():
        names = {f.name for f in model._meta.get_fields()}
        if model._meta.model_name == "network":
            queryset = model.objects.filter(pk=world.other_network.pk)
        elif "network" in names:
            queryset = model.objects.filter(network=world.other_network)
        elif model._meta.model_name == "organization":
            queryset = model.objects.filter(memberships__network=world.other_network)
        else:
            queryset = model.objects.filter(organization__memberships__network=world.other_network)
        rows += [(model._meta.label, audit.snapshot(obj)) for obj in queryset.order_by("pk")]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def clients(world):
    made = {}
    for role in ROLES:
        client = Client()
        if role == "outsider":
            client.force_login(world.outsider)
        elif role != "anonymous":
            client.force_login(world.users[role])
        made[role] = client
    return made


def fill(route_name: str, converters: dict, leaky, world, network_slug: str):
    """Keyword sets for one route: the network (ours or theirs) and the other's objects."""
    values: dict[str, list] = {}
    for name in converters:
        if name == "network_slug":
            values[name] = [network_slug]
        elif name == "organization_slug":
            values[name] = [leaky["organization_slug"]]
        elif name == "pk":
            # Under the other network's slug every request is refused before the object.
            values[name] = leaky["pk"] if network_slug == world.network.slug else leaky["pk"][:1]
        elif name == "hsds_id":
            # The HSDS API (directory): the other network's directory records.
            ours = network_slug == world.network.slug
            values[name] = leaky["hsds_id"] if ours else leaky["hsds_id"][:1]
        elif name == "element_slug":
            values[name] = ["measurement"]
        elif name == "code":
            # Indicator pages (insights): the other network's indicator.
            values[name] = [leaky["code"]]
        elif name == "year":
            values[name] = [2024]  # the community report
        elif name == "fmt":
            values[name] = ["csv", "xlsx"]
        elif name == "chart":
            values[name] = ["trend", "partner"]
        elif name == "token":
            # A valid token is the invitee's credential and shows the inviting network by
            # design (test_invitations); here: an unknown token reveals nothing.
            values[name] = ["no-such-invitation-token"]
        else:
            pytest.fail(
                f"The authorization matrix cannot fill <{name}> of {route_name}: "
                "teach fill() what object of another network to use."
            )
    combos = [{}]
    for name, options in values.items():
        combos = [{**c, name: option} for c in combos for option in options]
    return combos


def route_converters(route: str, pattern) -> dict:
    """The parameters of the whole route, including those of enclosing includes (e.g.
    referrals' `n/<slug:network_slug>/` prefix)."""
    try:
        return RoutePattern(route).converters
    except ImproperlyConfigured:  # a regex route
        return pattern.pattern.converters


def web_routes():
    routes = []
    for name, route, pattern in iter_patterns():
        if (
            name.startswith("api")
            or ":" not in name
            and name.startswith(("account_", "mfa_", "socialaccount"))
        ):
            continue
        routes.append((name, route_converters(route, pattern)))
    return routes


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_every_web_route_is_in_the_matrix():
    names = {name for name, _ in web_routes()}
    # A sample that must be there; the matrix below walks all of them.
    assert {
        "framework:network-home",
        "partners:partner-list",
        "core:audit-export",
        "governance:working-group-edit",
    } <= names
    assert len(names) > 30


def test_web_routes_leak_nothing_across_networks(world, leaky):
    before = other_network_fingerprint(world)
    role_clients = clients(world)
    failures = []
    for name, converters in web_routes():
        slugs = [world.network.slug]
        if "network_slug" in converters:
            slugs.append(world.other_network.slug)
        for network_slug in slugs:
            for kwargs in fill(name, converters, leaky, world, network_slug):
                path = reverse(name, kwargs=kwargs)
                for role, client in role_clients.items():
                    if role == "outsider" and network_slug == world.other_network.slug:
                        continue  # the outsider's own network
                    for method in ("get", "post"):
                        response = getattr(client, method)(path)
                        text = body_of(response)
                        if SENTINEL in text:
                            failures.append(
                                f"{role} {method.upper()} {path}: other network's "
                                f"data in the response ({response.status_code})"
                            )
                        if PRIVATE in text and role not in ("network_admin",):
                            failures.append(
                                f"{role} {method.upper()} {path}: backbone-private "
                                "prospect notes shown"
                            )
                        if (
                            network_slug == world.other_network.slug
                            and "network_slug" in kwargs
                            and response.status_code not in (404, 302)
                        ):
                            failures.append(
                                f"{role} {method.upper()} {path}: "
                                f"{response.status_code}, expected 404"
                            )
                        if (
                            response.status_code == 302
                            and "network_slug" in kwargs
                            and network_slug == world.other_network.slug
                            and role != "anonymous"
                        ):
                            failures.append(
                                f"{role} {method.upper()} {path}: redirect for an "
                                "outsider, expected 404"
                            )
    assert not failures, "\n".join(failures[:40])
    assert other_network_fingerprint(world) == before, "a request changed the other network"


def test_members_without_the_right_get_403_and_outsiders_404(world, leaky):
    """Write pages of the member's own network: 403 for roles without the right."""
    role_clients = clients(world)
    slug = world.network.slug
    group = f.WorkingGroupFactory(network=world.network)
    admin_only = [
        reverse("core:network-edit", args=[slug]),
        reverse("core:audit-log", args=[slug]),
        reverse("core:audit-export", args=[slug]),
        reverse("core:area-create", args=[slug]),
        reverse("core:life-stage-create", args=[slug]),
        reverse("governance:working-group-edit", args=[slug, group.pk]),
        reverse("governance:working-group-delete", args=[slug, group.pk]),
        reverse("partners:organization-create", args=[slug]),
        reverse("partners:stakeholder-matrix", args=[slug]),
        reverse("partners:membership-edit", args=[slug, world.organization.slug]),
    ]
    for path in admin_only:
        assert role_clients["network_admin"].get(path).status_code == 200, path
        for role in ("org_admin", "org_member", "funder", "viewer"):
            assert role_clients[role].get(path).status_code == 403, (role, path)
        assert role_clients["outsider"].get(path).status_code == 404, path
        assert role_clients["anonymous"].get(path).status_code == 302, path


def test_admin_site_shows_network_admins_their_own_networks_only(world, leaky):
    """Every registered admin, as the world's network admin: the changelist and the
    pages of the other network's objects never show the other network's data."""
    from django.contrib import admin as django_admin

    role_clients = clients(world)
    for role in ("anonymous", "org_admin", "org_member", "funder", "viewer"):
        response = role_clients[role].get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], role
    client = role_clients["network_admin"]
    before = other_network_fingerprint(world)
    failures = []
    for model in django_admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages = [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
        foreign = [pk for pk in leaky["pk"] if model._default_manager.filter(pk=pk).exists()]
        for pk in foreign:
            for view in ("change", "delete", "history"):
                pages.append(reverse(f"{prefix}_{view}", args=[pk]))
        for page in pages:
            for method in ("get", "post"):
                text = body_of(getattr(client, method)(page))
                if SENTINEL in text:
                    failures.append(f"{method.upper()} {page}: other network's data")
    assert not failures, "\n".join(failures[:40])
    assert other_network_fingerprint(world) == before, "an admin request changed the other network"


def test_network_admin_edits_own_network_in_the_admin_with_audit(world):
    client = clients(world)["network_admin"]
    url = reverse("admin:core_lifestage_add")
    response = client.post(
        url, {"network": world.network.pk, "name": "Workforce", "position": 3, "description": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(object_type="core.lifestage")
    assert (event.via, event.network, event.actor) == (
        "admin",
        world.network,
        world.users["network_admin"],
    )
    # the other network is not a choice
    refused = client.post(
        url, {"network": world.other_network.pk, "name": "Sneaky", "position": 1, "description": ""}
    )
    assert refused.status_code == 200 and "network" in refused.context["adminform"].form.errors
    assert client.get(reverse("admin:core_user_changelist")).status_code == 403


# API operations, from the OpenAPI document ------------------------------------------------

PATH_PARAM = re.compile(r"{(\w+)}")


def api_operations():
    client = Client()
    response = client.get("/api/v1/openapi.json")
    if response.status_code != 200:
        return []
    document = response.json()
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operations.append((method, path, operation))
    return operations


def api_values(param: str, leaky, world, network_slug):
    if param in ("slug", "network_slug", "network"):
        return [network_slug]
    if param in ("organization_slug", "org_slug"):
        return [leaky["organization_slug"]]
    if param in ("organization_id", "org_id"):
        return [world.other_organization.pk]
    if param in ("pk", "id") or param.endswith("_id"):
        return leaky["pk"]
    pytest.fail(f"The authorization matrix cannot fill API parameter {{{param}}}.")


def test_every_api_operation_leaks_nothing_across_networks(world, leaky):
    operations = api_operations()
    if not operations:
        pytest.skip("The API publishes no operations yet.")
    before = other_network_fingerprint(world)
    tokens = {}
    for role in ROLES:
        if role == "anonymous":
            tokens[role] = None
        else:
            user = world.outsider if role == "outsider" else world.users[role]
            tokens[role] = token_create(user=user, name="matrix")[1]
    failures = []
    client = Client()
    for method, template, _operation in operations:
        params = PATH_PARAM.findall(template)
        for network_slug in (world.network.slug, world.other_network.slug):
            combos = [{}]
            for param in params:
                combos = [
                    {**c, param: v}
                    for c in combos
                    for v in api_values(param, leaky, world, network_slug)
                ]
            for values in combos:
                path = "/api/v1" + template.removeprefix("/api/v1")
                for param, value in values.items():
                    path = path.replace("{" + param + "}", str(value))
                scoped = any("{" + p + "}" in template for p in ("slug", "network_slug", "network"))
                for role, token in tokens.items():
                    if role == "outsider" and (
                        network_slug == world.other_network.slug or not scoped
                    ):
                        continue  # the outsider's own network is theirs to read
                    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
                    response = client.generic(
                        method.upper(), path, data="{}", content_type="application/json", **headers
                    )
                    text = body_of(response)
                    if SENTINEL in text:
                        failures.append(f"{role} {method.upper()} {path}: other network's data")
                    if PRIVATE in text and role != "network_admin":
                        failures.append(f"{role} {method.upper()} {path}: private notes")
                    if (
                        scoped
                        and network_slug == world.other_network.slug
                        and response.status_code not in (401, 404)
                    ):
                        failures.append(
                            f"{role} {method.upper()} {path}: "
                            f"{response.status_code}, expected 404 (or 401)"
                        )
                    if response.status_code >= 500:
                        failures.append(f"{role} {method.upper()} {path}: server error")
    assert not failures, "\n".join(failures[:40])
    assert other_network_fingerprint(world) == before, "an API call changed the other network"
