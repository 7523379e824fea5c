"""The framework navigation: built elements a role may not open are marked as such, not
as "not yet"; element pages list only the pages the reader may open."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def nav_entry(html: str, name: str) -> str:
    """The side navigation's entry for the element NAME (its link and tag)."""
    start = html.index('<nav class="sidenav"')
    nav = html[start : html.index("</nav>", start)]
    match = re.search(rf"{re.escape(name)}\s*<span class=\"tag\">([^<]*)</span>", nav)
    return match.group(1) if match else ""


def test_the_public_sees_service_coordination_as_for_members_not_as_not_yet(world, client_for):
    world.network.is_public = True
    world.network.save()
    home = reverse("framework:network-home", args=[world.network.slug])
    public = client_for(None).get(home).content.decode()
    assert nav_entry(public, "Service coordination") == "for members"
    assert nav_entry(public, "Relationship map") == "not yet"  # not built
    viewer = client_for("viewer").get(home).content.decode()
    assert nav_entry(viewer, "Service coordination") != "not yet"
    member = client_for("org_member").get(home).content.decode()
    assert nav_entry(member, "Service coordination") == ""  # its pages are listed
    assert reverse("referrals:inbox", args=[world.network.slug]) in member


def test_an_element_page_lists_only_the_pages_the_reader_may_open(world, client_for):
    world.network.is_public = True
    world.network.save()
    url = reverse("framework:element", args=[world.network.slug, "referrals"])
    public = client_for(None).get(url).content.decode()
    assert reverse("referrals:inbox", args=[world.network.slug]) not in public
    assert "sign in</a> to use it" in public
    member = client_for("org_member").get(url).content.decode()
    assert reverse("referrals:inbox", args=[world.network.slug]) in member
    assert "sign in</a> to use it" not in member
    admin = client_for("org_admin").get(url).content.decode()
    assert reverse("referrals:export", args=[world.network.slug]) in admin
    assert reverse("referrals:export", args=[world.network.slug]) not in member
