"""The demo network's service directory (HSDS 3.0), gap-map settings and designed pathways.

Built from a fixed seed with bulk inserts. Every HSDS id is a uuid5 of the network's slug,
the table and an index, so running it twice changes nothing (rows that exist are left
alone). Gaps and redundancy are there by design:

- gaps: the second county has almost no mental-health or transportation services, and
  the first county's last city almost no housing help;
- redundancy: in the first city, five providers run tutoring for K-12 students in
  elementary school, and four run FAFSA help for first-generation students.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backbone.core.access import NETWORK_ADMIN, Access
from backbone.core.models import Area, LifeStage, Membership, NetworkRole, Organization
from backbone.demo.directory_catalogue import (
    AGES,
    CA,
    CATALOGUE,
    CATALOGUE_INDEX,
    DESIGNED,
    EC,
    ES,
    FOCUS,
    GAP_CATEGORIES,
    HS,
    LANGUAGES,
    MS,
    NEED_INDICATORS,
    OTHER_PROVIDERS,
    PROVIDER_SECTORS,
    PS,
    SCHEDULES,
    STREETS,
    THIN_HOUSING,
)
from backbone.directory import models as d
from backbone.directory.taxonomy import TAXONOMY_ID
from backbone.ecosystem.models import NeedIndicator, Pathway, PathwayEdge, PathwayStep
from backbone.measurement.models import Indicator

NAMESPACE = uuid.UUID("3c4b8f0e-57a2-4d7e-9d8c-2a6f1b0e9c41")
SERVICES = {"small": 300, "medium": 3000, "state": 25000, "neighbour": 40}
SEED = 4242
UPDATED = datetime.datetime(2026, 10, 28, 9, 0, tzinfo=datetime.UTC)


def _focus(partner, name: str, rng, codes: list[str]) -> set[str]:
    """The need categories a provider offers: by its sector or its kind, else a few."""
    if partner is not None:
        sectors = [s.code for s in partner.sectors.all() if s.code in FOCUS]
        if sectors:
            return set(FOCUS[sectors[0]])
    for kind, focus in FOCUS.items():
        if kind in name:
            return set(focus)
    return set(rng.sample(codes, rng.randint(2, 4)))


def _phone(rng) -> str:
    return f"555-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"


def _id(slug: str, table: str, index) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{slug}:{table}:{index}")


@dataclass
class _Spec:
    model: type
    hsds_id: uuid.UUID
    fields: dict


@dataclass
class _Place:
    area: Area  # a city
    county: Area
    zips: list[Area]
    lat: float
    lon: float


def _places(network, rng) -> list[_Place]:
    areas = list(Area.objects.filter(network=network))
    by_parent: dict[int, list[Area]] = {}
    for area in areas:
        by_parent.setdefault(area.parent_id, []).append(area)
    counties = sorted((a for a in areas if a.kind == Area.Kind.COUNTY), key=lambda a: a.code)
    places = []
    for c, county in enumerate(counties):
        # Riverland: a fictional state drawn inside 39.5–43.5° N, 86–93° W.
        lat0, lon0 = 39.8 + (c // 8) * 0.7, -92.6 + (c % 8) * 0.8
        cities = sorted(
            (a for a in by_parent.get(county.pk, []) if a.kind == Area.Kind.CITY),
            key=lambda a: a.code,
        )
        for city in cities:
            zips = sorted(
                (a for a in by_parent.get(city.pk, []) if a.kind == Area.Kind.ZIP),
                key=lambda a: a.code,
            )
            places.append(
                _Place(
                    city,
                    county,
                    zips,
                    lat0 + rng.uniform(0.05, 0.55),
                    lon0 + rng.uniform(0.05, 0.65),
                )
            )
    return places


def _admin_access(network) -> Access | None:
    role = (
        NetworkRole.objects.filter(network=network, role=NETWORK_ADMIN)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return Access(user=role.user, network=network, role=NETWORK_ADMIN) if role else None


def _install_taxonomy(network, access) -> dict[str, d.TaxonomyTerm]:
    from backbone.directory.services import starter_taxonomy_install

    if not d.Taxonomy.objects.filter(network=network, hsds_id=TAXONOMY_ID).exists():
        starter_taxonomy_install(access=access, via="seed")
    return {
        t.code: t
        for t in d.TaxonomyTerm.objects.filter(network=network, taxonomy__hsds_id=TAXONOMY_ID)
    }


@transaction.atomic
def seed_directory(network, size: str, *, log=print) -> dict[str, int]:
    """Fill NETWORK's directory with the services of SIZE; returns rows created per table."""
    started = time.perf_counter()
    access = _admin_access(network)
    if access is None:
        raise RuntimeError("The directory seed needs the network's admin (seed people first).")
    rng = random.Random(SEED + sum(ord(ch) for ch in network.slug))
    terms = _install_taxonomy(network, access)
    places = _places(network, rng)
    if not places:
        raise RuntimeError("The directory seed needs cities and ZIP codes (seed areas first).")
    stages = list(LifeStage.objects.filter(network=network).order_by("position", "pk"))
    slug = network.slug
    builder = _Builder(network, slug, rng, places, stages, terms)
    builder.providers(SERVICES[size])
    builder.services(SERVICES[size])
    created = builder.save()
    inserted = time.perf_counter()
    if created.get("service"):
        # Bulk inserts skip the import path, which keeps the directory's search rows.
        from backbone.directory.search import search_index_refresh

        search_index_refresh(network)
    indexed = time.perf_counter()
    _seed_need_indicators(network, stages)
    _seed_pathways(network, stages, terms)
    log(
        f"Seeded the directory of {network.name}: {builder.service_count} services, "
        f"{len(builder.orgs)} providers, {len(builder.locations)} locations "
        f"(built and inserted in {inserted - started:.1f} s, search index "
        f"{indexed - inserted:.1f} s)."
    )
    return created


class _Builder:
    """Builds every row in memory (deterministically), then inserts the missing ones."""

    def __init__(self, network, slug, rng, places, stages, terms):
        self.network, self.slug, self.rng = network, slug, rng
        self.places, self.stages, self.terms = places, stages, terms
        self.rows: dict[type, list] = {model: [] for model in d.DIRECTORY_MODELS}
        self.life_stage_links: list[tuple[uuid.UUID, int]] = []
        self.residency_links: list[tuple[uuid.UUID, int]] = []
        self.orgs: list[tuple[_Spec, _Place, set[str]]] = []
        self.locations: list[tuple[_Spec, _Place]] = []
        self.service_count = 0

    def _row(self, model, table_index, **fields) -> _Spec:
        """A row to insert, kept as plain values (fields by attname; a link to another new
        row is its _Spec): building 200,000 model instances up front costs more than
        inserting them, and a second run inserts nothing."""
        table = model.hsds_table or "service_capacity"
        spec = _Spec(model, _id(self.slug, table, table_index), fields)
        self.rows[model].append(spec)
        return spec

    def providers(self, count: int) -> None:
        rng = self.rng
        partners = list(
            Organization.objects.filter(
                memberships__network=self.network,
                memberships__status__in=[Membership.Status.ACTIVE, Membership.Status.INVITED],
                sectors__code__in=PROVIDER_SECTORS,
            )
            .distinct()
            .order_by("slug")
            .prefetch_related("sectors")
        )
        city_of = {p.area.name.split(" (")[0]: p for p in self.places}
        codes = sorted({entry[0] for entry in CATALOGUE})
        wanted = len(partners) + max(8, count // 40)
        for i in range(wanted):
            partner = partners[i] if i < len(partners) else None
            place = city_of.get(partner.city) if partner else None
            place = place or rng.choice(self.places)
            if partner:
                name, description = partner.name, partner.mission or "A partner of the network."
                email, website = partner.email, partner.website
            else:
                base = OTHER_PROVIDERS[i % len(OTHER_PROVIDERS)]
                name = f"{place.area.name.split(' (')[0]} {base}"
                if i >= len(OTHER_PROVIDERS) * 2:
                    name = f"{place.county.name} {base} {i}"
                description = f"{base} serving {place.county.name}."
                email, website = f"info@provider{i}.example.org", f"https://provider{i}.example.org"
            data = {"description": description}
            if email:
                data["email"] = email
            if website:
                data["website"] = website
            org = self._row(
                d.DirectoryOrganization,
                f"org{i}",
                name=name,
                organization_id=partner.pk if partner else None,
                data=data,
            )
            focus = _focus(partner, name, rng, codes)
            self.orgs.append((org, place, focus))
            for k in range(1 if rng.random() < 0.7 else 2):
                site = place if k == 0 else rng.choice(self.places)
                self._location(org, f"org{i}-{k}", name, site)

    def _location(self, org, key, name, place: _Place) -> None:
        rng = self.rng
        zip_area = rng.choice(place.zips) if place.zips else None
        city = place.area.name.split(" (")[0]
        lat = round(place.lat + rng.uniform(-0.04, 0.04), 5)
        lon = round(place.lon + rng.uniform(-0.05, 0.05), 5)
        location = self._row(
            d.Location,
            key,
            organization_id=org,
            name=f"{name} – {city}",
            location_type="physical",
            data={"latitude": lat, "longitude": lon},
        )
        self._row(
            d.Address,
            key,
            location_id=location,
            data={
                "address_1": f"{rng.randint(10, 9800)} {rng.choice(STREETS)}",
                "city": city,
                "state_province": "RL",
                "postal_code": zip_area.code if zip_area else "60100",
                "country": "US",
                "address_type": "physical",
            },
        )
        self._row(
            d.Phone,
            f"loc-{key}",
            location_id=location,
            data={"number": _phone(rng), "type": "voice"},
        )
        self.locations.append((location, place))

    def _candidates(self, code: str) -> list[int]:
        """Providers that offer CODE: exactly, or its whole top-level category."""
        top = code.split(".")[0]
        exact = [i for i, (_o, _p, focus) in enumerate(self.orgs) if code in focus or top in focus]
        if exact:
            return exact
        near = [
            i
            for i, (_o, _p, focus) in enumerate(self.orgs)
            if any(f.split(".")[0] == top for f in focus)
        ]
        return near or list(range(len(self.orgs)))

    def services(self, count: int) -> None:
        rng = self.rng
        candidates = {entry[0]: self._candidates(entry[0]) for entry in CATALOGUE}
        designed = self._designed(candidates)
        counties = list(dict.fromkeys(p.county for p in self.places))
        gap_county = counties[1] if len(counties) > 1 else None
        thin_city = [p for p in self.places if p.county == counties[0]][-1]
        locations_of: dict[uuid.UUID, list[tuple[_Spec, _Place]]] = {}
        for location, place in self.locations:
            locations_of.setdefault(location.fields["organization_id"].hsds_id, []).append(
                (location, place)
            )
        for n in range(count):
            if n < len(designed):
                entry_index, provider, place = designed[n]
            else:
                entry_index = rng.randrange(len(CATALOGUE))
                code = CATALOGUE[entry_index][0]
                provider = rng.choice(candidates[code])
                place = self.orgs[provider][1] if rng.random() < 0.7 else rng.choice(self.places)
                if code in GAP_CATEGORIES and place.county == gap_county and rng.random() < 0.9:
                    place = self.places[0]
                if code in THIN_HOUSING and place is thin_city and rng.random() < 0.9:
                    place = self.places[0]
            self._service(n, entry_index, provider, place, locations_of)
        self.service_count = count

    def _designed(self, candidates) -> list[tuple[int, int, _Place]]:
        """The first services: the overlaps the redundancy list should find (five tutoring
        providers, four FAFSA helpers, all in the first city)."""
        first = self.places[0]
        tutoring = CATALOGUE_INDEX["After-School Reading Tutoring"]
        fafsa = CATALOGUE_INDEX["FAFSA Completion Help"]
        tutors = candidates["education.tutoring"][:5]
        helpers = [p for p in candidates["education.postsecondary"] if p not in tutors][:4]
        return [(tutoring, p, first) for p in tutors] + [(fafsa, p, first) for p in helpers]

    def _service(self, n, entry_index, provider, place: _Place, locations_of) -> None:
        rng = self.rng
        code, title, stage_idx, description, populations, unit = CATALOGUE[entry_index]
        org, _home, _focus = self.orgs[provider]
        city = place.area.name.split(" (")[0]
        name = title if rng.random() < 0.5 else f"{title} – {city}"
        status = rng.choices(
            ["active", "inactive", "temporarily closed", "defunct"], [96, 2, 1, 1]
        )[0]
        data = {
            "description": f"{description} Offered by {org.fields['name']} in {city}.",
            "url": f"https://{self.slug}.example.org/services/{n}",
            "email": f"service{n}@{self.slug}.example.org",
            "application_process": rng.choice(
                [
                    "Walk in.",
                    "Call to make an appointment.",
                    "Apply online.",
                    "Ask a school counselor for a referral.",
                ]
            ),
            "fees_description": rng.choice(
                ["Free.", "Free.", "Sliding scale.", "Free for eligible families."]
            ),
        }
        data.update(self._verification(n))
        ages = [AGES[i] for i in stage_idx if i in AGES]
        if ages:
            data["minimum_age"] = min(a[0] for a in ages)
            data["maximum_age"] = max(a[1] for a in ages)
        served = list(populations)
        if rng.random() < 0.3:
            served.append(
                rng.choice(
                    [
                        "English learners",
                        "Latino families",
                        "Black families",
                        "Rural families",
                        "Immigrant and refugee families",
                    ]
                )
            )
        if n < DESIGNED:
            served = [populations[0]]  # the designed overlaps share one population
        service = self._row(
            d.Service,
            n,
            organization_id=org,
            name=name,
            status=status,
            data=data,
            populations_served=sorted(set(served)),
            income_limit_percent_fpl=200 if "Low-income families" in served else None,
        )
        for i in stage_idx:
            if i < len(self.stages):
                self.life_stage_links.append((service.hsds_id, self.stages[i].pk))
        roll = rng.random()
        if n < DESIGNED or roll < 0.45:
            self.residency_links.append((service.hsds_id, place.area.pk))
        elif roll < 0.65:
            self.residency_links.append((service.hsds_id, place.county.pk))
        own = [lp for lp in locations_of.get(org.hsds_id, []) if lp[1] is place]
        site = own[0][0] if own else None
        if site is None:
            site = self._extra_location(org, n, place, locations_of)
        link = self._row(d.ServiceAtLocation, n, service_id=service, location_id=site)
        self._row(
            d.Phone, f"svc-{n}", service_id=service, data={"number": _phone(rng), "type": "voice"}
        )
        byday, opens, closes, words = rng.choice(SCHEDULES)
        self._row(
            d.Schedule,
            n,
            service_at_location_id=link,
            data={
                "freq": "WEEKLY",
                "byday": byday,
                "opens_at": opens,
                "closes_at": closes,
                "description": words,
            },
        )
        self._row(d.Language, f"{n}-en", service_id=service, data={"name": "English", "code": "en"})
        if rng.random() < 0.45:
            language, lang_code = rng.choice(LANGUAGES) if rng.random() < 0.4 else LANGUAGES[0]
            self._row(
                d.Language,
                f"{n}-{lang_code}",
                service_id=service,
                data={"name": language, "code": lang_code},
            )
        term = self.terms.get(code)
        if term is not None:
            self._row(
                d.Attribute,
                n,
                taxonomy_term_id=term.pk,
                link_id=str(service.hsds_id),
                link_entity="service",
                link_type="need_category",
            )
        if rng.random() < 0.6:
            self._row(
                d.ServiceCapacity,
                n,
                service_id=service,
                available=Decimal(rng.choice([0, 2, 5, 8, 12, 20, 25, 40, 60])),
                unit=unit,
                updated=UPDATED - datetime.timedelta(days=rng.randint(0, 30)),
            )

    def _verification(self, n) -> dict:
        """When the listing was last checked (HSDS `assured_date`), counted back from
        today: four in five within the last eleven months, the rest 13 to 36 months ago
        (flagged stale). Its own random stream keeps the rest of the seed as it was."""
        draw = random.Random(f"verified:{self.slug}:{n}")
        days = draw.randint(0, 330) if draw.random() < 0.8 else draw.randint(396, 1095)
        return {
            "assured_date": (timezone.localdate() - datetime.timedelta(days=days)).isoformat(),
            "assurer_email": f"directory@{self.slug}.example.org",
        }

    def _extra_location(self, org, n, place: _Place, locations_of):
        key = f"svc{n}"
        self._location(org, key, org.fields["name"], place)
        location, _ = self.locations[-1]
        locations_of.setdefault(org.hsds_id, []).append((location, place))
        return location

    def save(self) -> dict[str, int]:
        created = {}
        saved_ids: dict[type, dict[uuid.UUID, int]] = {}
        network_id = self.network.pk
        for model in (*d.HSDS_MODELS, d.ServiceCapacity):
            specs = self.rows.get(model) or []
            if not specs:
                continue
            existing = set(
                model.objects.filter(network=self.network).values_list("hsds_id", flat=True)
            )
            missing = []
            for spec in specs:
                if spec.hsds_id in existing:
                    continue
                fields = {
                    name: saved_ids[value.model][value.hsds_id]
                    if isinstance(value, _Spec)
                    else value
                    for name, value in spec.fields.items()
                }
                missing.append(model(network_id=network_id, hsds_id=spec.hsds_id, **fields))
            model.objects.bulk_create(missing, batch_size=2000)
            created[model.hsds_table or "service_capacity"] = len(missing)
            saved_ids[model] = dict(
                model.objects.filter(network=self.network).values_list("hsds_id", "pk")
            )
        services = saved_ids.get(d.Service, {})
        d.Service.life_stages.through.objects.bulk_create(
            [
                d.Service.life_stages.through(service_id=services[s], lifestage_id=stage)
                for s, stage in self.life_stage_links
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        d.Service.residency_areas.through.objects.bulk_create(
            [
                d.Service.residency_areas.through(service_id=services[s], area_id=area)
                for s, area in self.residency_links
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        return created


def _seed_need_indicators(network, stages: list[LifeStage]) -> None:
    """The gap map's need indicators, from the cradle-to-career starter framework."""
    by_name = {s.name: s for s in stages}
    indicators = {i.code: i for i in Indicator.objects.filter(network=network)}
    for category, stage_name, code in NEED_INDICATORS:
        stage = by_name.get(stage_name) if stage_name else None
        if code not in indicators or (stage_name and stage is None):
            continue
        NeedIndicator.objects.get_or_create(
            network=network,
            category=category,
            life_stage=stage,
            defaults={"indicator": indicators[code]},
        )


# Pathway name, owner (None: the backbone; "partner": the demo org admin's organization),
# life stages, steps as (name, order, life stage, term code, catalogue names, final), edges.
PATHWAYS = [
    (
        "High-school senior to college",
        None,
        (HS, PS),
        [
            (
                "High-school senior",
                0,
                HS,
                "education.postsecondary",
                ("College Application Coaching",),
                False,
            ),
            (
                "FAFSA completion help",
                1,
                HS,
                "education.postsecondary",
                ("FAFSA Completion Help",),
                False,
            ),
            (
                "College enrollment support",
                2,
                HS,
                "education.postsecondary",
                ("College Enrollment Support",),
                False,
            ),
            ("Summer melt text nudges", 2, HS, None, (), False),
            (
                "First-year retention coaching",
                3,
                PS,
                "education.postsecondary",
                ("First-Year Retention Coaching",),
                True,
            ),
        ],
        [(0, 1), (1, 2), (1, 3), (2, 4)],
    ),
    (
        "Ready for kindergarten",
        None,
        (EC, ES),
        [
            (
                "Home visiting for new parents",
                0,
                EC,
                "family",
                ("Home Visiting for New Parents",),
                False,
            ),
            ("Early learning seat", 1, EC, "education.early", (), False),
            ("Pre-K enrollment help", 1, EC, "education.early", ("Pre-K Enrollment Help",), False),
            (
                "Summer bridge to kindergarten",
                2,
                ES,
                "education.early",
                ("Summer Bridge to Kindergarten",),
                True,
            ),
        ],
        [(0, 1), (0, 2), (2, 3), (1, 3)],
    ),
    (
        "On track in ninth grade",
        "partner",
        (MS, HS),
        [
            ("Middle-school mentoring", 0, MS, "youth", ("Mentoring Matches",), False),
            (
                "Ninth grade transition camp",
                1,
                MS,
                "education.tutoring",
                ("Ninth Grade Transition Camp",),
                False,
            ),
            ("Credit recovery", 2, HS, "education.tutoring", ("Credit Recovery Program",), True),
        ],
        [(0, 1), (1, 2)],
    ),
    (
        "From training to a first job",
        None,
        (PS, CA),
        [
            ("Reengagement center", 0, PS, "youth", ("Reengagement Center",), False),
            (
                "Pre-apprenticeship",
                1,
                PS,
                "employment.training",
                ("Pre-Apprenticeship in the Building Trades",),
                False,
            ),
            ("Job placement", 2, CA, "employment", ("Job Search and Placement",), False),
            (
                "First-job retention coaching",
                3,
                CA,
                "employment",
                ("First-Job Retention Coaching",),
                True,
            ),
        ],
        [(0, 1), (1, 2), (2, 3)],
    ),
]


def _seed_pathways(network, stages: list[LifeStage], terms: dict) -> None:
    """One designed pathway per life-stage transition, each step pointing at real services
    of the directory (a few, so that some steps have one provider and are flagged)."""
    partner = (
        NetworkRole.objects.filter(network=network, role="org_admin")
        .order_by("pk")
        .values_list("organization_id", flat=True)
        .first()
    )
    services = d.Service.objects.filter(network=network, status="active")
    for name, owner, stage_idx, steps, edges in PATHWAYS:
        pathway, created = Pathway.objects.get_or_create(
            network=network,
            name=name,
            defaults={
                "description": f"A designed route: {' → '.join(s[0] for s in steps)}.",
                "owner_organization_id": partner if owner == "partner" else None,
            },
        )
        if not created:
            continue
        pathway.life_stages.set([stages[i] for i in stage_idx if i < len(stages)])
        made = []
        for step_name, order, stage, code, titles, final in steps:
            step = PathwayStep.objects.create(
                network=network,
                pathway=pathway,
                name=step_name,
                position=order,
                life_stage=stages[stage] if stage < len(stages) else None,
                category=terms.get(code) if code else None,
                is_final=final,
            )
            if titles:
                # One to three services of that name, so some steps rest on a single provider.
                chosen = services.filter(name__startswith=titles[0]).order_by("pk")
                step.services.set(list(chosen.values_list("pk", flat=True)[: 1 + len(made) % 3]))
            made.append(step)
        PathwayEdge.objects.bulk_create(
            [
                PathwayEdge(network=network, pathway=pathway, from_step=made[a], to_step=made[b])
                for a, b in edges
            ]
        )
