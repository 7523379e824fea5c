"""A realistic fictional network, built the same way every time from a fixed seed.

`seed(size)` is idempotent: every row has a natural key (slug, code, email) and is
created only when missing, so running it twice changes nothing. Benchmarks use the
`state` size. Later capabilities extend this generator.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker

from backbone.core.models import (
    Area,
    LifeStage,
    Membership,
    Network,
    NetworkRole,
    Organization,
    OrganizationIdentifier,
    Sector,
    User,
)
from backbone.demo import directory_seed, measurement_seed, referrals_seed
from backbone.governance.models import WorkingGroup
from backbone.partners import readiness
from backbone.partners.models import ProspectAssessment, ReadinessAssessment

SEED = 20261122
TODAY = datetime.date(2026, 11, 1)  # the demo's "now", fixed so the data never drifts
DEMO_DOMAIN = "demo.backbone.test"
DEMO_PASSWORD = "backbone-demo"
# A fixed TOTP secret so the printed login works on every machine (demo data only).
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass(frozen=True)
class Size:
    organizations: int
    counties: int
    cities_per_county: int
    zips_per_city: int
    tracts_per_zip: int
    people_per_org: int


SIZES = {
    "small": Size(40, 2, 3, 2, 2, 1),
    "medium": Size(300, 6, 4, 3, 3, 2),
    "state": Size(5000, 40, 5, 4, 3, 2),
    "neighbour": Size(10, 1, 2, 1, 1, 1),  # a second, small network beside the demo
}

DEMO_LOGINS = [
    ("network_admin", "admin", "Network admin (backbone staff)"),
    ("org_admin", "orgadmin", "Organization admin"),
    ("org_member", "member", "Organization member"),
    ("funder", "funder", "Funder"),
    ("viewer", "viewer", "Viewer"),
]

# The same stages as the cradle-to-career starter framework, which the seed loads.
LIFE_STAGES = [
    ("Early childhood", "Birth to kindergarten entry."),
    ("Elementary school", "Kindergarten through 5th grade."),
    ("Middle school", "Grades 6 to 8."),
    ("High school", "Grades 9 to 12."),
    ("Postsecondary", "College, university and career training after high school."),
    ("Career", "Young adults entering the workforce."),
]

WORKING_GROUPS = [
    (
        "Kindergarten Readiness Action Network",
        0,
        "Raise the share of children assessed ready for kindergarten, closing gaps by race and "
        "income. Meets monthly; decides the shared early-childhood measures.",
    ),
    (
        "Early Grade Reading Collaborative",
        1,
        "Every third grader reads on grade level. Coordinates summer learning and tutoring.",
    ),
    (
        "High School Success Team",
        1,
        "Ninth-grade on-track and on-time graduation, focused on chronic absence.",
    ),
    (
        "College Access and Completion",
        2,
        "FAFSA completion, college enrollment and first-year retention.",
    ),
    (
        "Career Pathways Council",
        3,
        "Employers and training providers aligning credentials with regional jobs.",
    ),
]

CITY_NAMES = [
    "Riverton",
    "Millbrook",
    "Fairhaven",
    "Cedar Falls",
    "Oak Ridge",
    "Stonebridge",
    "Brookside",
    "Maple Grove",
    "Ashford",
    "Lakeview",
    "Granite City",
    "Westport",
    "Elmwood",
    "Harborview",
    "Pine Bluff",
    "Clearwater",
    "Summit",
    "Bridgewater",
    "Northfield",
    "Southgate",
    "Kingsley",
    "Willow Creek",
    "Hillcrest",
    "Redfield",
]
COUNTY_NAMES = [
    "Harbor",
    "Mill",
    "Cedar",
    "Union",
    "Franklin",
    "Madison",
    "Jefferson",
    "Lincoln",
    "Washington",
    "Greene",
    "Monroe",
    "Clay",
    "Marion",
    "Warren",
    "Hamilton",
    "Jackson",
]
POPULATIONS = [
    "Children 0-5",
    "K-12 students",
    "English learners",
    "Students with disabilities",
    "Low-income families",
    "Black families",
    "Latino families",
    "Immigrant and refugee families",
    "Opportunity youth (16-24)",
    "First-generation college students",
    "Adults seeking work",
    "Families experiencing homelessness",
    "Rural families",
]
NONPROFIT_WORDS = (
    [
        "Bright",
        "Open",
        "New",
        "Rising",
        "Common",
        "Unity",
        "Pathways",
        "Harvest",
        "Beacon",
        "Kinship",
        "Cornerstone",
        "Hope",
        "Promise",
        "Northstar",
        "Good Shepherd",
        "Horizon",
    ],
    [
        "Futures",
        "Doors",
        "Roots",
        "Learning",
        "Families",
        "Youth",
        "Readers",
        "Mentors",
        "Bridges",
        "Table",
        "Neighbors",
        "Start",
        "Kids",
        "Scholars",
    ],
    [
        "Center",
        "Alliance",
        "Project",
        "Network",
        "Collaborative",
        "Initiative",
        "Coalition",
        "Services",
        "Foundation",
        "Partnership",
    ],
)


def _rng(slug: str) -> tuple[random.Random, Faker]:
    seed_value = SEED + sum(ord(ch) for ch in slug)
    rng = random.Random(seed_value)
    fake = Faker("en_US")
    fake.seed_instance(seed_value)
    return rng, fake


def _org_name(sector: str, rng: random.Random, fake: Faker, city: str, county: str) -> str:
    if sector == "school_district":
        return f"{city} {rng.choice(['Unified', 'Public', 'Community', 'City'])} School District"
    if sector == "higher_education":
        return rng.choice(
            [
                f"{city} Community College",
                f"{county} State University",
                f"{city} Technical Institute",
                f"{county} College",
            ]
        )
    if sector == "grantmaker":
        return rng.choice(
            [
                f"{fake.last_name()} Family Foundation",
                f"{county} Community Foundation",
                f"United Way of {county} County",
                f"{fake.last_name()} Fund for Children",
            ]
        )
    if sector == "public_agency":
        return rng.choice(
            [
                f"{county} County Department of Human Services",
                f"{city} Public Library",
                f"{county} County Workforce Board",
                f"{city} Housing Authority",
                f"{county} County Health Department",
            ]
        )
    if sector == "business":
        kind = rng.choice(
            ["Manufacturing", "Bank", "Health Systems", "Logistics", "Energy", "Software"]
        )
        return f"{fake.last_name()} {kind}"
    if sector == "health_care":
        return rng.choice(
            [
                f"{city} Family Health Center",
                f"{county} Children's Hospital",
                f"{city} Community Clinic",
            ]
        )
    if sector == "faith_based":
        return rng.choice(
            [
                f"{fake.last_name()} Street Church Outreach",
                f"{city} Interfaith Ministries",
                f"St. {fake.first_name()} Parish",
            ]
        )
    if sector == "community_group":
        return rng.choice(
            [
                f"{fake.street_name()} Neighbors Association",
                f"{city} Parent Leaders",
                f"{county} Youth Council",
            ]
        )
    words = NONPROFIT_WORDS
    return f"{rng.choice(words[0])} {rng.choice(words[1])} {rng.choice(words[2])}"


SECTOR_WEIGHTS = [
    ("nonprofit", 48),
    ("grantmaker", 6),
    ("public_agency", 8),
    ("school_district", 5),
    ("higher_education", 4),
    ("business", 10),
    ("community_group", 7),
    ("faith_based", 5),
    ("health_care", 5),
    ("other", 2),
]


def _slugify(text: str) -> str:
    from django.utils.text import slugify

    return slugify(text)[:100]


@transaction.atomic
def seed(
    size: str = "small",
    *,
    slug: str = "river-city",
    name: str | None = None,
    purpose: str | None = None,
    log=print,
) -> Network:
    spec = SIZES[size]
    rng, fake = _rng(slug)
    Sector.ensure_defaults()
    network, _ = Network.objects.get_or_create(
        slug=slug,
        defaults={
            "name": name or "River City Cradle to Career",
            "purpose": purpose
            or (
                "Every child in the River City region succeeds from cradle to career, and race, "
                "income and ZIP code no longer predict how far they go."
            ),
            "community_description": "A mid-sized region of cities, suburbs and farm towns along "
            "the river, where one child in five grows up in poverty.",
            "geography_description": "Harbor County and its neighbours in the state of Riverland",
            "equity_focus": "Black and Latino children\nLow-income families\nEnglish learners\n"
            "Rural families",
            "is_public": True,
        },
    )
    stages = []
    for position, (stage_name, description) in enumerate(LIFE_STAGES):
        stage, _ = LifeStage.objects.get_or_create(
            network=network,
            name=stage_name,
            defaults={"position": position, "description": description},
        )
        stages.append(stage)

    areas = _seed_areas(network, spec, rng)
    cities = [a for a in areas if a.kind == Area.Kind.CITY]
    counties = [a for a in areas if a.kind == Area.Kind.COUNTY]
    network.geography_served.add(*counties)

    organizations = _seed_organizations(network, spec, rng, fake, cities, counties, areas)
    people = _seed_people(network, spec, rng, fake, organizations)
    _seed_working_groups(network, rng, stages, organizations, people)
    _seed_framework(network, people[0])
    measurement_seed.seed_measurement(
        network, admin=people[0], organizations=organizations, areas=areas, log=log
    )
    _seed_assessments(network, rng, fake, organizations, people)
    directory_seed.seed_directory(network, size, log=log)
    referrals_seed.seed_referrals(network, size, log=log)
    log(
        f"Seeded {network.name}: {len(organizations)} organizations, {len(areas)} areas, "
        f"{len(people)} people."
    )
    return network


def _seed_areas(network, spec: Size, rng) -> list[Area]:
    wanted: list[tuple[str, str, str, str | None, int]] = [
        ("RL", "Riverland", "state", None, 6_100_000)
    ]
    city_names = iter(CITY_NAMES * (1 + spec.counties * spec.cities_per_county // len(CITY_NAMES)))
    zip_code = 60100
    for c in range(spec.counties):
        county_name = COUNTY_NAMES[c % len(COUNTY_NAMES)] + (
            "" if c < len(COUNTY_NAMES) else f" {c // len(COUNTY_NAMES) + 1}"
        )
        county_code = f"RL-{c * 2 + 1:03d}"
        wanted.append(
            (county_code, f"{county_name} County", "county", "RL", rng.randint(40_000, 900_000))
        )
        for i in range(spec.cities_per_county):
            city = next(city_names)
            city_label = city if c < 2 else f"{city} ({county_name})"
            city_code = f"{county_code}-C{i + 1:02d}"
            wanted.append((city_code, city_label, "city", county_code, rng.randint(5_000, 250_000)))
            for _ in range(spec.zips_per_city):
                zip_code += rng.randint(1, 7)
                wanted.append(
                    (str(zip_code), f"ZIP {zip_code}", "zip", city_code, rng.randint(3_000, 40_000))
                )
                for t in range(spec.tracts_per_zip):
                    tract = f"{county_code[3:]}{zip_code % 1000:03d}{t + 1:02d}00"
                    wanted.append(
                        (
                            f"T{tract}",
                            f"Census tract {tract}",
                            "tract",
                            str(zip_code),
                            rng.randint(1_200, 8_000),
                        )
                    )
    existing = {a.code: a for a in Area.objects.filter(network=network)}
    for code, area_name, kind, parent, population in wanted:
        if code not in existing:
            existing[code] = Area(
                network=network,
                code=code,
                name=area_name,
                kind=kind,
                parent=existing.get(parent) if parent else None,
                population=population,
            )
            existing[code].save()
    return [existing[w[0]] for w in wanted]


def _seed_organizations(network, spec, rng, fake, cities, counties, areas):
    sectors = {s.code: s for s in Sector.objects.all()}
    codes, weights = zip(*SECTOR_WEIGHTS, strict=True)
    zips = [a for a in areas if a.kind == Area.Kind.ZIP]
    specs = []
    used = set(Organization.objects.values_list("slug", flat=True))
    seen_names = set()
    for i in range(spec.organizations):
        # The first organizations cover every sector once; the rest follow the weights.
        sector = codes[(i + 1) % len(codes)] if i < len(codes) else rng.choices(codes, weights)[0]
        if i in (0, 1):
            sector = ("grantmaker", "nonprofit")[i]
        city, county = rng.choice(cities), rng.choice(counties)
        org_name = _org_name(
            sector, rng, fake, city.name.split(" (")[0], county.name.replace(" County", "")
        )
        if i == 1:
            org_name = "River City Promise Partnership"  # the backbone organization
        while org_name in seen_names:
            org_name = f"{org_name} of {rng.choice(cities).name.split(' (')[0]}"
        seen_names.add(org_name)
        base = _slugify(org_name)
        slug = base
        if slug in used and not Organization.objects.filter(slug=slug, name=org_name).exists():
            slug = f"{base}-{i}"
        specs.append((i, sector, org_name, slug, city, county))
    existing = {o.slug: o for o in Organization.objects.filter(slug__in=[s[3] for s in specs])}
    new = []
    for _i, sector, org_name, slug, city, _county in specs:
        if slug in existing:
            continue
        org = Organization(
            name=org_name,
            slug=slug,
            mission=_mission(sector, rng, city.name.split(" (")[0]),
            website=f"https://{slug[:40]}.example.org",
            email=f"info@{slug[:40]}.example.org",
            phone=f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            street_address=fake.street_address(),
            city=city.name.split(" (")[0],
            state="RL",
            postal_code=str(rng.randint(60100, 69999)),
            populations_served="\n".join(rng.sample(POPULATIONS, rng.randint(1, 4))),
            size=rng.choice(Organization.Size.values),
        )
        new.append(org)
        existing[slug] = org
    Organization.objects.bulk_create(new, batch_size=1000)
    if new:
        created = {o.slug: o for o in Organization.objects.filter(slug__in=[o.slug for o in new])}
        existing.update(created)
        through_sectors, through_areas, identifiers, memberships = [], [], [], []
        today = TODAY
        for i, sector, _name, slug, city, county in specs:
            org = created.get(slug)
            if org is None:
                continue
            org_sectors = {sector}
            if sector == "nonprofit" and rng.random() < 0.15:
                org_sectors.add("community_group")
            for code in org_sectors:
                through_sectors.append(
                    Organization.sectors.through(organization_id=org.pk, sector_id=sectors[code].pk)
                )
            served = {county.pk, city.pk, *[z.pk for z in rng.sample(zips, min(2, len(zips)))]}
            for area_id in served:
                through_areas.append(
                    Organization.areas_served.through(organization_id=org.pk, area_id=area_id)
                )
            if sector in (
                "nonprofit",
                "grantmaker",
                "faith_based",
                "community_group",
                "health_care",
            ):
                identifiers.append(
                    OrganizationIdentifier(
                        organization=org, scheme="ein", value=f"{80 + i % 19:02d}-{1000000 + i:07d}"
                    )
                )
            elif sector == "school_district":
                identifiers.append(
                    OrganizationIdentifier(
                        organization=org, scheme="nces", value=f"RL{3100000 + i}"
                    )
                )
            status, role = _membership_for(i, sector, rng)
            joined = None
            if status in ("active", "inactive"):
                joined = today - datetime.timedelta(days=rng.randint(20, 6 * 365))
            memberships.append(
                Membership(
                    network=network,
                    organization=org,
                    status=status,
                    role=role,
                    joined_on=joined,
                    left_on=(
                        joined + datetime.timedelta(days=rng.randint(90, 700))
                        if status == "inactive"
                        else None
                    ),
                    data_sharing_signed_on=(
                        joined + datetime.timedelta(days=rng.randint(0, 60))
                        if status == "active" and rng.random() < 0.6
                        else None
                    ),
                )
            )
        Organization.sectors.through.objects.bulk_create(
            through_sectors, batch_size=2000, ignore_conflicts=True
        )
        Organization.areas_served.through.objects.bulk_create(
            through_areas, batch_size=2000, ignore_conflicts=True
        )
        OrganizationIdentifier.objects.bulk_create(
            identifiers, batch_size=2000, ignore_conflicts=True
        )
        Membership.objects.bulk_create(memberships, batch_size=2000, ignore_conflicts=True)
    return [existing[s[3]] for s in specs]


def _membership_for(i: int, sector: str, rng) -> tuple[str, str]:
    if i == 1:
        return "active", "backbone"
    if i in (0, 2):
        return "active", "funder" if sector == "grantmaker" else "partner"
    roll = rng.random()
    status = (
        "active"
        if roll < 0.68
        else "invited"
        if roll < 0.78
        else "prospect"
        if roll < 0.92
        else "inactive"
    )
    role = (
        "funder"
        if sector == "grantmaker"
        else (
            "advisor"
            if sector in ("business", "higher_education") and rng.random() < 0.3
            else "partner"
        )
    )
    return status, role


def _mission(sector: str, rng, city: str) -> str:
    missions = {
        "nonprofit": [
            f"Tutoring and mentoring for students in {city}.",
            f"High-quality early learning for infants and toddlers in {city}.",
            "College advising and FAFSA help for first-generation students.",
            "Job training and placement for young adults.",
            "Family resource center: food, housing help and parenting classes.",
        ],
        "grantmaker": [
            "Invests in children and families across the region.",
            "Grants for early learning and education equity.",
        ],
        "public_agency": ["Public services for families and residents of the county."],
        "school_district": [f"Public schools serving the children of {city}."],
        "higher_education": ["Degrees and credentials that lead to regional careers."],
        "business": ["Regional employer offering internships and apprenticeships."],
        "health_care": ["Primary care, well-child visits and developmental screening."],
        "faith_based": ["Congregation-based food pantry, tutoring and family support."],
        "community_group": ["Residents organizing for better schools and safer streets."],
        "other": ["Works with partners on shared goals for children and youth."],
    }
    return rng.choice(missions[sector])


def _seed_people(network, spec, rng, fake, organizations) -> list[User]:
    password = make_password(DEMO_PASSWORD)
    memberships = {m.organization_id: m for m in Membership.objects.filter(network=network)}
    backbone_org = organizations[1]
    first_partner = organizations[2]
    funder_org = organizations[0]
    wanted: list[tuple[str, str, str, Organization | None]] = []
    prefix = "" if network.slug == "river-city" else f"{network.slug}."
    for role, local, _label in DEMO_LOGINS:
        org = {
            "network_admin": backbone_org,
            "org_admin": first_partner,
            "org_member": first_partner,
            "funder": funder_org,
        }.get(role)
        wanted.append((f"{prefix}{local}@{DEMO_DOMAIN}", fake.name(), role, org))
    for n, org in enumerate(organizations):
        membership = memberships.get(org.pk)
        if membership is None or membership.status not in ("active", "invited"):
            continue
        for k in range(spec.people_per_org):
            role = "org_admin" if k == 0 else "org_member"
            if membership.role == "funder":
                role = "funder"
            wanted.append((f"{prefix}person{n}-{k}@{DEMO_DOMAIN}", fake.name(), role, org))
    existing = {u.email: u for u in User.objects.filter(email__in=[w[0] for w in wanted])}
    User.objects.bulk_create(
        [
            User(email=email, full_name=full_name, password=password)
            for email, full_name, _role, _org in wanted
            if email not in existing
        ],
        batch_size=2000,
    )
    users = {u.email: u for u in User.objects.filter(email__in=[w[0] for w in wanted])}
    NetworkRole.objects.bulk_create(
        [
            NetworkRole(
                user=users[email],
                network=network,
                role=role,
                organization=org if role in ("org_admin", "org_member", "funder") else None,
            )
            for email, _n, role, org in wanted
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    admin = users[f"{prefix}admin@{DEMO_DOMAIN}"]
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(admin, DEMO_TOTP_SECRET)
    return [users[w[0]] for w in wanted]


def _seed_working_groups(network, rng, stages, organizations, people) -> None:
    memberships = {m.organization_id: m.status for m in Membership.objects.filter(network=network)}
    active = [o for o in organizations if memberships.get(o.pk) == "active"]
    for name, stage_index, charter in WORKING_GROUPS:
        group, created = WorkingGroup.objects.get_or_create(
            network=network,
            name=name,
            defaults={"charter": charter, "life_stage": stages[stage_index]},
        )
        if created:
            members = rng.sample(active, min(len(active), rng.randint(4, 9)))
            group.organizations.set(members)
            in_members = set(
                NetworkRole.objects.filter(network=network, organization__in=members).values_list(
                    "user_id", flat=True
                )
            )
            member_people = [p for p in people[5:] if p.pk in in_members][:8]
            group.people.set(member_people)
            group.chair = member_people[0] if member_people else None
            group.save(update_fields=["chair"])


def _seed_assessments(network, rng, fake, organizations, people) -> None:
    if ProspectAssessment.objects.filter(network=network).exists():
        return
    admin = people[0]
    statuses = {m.organization_id: m.status for m in Membership.objects.filter(network=network)}
    prospects, readiness_rows = [], []
    for org in organizations:
        status = statuses.get(org.pk)
        if status in ("prospect", "invited"):
            prospects.append(
                ProspectAssessment(
                    network=network,
                    organization=org,
                    influence=rng.randint(1, 5),
                    alignment=rng.randint(1, 5),
                    capacity=rng.randint(1, 5),
                    reach=rng.randint(1, 5),
                    notes=rng.choice(
                        [
                            "Met with the executive director; interested in data sharing.",
                            "Strong reach into Latino families; limited staff time.",
                            "Board chair sits on the county workforce board.",
                            "Introduced by the community foundation.",
                        ]
                    ),
                    assessed_by=admin,
                    assessed_on=TODAY - datetime.timedelta(days=rng.randint(1, 300)),
                )
            )
        elif status == "active" and rng.random() < 0.35:
            answers = {q: rng.choice([0, 1, 2, 2, 3, 3]) for q in readiness.QUESTION_CODES}
            score, level = readiness.score(answers)
            readiness_rows.append(
                ReadinessAssessment(
                    network=network,
                    organization=org,
                    answers=answers,
                    score=score,
                    level=level,
                    submitted_by=admin,
                )
            )
    ProspectAssessment.objects.bulk_create(prospects, batch_size=2000)
    ReadinessAssessment.objects.bulk_create(readiness_rows, batch_size=2000)


def _seed_framework(network, admin) -> None:
    """The cradle-to-career starter framework, imported as a network admin would."""
    from backbone.core.access import NETWORK_ADMIN, Access
    from backbone.measurement.framework_file import framework_import, template_path
    from backbone.measurement.models import Indicator

    # Only once: importing the template again would reset the demo's baselines.
    if Indicator.objects.filter(network=network).exists():
        return
    access = Access(user=admin, network=network, role=NETWORK_ADMIN)
    report = framework_import(access=access, text=template_path("cradle-to-career").read_text())
    if report.errors:
        raise RuntimeError(f"The starter framework did not import: {report.errors[:3]}")
