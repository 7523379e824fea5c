"""People served: create, edit, duplicates across organizations, merge with audit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backbone.core.access import Access
from backbone.core.models import AuditEvent
from backbone.referrals import people, selectors
from backbone.referrals.models import CareRelationship, Person, PersonMerge
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def partner_access(world, organization=None, role="org_admin"):
    organization = organization or world.organization
    user = f.UserFactory()
    f.NetworkRoleFactory(user=user, network=world.network, role=role, organization=organization)
    return Access(user=user, network=world.network, role=role, organization_id=organization.pk)


def test_person_create_sets_indexes_relationship_and_safe_audit(world):
    access = partner_access(world)
    person = people.person_create(
        access=access,
        given_name=" Ana ",
        family_name="Núñez",
        birth_date=datetime.date(1999, 7, 14),
        phone="555-0101",
    )
    person.refresh_from_db()
    assert (person.given_name, person.family_name, person.birth_date) == (
        "Ana",
        "Núñez",
        "1999-07-14",
    )
    assert person.birth_year == 1999
    assert person.birth_date_index == people.birth_date_index(datetime.date(1999, 7, 14))
    assert person.name_index == people.name_index("Nunez")
    assert CareRelationship.objects.get(person=person).organization == world.organization
    assert person.created_by_organization == world.organization
    events = AuditEvent.objects.filter(object_type="referrals.person", object_id=str(person.pk))
    assert events.count() == 1
    text = str(events.get().after)
    assert "Ana" not in text and "Núñez" not in text and "1999-07-14" not in text
    assert "555-0101" not in text


@pytest.mark.parametrize(
    ("given", "family", "birth", "field"),
    [
        ("", "Lee", datetime.date(2000, 1, 1), "given_name"),
        ("Kim", "  ", datetime.date(2000, 1, 1), "family_name"),
        ("Kim", "Lee", datetime.date(2999, 1, 1), "birth_date"),
        ("Kim", "Lee", None, "birth_date"),
    ],
)
def test_person_create_refuses_bad_input_and_writes_nothing(world, given, family, birth, field):
    access = partner_access(world)
    with pytest.raises(ValidationError) as error:
        people.person_create(access=access, given_name=given, family_name=family, birth_date=birth)
    assert field in error.value.message_dict
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(object_type="referrals.person").exists()


@pytest.mark.parametrize("role", ["network_admin", "funder", "viewer"])
def test_person_create_is_for_partner_staff_only(world, role):
    user = world.users[role]
    access = Access(user=user, network=world.network, role=role)
    with pytest.raises(PermissionDenied):
        people.person_create(
            access=access, given_name="A", family_name="B", birth_date=datetime.date(2000, 1, 1)
        )
    assert not Person.objects.exists()


def test_soundex_and_jaro_winkler():
    assert people.soundex("Robert") == people.soundex("Rupert") == "R163"
    assert people.soundex("Ashcraft") == "A261"
    assert people.soundex("Tymczak") == "T522"
    assert people.soundex("") == ""
    assert people.jaro_winkler("martha", "marhta") == pytest.approx(0.961, abs=0.001)
    assert people.jaro_winkler("dixon", "dicksonx") == pytest.approx(0.813, abs=0.001)
    assert people.jaro_winkler("abc", "abc") == 1.0
    assert people.jaro_winkler("abc", "") == 0.0


def test_find_duplicates_across_organizations_with_typos_swaps_and_transposed_dates(world):
    access_a = partner_access(world)
    access_b = partner_access(world, world.second_organization)
    born = datetime.date(2003, 5, 9)
    original = people.person_create(
        access=access_a, given_name="Jonathan", family_name="Smith", birth_date=born
    )
    people.person_create(  # same birthday, another person
        access=access_a, given_name="Priya", family_name="Raman", birth_date=born
    )
    found = people.find_duplicates(
        network=world.network, given_name="Jonathon", family_name="Smyth", birth_date=born
    )
    assert [p.pk for p, _ in found] == [original.pk]
    assert found[0][1] >= people.DUPLICATE_THRESHOLD
    swapped_names = people.find_duplicates(
        network=world.network, given_name="Smith", family_name="Jonathan", birth_date=born
    )
    assert [p.pk for p, _ in swapped_names] == [original.pk]
    transposed = people.find_duplicates(
        network=world.network,
        given_name="Jonathan",
        family_name="Smith",
        birth_date=datetime.date(2003, 9, 5),
    )
    assert [p.pk for p, _ in transposed] == [original.pk]
    assert transposed[0][1] < 1.0
    assert not people.find_duplicates(
        network=world.network,
        given_name="Jonathan",
        family_name="Smith",
        birth_date=datetime.date(2003, 5, 10),
    )
    assert not people.find_duplicates(
        network=world.other_network, given_name="Jonathan", family_name="Smith", birth_date=born
    )
    assert not people.find_duplicates(
        network=world.network,
        given_name="Jonathan",
        family_name="Smith",
        birth_date=born,
        exclude_pk=original.pk,
    )
    # Org B adding the same person sees the candidate exists; it is not visible to B.
    assert not selectors.may_see(access_b, original)


def test_person_merge_moves_rows_and_hides_the_merged_record(world):
    access = partner_access(world)
    kept = people.person_create(
        access=access, given_name="Lena", family_name="Ortiz", birth_date=datetime.date(1990, 2, 1)
    )
    merged = people.person_create(
        access=access,
        given_name="Lena",
        family_name="Ortis",
        birth_date=datetime.date(1990, 2, 1),
        phone="555-0199",
    )
    built = f.client_world(world, given_name="Other", family_name="Person")
    merge = people.person_merge(access=access, kept=kept, merged=merged, reason="Same person")
    merged.refresh_from_db()
    kept.refresh_from_db()
    assert merged.merged_into == kept
    assert kept.phone == "555-0199"
    assert merge.moved["filled_fields"] == ["phone"]
    assert merge.moved["care_relationships_dropped"]  # both held by org A
    assert merge.score > 0.9
    assert PersonMerge.objects.get().reason == "Same person"
    assert list(selectors.visible_people(access).filter(pk__in=[kept.pk, merged.pk])) == [kept]
    assert built["person"].merged_into is None
    for event in AuditEvent.objects.filter(object_type__startswith="referrals."):
        assert "Lena" not in str(event.before) + str(event.after)
        assert "Same person" not in str(event.after)


def test_person_merge_refuses_self_blank_reason_and_people_not_visible(world):
    access = partner_access(world)
    a = people.person_create(
        access=access, given_name="Lena", family_name="Ortiz", birth_date=datetime.date(1990, 2, 1)
    )
    access_b = partner_access(world, world.second_organization)
    b = people.person_create(
        access=access_b,
        given_name="Lena",
        family_name="Ortiz",
        birth_date=datetime.date(1990, 2, 1),
    )
    with pytest.raises(ValidationError):
        people.person_merge(access=access, kept=a, merged=a, reason="x")
    with pytest.raises(ValidationError):
        people.person_merge(access=access, kept=a, merged=b, reason=" ")
    with pytest.raises(PermissionDenied):
        people.person_merge(access=access, kept=a, merged=b, reason="Same")
    assert not PersonMerge.objects.exists()
    b.refresh_from_db()
    assert b.merged_into is None
