"""The people pages: list and search, add with duplicate warnings, edit, detail, merge."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from backbone.measurement.models import Category, Dimension
from backbone.referrals import people
from backbone.referrals.models import Person, PersonAccess, PersonMerge
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def url(world, name, *args):
    return reverse(f"referrals:{name}", args=[world.network.slug, *args])


def b_client(world):
    user = f.UserFactory(email="b@river.example")
    f.NetworkRoleFactory(
        user=user, network=world.network, role="org_admin", organization=world.second_organization
    )
    client = Client()
    client.force_login(user)
    return client


def demographics(world):
    race = Dimension.objects.create(network=world.network, code="race", name="Race/ethnicity")
    Category.objects.create(network=world.network, dimension=race, code="latino", name="Latino")
    Category.objects.create(network=world.network, dimension=race, code="black", name="Black")
    return race


FORM = {
    "given_name": "Ana",
    "family_name": "Nuñez",
    "birth_date": "2004-05-17",
    "phone": "555-0100",
    "email": "",
    "street_address": "",
    "preferred_language": "es",
}


def test_add_a_person_with_demographics(world, client_for):
    demographics(world)
    client = client_for("org_member")
    response = client.post(url(world, "person-add"), {**FORM, "demographic_race": "latino"})
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.demographics == {"race": "latino"}
    assert person.family_name == "Nuñez" and person.preferred_language == "es"
    page = client.get(response["Location"]).content.decode()
    assert "Race/ethnicity" in page and "Latino" in page


def test_add_refuses_bad_input_and_writes_nothing(world, client_for):
    demographics(world)
    client = client_for("org_member")
    bad = {**FORM, "birth_date": "2999-01-01", "demographic_race": "martian"}
    response = client.post(url(world, "person-add"), bad)
    assert response.status_code == 400
    assert "demographic_race" in response.context["form"].errors
    response = client.post(url(world, "person-add"), {**FORM, "birth_date": "2999-01-01"})
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert not Person.objects.exists()


def test_add_warns_of_a_duplicate_the_organization_may_see_then_adds_on_confirmation(
    world, client_for
):
    client = client_for("org_member")
    assert client.post(url(world, "person-add"), FORM).status_code == 302
    again = client.post(url(world, "person-add"), {**FORM, "given_name": "Anna"})
    assert again.status_code == 400
    text = again.content.decode()
    assert "This may be the same person as" in text and "Ana Nuñez" in text
    assert Person.objects.count() == 1
    confirmed = client.post(
        url(world, "person-add"), {**FORM, "given_name": "Anna", "confirmed": "1"}
    )
    assert confirmed.status_code == 302
    assert Person.objects.count() == 2


def test_a_duplicate_held_by_another_organization_is_counted_not_named(world, client_for):
    assert client_for("org_member").post(url(world, "person-add"), FORM).status_code == 302
    client = b_client(world)
    response = client.post(url(world, "person-add"), {**FORM, "family_name": "Nunez"})
    text = response.content.decode()
    assert response.status_code == 400
    assert "1 record with a similar name and the same date of birth is held by another" in text
    assert "Nuñez" not in text.split("<form")[0]  # not named in the warning
    assert world.organization.name not in text


def test_list_shows_only_visible_people_and_records_each_read(world, client_for):
    built = f.client_world(world)
    b = b_client(world)
    people.person_create(
        access=built["access_a"],
        given_name="Hidden",
        family_name="Person",
        birth_date=datetime.date(1980, 1, 1),
    )
    text = b.get(url(world, "person-list")).content.decode()
    assert "Quintero" in text and "Hidden" not in text
    text = client_for("org_admin").get(url(world, "person-list")).content.decode()
    assert "Quintero" in text and "Hidden" in text
    assert PersonAccess.objects.filter(route="referrals:person-list").count() == 3


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Quintero", True),
        ("quintera", True),  # sounds alike: the blind index of the family name's sound
        ("Maria", True),  # a given name: small lists are decrypted and matched
        ("quin", True),
        ("2001-04-03", True),  # date of birth through its blind index
        ("2001-04-04", False),
        ("Jones", False),
    ],
)
def test_search_by_name_despite_encryption(world, client_for, query, found):
    f.client_world(world)
    response = client_for("org_admin").get(url(world, "person-list"), {"q": query})
    assert ("Quintero" in response.content.decode()) is found


def test_search_through_the_index_alone_when_the_list_is_large(world, settings, monkeypatch):
    from backbone.core.access import access_for
    from backbone.referrals import selectors

    built = f.client_world(world)
    monkeypatch.setattr(selectors, "SEARCH_SCAN_LIMIT", 0)
    access = access_for(world.users["org_admin"], world.network)
    assert selectors.search_people(access, "Quintera") == [built["person"]]
    assert selectors.search_people(access, "Maria") == []  # given names need the scan


def test_edit_updates_the_indexes(world, client_for):
    built = f.client_world(world)
    client = client_for("org_admin")
    data = {**FORM, "given_name": "Maria", "family_name": "Castillo", "birth_date": "2001-04-03"}
    assert client.post(url(world, "person-edit", built["person"].pk), data).status_code == 302
    person = Person.objects.get(pk=built["person"].pk)
    assert person.family_name == "Castillo"
    assert person.name_index == people.name_index("Castillo")


def test_detail_shows_consents_relationships_referrals_and_milestones(world, client_for):
    built = f.client_world(world)
    text = client_for("org_admin").get(url(world, "person-detail", built["person"].pk))
    text = text.content.decode()
    for expected in (
        "Maria Quintero",
        "555-0134",
        world.second_organization.name,  # the consent's recipient and the referral's receiver
        "Tutoring",
        "Enrolled in college",
        "in force",
        "Access log",
    ):
        assert expected in text, expected


def test_merge_page_merges_a_visible_duplicate(world, client_for):
    built = f.client_world(world)
    twin = people.person_create(
        access=built["access_a"],
        given_name="María",
        family_name="Quintero",
        birth_date=datetime.date(2001, 4, 3),
    )
    client = client_for("org_admin")
    merge_url = url(world, "person-merge", built["person"].pk)
    page = client.get(merge_url)
    assert f"Record {twin.pk}" in page.content.decode()
    refused = client.post(merge_url, {"merged": twin.pk, "reason": ""})
    assert refused.status_code == 400 and not PersonMerge.objects.exists()
    assert client.post(merge_url, {"merged": twin.pk, "reason": "Same DOB"}).status_code == 302
    assert PersonMerge.objects.get().merged == twin
    # The merged record leaves the list; its address leads to the kept record.
    listing = client.get(url(world, "person-list")).content.decode()
    assert f"people-served/{twin.pk}/" not in listing
    old = client.get(url(world, "person-detail", twin.pk))
    assert old.status_code == 302 and old["Location"].endswith(f"/{built['person'].pk}/")


def test_merge_refuses_a_record_the_organization_may_not_see(world, client_for):
    built = f.client_world(world)
    other = people.person_create(
        access=built["access_a"],
        given_name="Maria",
        family_name="Quintero",
        birth_date=datetime.date(2001, 4, 3),
    )
    # Org B reads built["person"] under consent but does not serve them, and may not see
    # `other`: it merges neither.
    response = b_client(world).post(
        url(world, "person-merge", built["person"].pk), {"merged": other.pk, "reason": "x"}
    )
    assert response.status_code == 403
    assert not PersonMerge.objects.exists()


def test_outsider_gets_404_everywhere(world, client_for):
    built = f.client_world(world)
    client = client_for("outsider")
    for name, args in (
        ("person-list", []),
        ("person-add", []),
        ("person-detail", [built["person"].pk]),
        ("consent-revoke", [built["consent"].pk]),
    ):
        assert client.get(url(world, name, *args)).status_code == 404, name
