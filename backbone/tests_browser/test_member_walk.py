"""An organization member and a viewer walk the pages their role allows; the backbone's
own pages answer with the accessible 403 page."""

import pytest

from backbone.core.models import Membership, NetworkRole
from backbone.tests_browser.support import (
    NETWORK,
    assert_accessible,
    demo_email,
    follow,
    log_in,
    visit,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

EVERY_MEMBER = [
    "partners/",
    "life-stages/",
    "areas/",
    "people/",
    "framework/",
    "framework/measurement/",
]
BACKBONE_ONLY = ["prospects/", "audit/", "partners/new/"]


def _own_organization(local: str):
    return NetworkRole.objects.get(user__email=demo_email(local)).organization


def _other_active_organization(demo, own):
    return (
        Membership.objects.filter(network=demo, status=Membership.Status.ACTIVE)
        .exclude(organization=own)
        .order_by("organization__name")[0]
        .organization
    )


def _sign_in_and_walk(page, local: str, allowed: list[str], forbidden: list[str]) -> None:
    log_in(page, local)
    assert page.url.endswith(f"{NETWORK}/"), "one network: straight to its home"
    assert_accessible(page)

    for path in allowed:
        visit(page, f"{NETWORK}/{path}")
    visit(page, "/accounts/tokens/")

    visit(page, f"{NETWORK}/working-groups/")
    group = page.locator("main table tbody a").first
    group_name = group.inner_text()
    follow(page, group)
    assert page.get_by_role("heading", level=1).inner_text() == group_name
    assert_accessible(page)

    for number, path in enumerate(forbidden):
        # One template renders every 403; axe checks it once.
        visit(page, f"{NETWORK}/{path}", status=403, axe=number == 0)
        assert page.get_by_role("heading", level=1).inner_text() == (
            "You don't have permission to do that"
        )

    # The backbone's list of prospect assessments is refused too, not just emptied.
    visit(page, f"{NETWORK}/prospects/assessments/", status=403, axe=False)
    assert page.locator("main table").count() == 0
    # and the side navigation offers none of the pages this role cannot open
    nav = page.get_by_role("navigation", name="Framework")
    assert nav.get_by_role("link", name="Stakeholder matrix").count() == 0
    assert nav.get_by_role("link", name="Audit log").count() == 0


def test_org_member_walks_the_pages_of_their_role(page, demo):
    own = _own_organization("member")
    other = _other_active_organization(demo, own)

    _sign_in_and_walk(
        page,
        "member",
        [*EVERY_MEMBER, "readiness/"],
        [*BACKBONE_ONLY, f"organizations/{own.slug}/edit/", f"organizations/{other.slug}/edit/"],
    )

    visit(page, f"{NETWORK}/organizations/{own.slug}/")
    assert page.get_by_role("heading", level=1).inner_text() == own.name
    assert page.get_by_role("link", name="Edit profile").count() == 0


def test_viewer_walks_the_pages_of_their_role(page, demo):
    organization = _other_active_organization(demo, None)

    _sign_in_and_walk(
        page,
        "viewer",
        EVERY_MEMBER,
        [*BACKBONE_ONLY, "readiness/", f"organizations/{organization.slug}/edit/"],
    )

    visit(page, f"{NETWORK}/organizations/{organization.slug}/")
    assert page.get_by_role("heading", level=1).inner_text() == organization.name
