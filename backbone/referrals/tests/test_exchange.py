"""The de-identified referral export: what it holds, who may have it, stable keys."""

import csv
import datetime
import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from backbone.core.access import Access
from backbone.core.models import Area, AuditEvent
from backbone.directory.models import DirectoryOrganization, Service
from backbone.measurement.models import Category, Dimension, Framework
from backbone.referrals import exchange
from backbone.referrals.exchange.export import SUPPRESSED
from backbone.referrals.models import CareRelationship, Consent, Person, Referral
from backbone.referrals.people import person_indexes
from backbone.testing import factories as f

GENDERS = ["female", "male", "another-gender", "not-reported"]
INCOMES = ["below-100-fpl", "100-199-fpl", "200-plus-fpl"]


def exchange_world(world, *, people=12, k=3):
    """Areas (a county, a city in it), two demographic dimensions, a service of the second
    organization, and PEOPLE people recorded by the first with a referral each; the first
    ten share one quasi-identifier group, the others are alone in theirs."""
    network = world.network
    Framework.objects.update_or_create(network=network, defaults={"suppression_k": k})
    county = Area.objects.create(
        network=network, code="RL-001", name="Harbor County", kind="county"
    )
    city = Area.objects.create(
        network=network, code="RL-001-C01", name="Riverton", kind="city", parent=county
    )
    for position, (code, categories) in enumerate((("gender", GENDERS), ("income-band", INCOMES))):
        dimension = Dimension.objects.create(
            network=network, code=code, name=code.title(), position=position
        )
        Category.objects.bulk_create(
            Category(network=network, dimension=dimension, code=c, name=c, position=n)
            for n, c in enumerate(categories)
        )
    listing = DirectoryOrganization.objects.create(
        network=network,
        hsds_id=uuid.uuid4(),
        name="Second partner",
        organization=world.second_organization,
    )
    service = Service.objects.create(
        network=network, hsds_id=uuid.uuid4(), organization=listing, name="FAFSA Completion Help"
    )
    made = []
    now = timezone.now()
    for n in range(people):
        birth = datetime.date(2008, 3, 1 + n)
        person = Person.objects.create(
            network=network,
            given_name=f"Zelda{n}",
            family_name=f"Quillfeather{n}",
            birth_date=birth.isoformat(),
            phone=f"555-01{n:02d}",
            email=f"zelda{n}@example.org",
            street_address=f"{n} Secret Lane",
            demographics={"gender": "female", "income-band": INCOMES[0 if n < 10 else n % 3]},
            area=city if n < 10 else county,
            created_by_organization=world.organization,
            **person_indexes(family_name=f"Quillfeather{n}", birth_date=birth),
        )
        CareRelationship.objects.create(
            network=network, person=person, organization=world.organization, source="recorded"
        )
        consent = Consent.objects.create(
            network=network,
            person=person,
            disclosing_organization=world.organization,
            recipients="treating",
            information=["identity", "referrals"],
            purpose="referral",
            expires_on=timezone.localdate() + datetime.timedelta(days=300),
            signature="paper",
            signed_by=f"Zelda{n} Quillfeather{n}",
        )
        referral = Referral.objects.create(
            network=network,
            person=person,
            consent=consent,
            from_organization=world.organization,
            to_organization=world.second_organization,
            to_service=service,
            status="declined" if n % 2 else "sent",
            decline_reason="no_capacity" if n % 2 else "",
            reason=f"Confidential reason {n}",
            sent_at=now - datetime.timedelta(days=10, hours=n),
            respond_by=now,
            responded_at=now - datetime.timedelta(days=2) if n % 2 else None,
        )
        made.append((person, referral))
    return {"service": service, "made": made, "county": county, "city": city}


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def export_text(client, world) -> tuple[int, str]:
    response = client.get(reverse("referrals:export", args=[world.network.slug]))
    if response.status_code != 200:
        return response.status_code, ""
    return 200, b"".join(response.streaming_content).decode()


@pytest.mark.django_db
def test_export_has_no_identifying_data(world, client_for):
    data = exchange_world(world)
    status, text = export_text(client_for("network_admin"), world)
    assert status == 200
    for n in range(12):
        for secret in (f"Zelda{n}", f"Quillfeather{n}", f"555-01{n:02d}", f"zelda{n}@example"):
            assert secret not in text
        assert f"{n} Secret Lane" not in text
        assert f"Confidential reason {n}" not in text
        assert datetime.date(2008, 3, 1 + n).isoformat() not in text
    assert "enc1:" not in text
    rows = read_csv(text)
    assert len(rows) == 12
    assert set(rows[0]) >= {"person_key", "birth_year_band", "county", "gender", "income-band"}
    first = rows[0]
    assert first["birth_year_band"] == "2005-2009"
    assert first["county"] == "RL-001"  # the city's county, not the city
    assert first["gender"] == "female"
    assert first["service"] == str(data["service"].hsds_id)
    assert first["from_organization"] == world.organization.slug
    assert first["to_organization"] == world.second_organization.slug
    assert len(first["sent_on"]) == 10  # a day, no time
    declined = [row for row in rows if row["status"] == "declined"]
    assert {row["decline_reason"] for row in declined} == {"no_capacity"}
    assert str(data["made"][0][0].pk) not in {row["person_key"] for row in rows}
    assert AuditEvent.objects.filter(
        network=world.network, object_id="referrals-export", actor=world.users["network_admin"]
    ).exists()


@pytest.mark.django_db
def test_small_groups_are_coarsened(world, client_for):
    exchange_world(world, k=3)
    _, text = export_text(client_for("network_admin"), world)
    rows = read_csv(text)
    # Ten people share (2005-2009, RL-001, female, below-100-fpl): released as they are.
    shared = [r for r in rows if r["income-band"] == "below-100-fpl"]
    assert len(shared) == 10
    # The other two are alone in their group: demographics withheld; band and county
    # together are shared by all twelve, so they stay.
    alone = [r for r in rows if r["income-band"] == SUPPRESSED]
    assert len(alone) == 2
    assert {r["gender"] for r in alone} == {SUPPRESSED}
    assert {r["county"] for r in alone} == {"RL-001"}


@pytest.mark.django_db
def test_tiny_groups_lose_band_and_county(world, client_for):
    exchange_world(world, people=2, k=3)
    _, text = export_text(client_for("network_admin"), world)
    rows = read_csv(text)
    assert {r["birth_year_band"] for r in rows} == {SUPPRESSED}
    assert {r["county"] for r in rows} == {SUPPRESSED}


@pytest.mark.django_db
def test_person_key_is_stable_and_differs_across_networks_and_audiences(world, client_for):
    exchange_world(world)
    client = client_for("network_admin")
    first = read_csv(export_text(client, world)[1])
    second = read_csv(export_text(client, world)[1])
    assert [r["person_key"] for r in first] == [r["person_key"] for r in second]
    assert [r["referral_key"] for r in first] == [r["referral_key"] for r in second]
    assert len({r["person_key"] for r in first}) == 12
    person_id = Referral.objects.order_by("pk").first().person_id
    here = exchange.pseudonym(world.network.pk, "person", person_id)
    elsewhere = exchange.pseudonym(world.other_network.pk, "person", person_id)
    assert here == first[0]["person_key"]
    assert here != elsewhere
    # An organization admin's file uses its own keys: it cannot be joined to the evaluator's.
    own = read_csv(export_text(client_for("org_admin"), world)[1])
    assert len(own) == 12
    assert not {r["person_key"] for r in own} & {r["person_key"] for r in first}


@pytest.mark.django_db
def test_org_admin_exports_only_own_referrals(world, client_for):
    exchange_world(world, people=3)
    third = f.MembershipFactory(network=world.network).organization
    admin = f.UserFactory()
    f.NetworkRoleFactory(user=admin, network=world.network, role="org_admin", organization=third)
    client = client_for(None)
    client.force_login(admin)
    status, text = export_text(client, world)
    assert status == 200
    assert read_csv(text) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [("org_member", 403), ("funder", 403), ("viewer", 403), ("outsider", 404)],
)
def test_export_refused_to_other_roles(world, client_for, role, status):
    exchange_world(world, people=1)
    got, text = export_text(client_for(role), world)
    assert got == status
    assert not AuditEvent.objects.filter(object_id="referrals-export").exists()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(world, client):
    world.network.is_public = True
    world.network.save()
    response = client.get(reverse("referrals:export", args=[world.network.slug]))
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.django_db
def test_other_network_admin_sees_none_of_this_network(world, client_for):
    exchange_world(world, people=2)
    client = client_for("outsider")
    response = client.get(reverse("referrals:export", args=[world.other_network.slug]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert read_csv(text) == []


@pytest.mark.django_db
def test_command_export_writes_the_file(world, tmp_path):
    exchange_world(world, people=4)
    path = tmp_path / "export.csv"
    count = exchange.export_referrals(world.network, path)
    assert count == 4
    rows = read_csv(path.read_text())
    assert len(rows) == 4
    assert "Zelda" not in path.read_text()


def org_admin_access(world) -> Access:
    return Access(
        user=world.users["org_admin"],
        network=world.network,
        role="org_admin",
        organization_id=world.organization.pk,
    )
