"""search_services: full-text ranking and every filter (SQLite FTS5 and PostgreSQL)."""

import datetime

import pytest
from django.test import Client

from backbone.core.access import access_for
from backbone.directory.models import ServiceSearch
from backbone.directory.search import (
    fts5_query,
    search_index_refresh,
    search_services,
    weekly_openings,
)
from backbone.directory.tests.sample import CENTER, sample_directory
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

MONDAY_NOON = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def services(world, hsds):
    return sample_directory(world)


@pytest.fixture
def viewer(world):
    return access_for(world.users["viewer"], world.network)


def names(results):
    return [hit.service.name for hit in results.hits]


def test_name_match_ranks_above_description_match(services, viewer):
    results = search_services(viewer, q="food")
    assert results.total == 3
    assert names(results)[0] == "Harbor Food Pantry"
    assert set(names(results)[1:]) == {"Riverside Meals", "Tutoring Club"}
    assert results.hits[0].rank > results.hits[-1].rank


def test_words_are_stemmed_and_all_must_match(services, viewer):
    assert names(search_services(viewer, q="grocery")) == ["Harbor Food Pantry"]
    assert names(search_services(viewer, q="meals seniors")) == ["Riverside Meals"]
    assert search_services(viewer, q="meals pantry").total == 0


def test_organization_name_and_taxonomy_term_names_are_searched(services, viewer):
    assert names(search_services(viewer, q="Lakeside")) == ["Night Shelter"]
    assert names(search_services(viewer, q="emergency shelter")) == ["Night Shelter"]


def test_taxonomy_filter_includes_child_terms(services, viewer):
    assert set(names(search_services(viewer, taxonomy_term="food"))) == {
        "Harbor Food Pantry",
        "Riverside Meals",
    }
    assert names(search_services(viewer, taxonomy_term="food.pantry")) == ["Harbor Food Pantry"]
    assert names(search_services(viewer, q="food", taxonomy_term="education")) == ["Tutoring Club"]


def test_language_population_and_life_stage_filters(world, services, viewer):
    assert names(search_services(viewer, language="es")) == ["Harbor Food Pantry"]
    assert names(search_services(viewer, population="Seniors")) == ["Riverside Meals"]
    stage = f.LifeStageFactory(network=world.network, name="Adulthood")
    services["shelter"].life_stages.add(stage)
    search_index_refresh(world.network, [services["shelter"].pk])
    assert names(search_services(viewer, life_stage=stage.pk)) == ["Night Shelter"]


def test_area_filter_includes_the_areas_above(world, services, viewer):
    county = f.AreaFactory(network=world.network, name="Harbor County", kind="county")
    city = f.AreaFactory(network=world.network, name="River City", kind="city", parent=county)
    services["pantry"].residency_areas.add(county)
    services["tutoring"].residency_areas.add(city)
    search_index_refresh(world.network)
    assert set(names(search_services(viewer, area=city.pk))) == {
        "Harbor Food Pantry",
        "Tutoring Club",
    }
    assert names(search_services(viewer, area=county.pk)) == ["Harbor Food Pantry"]


def test_open_now_reads_weekly_schedules_including_overnight_hours(services, viewer):
    assert set(names(search_services(viewer, open_now=MONDAY_NOON))) == {
        "Harbor Food Pantry",
        "Riverside Meals",
    }
    tuesday_six = datetime.datetime(2026, 12, 1, 6, 0, tzinfo=datetime.UTC)
    results = search_services(viewer, open_now=tuesday_six)
    assert names(results) == ["Night Shelter"] and results.hits[0].open_now


def test_distance_orders_by_nearest_and_respects_the_radius(services, viewer):
    results = search_services(viewer, near=CENTER, radius_km=30)
    assert names(results) == ["Harbor Food Pantry", "Tutoring Club", "Riverside Meals"]
    assert results.hits[0].distance_km == pytest.approx(0, abs=0.01)
    assert results.hits[2].distance_km == pytest.approx(18.3, abs=0.2)
    assert names(search_services(viewer, near=CENTER, radius_km=5)) == [
        "Harbor Food Pantry",
        "Tutoring Club",
    ]


def test_words_with_no_service_in_the_radius_find_nothing(services, viewer):
    assert search_services(viewer, q="food", near=(0.0, 0.0), radius_km=5).total == 0


def test_stale_filter_and_flag(services, viewer):
    stale = search_services(viewer, stale=True)
    assert "Harbor Food Pantry" not in names(stale) and stale.total == 3
    fresh = search_services(viewer, stale=False)
    assert names(fresh) == ["Harbor Food Pantry"] and not fresh.hits[0].stale


def test_pages_and_totals(services, viewer):
    first = search_services(viewer, per_page=3)
    second = search_services(viewer, per_page=3, page=2)
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (4, 2, 3, 1)


def test_punctuation_only_query_finds_nothing_without_error(services, viewer):
    assert fts5_query('"*() -') is None
    assert search_services(viewer, q='"*() -').total == 0
    assert names(search_services(viewer, q='pantry" *')) == ["Harbor Food Pantry"]
    assert set(names(search_services(viewer, q="pantry or shelter"))) == {
        "Harbor Food Pantry",
        "Night Shelter",
    }


def test_other_network_sees_none_of_these_services(world, services):
    outsider = access_for(world.outsider, world.other_network)
    assert search_services(outsider, q="food").total == 0
    assert search_services(outsider).total == 0


def test_weekly_openings_ignore_monthly_and_bad_times():
    assert weekly_openings({"freq": "MONTHLY", "byday": "MO", "opens_at": "09:00"}) == []
    assert weekly_openings({"byday": "MO", "opens_at": "9am", "closes_at": "17:00"}) == []
    assert weekly_openings({"byday": "SU", "opens_at": "22:00", "closes_at": "02:00"}) == [
        (6, datetime.time(22), datetime.time(23, 59, 59)),
        (0, datetime.time(0), datetime.time(2)),
    ]


def test_index_follows_the_import(world, services):
    assert ServiceSearch.objects.filter(network=world.network).count() == 4


def test_hsds_api_search_uses_full_text(world, services):
    world.network.is_public = True
    world.network.save()
    response = Client().get(f"/hsds/{world.network.slug}/services", {"search": "groceries"})
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["contents"]] == ["Harbor Food Pantry"]
    response = Client().get(f"/hsds/{world.network.slug}/service_at_locations", {"search": "beds"})
    assert response.json()["total_items"] == 1


def test_words_with_each_filter_match_the_filter_alone(world, services, viewer):
    # Words take the full-text path, where SQLite checks each filter per match.
    county = f.AreaFactory(network=world.network, name="Harbor County", kind="county")
    services["pantry"].residency_areas.add(county)
    stage = f.LifeStageFactory(network=world.network, name="Adulthood")
    services["meals"].life_stages.add(stage)
    search_index_refresh(world.network)
    cases = [
        {"language": "es"},
        {"population": "Seniors"},
        {"life_stage": stage.pk},
        {"area": county.pk},
        {"open_now": MONDAY_NOON},
        {"near": CENTER, "radius_km": 5},
        {"stale": True},
        {"stale": False},
        {"taxonomy_term": "food", "open_now": MONDAY_NOON, "near": CENTER, "radius_km": 30},
    ]
    for filters in cases:
        alone = set(names(search_services(viewer, **filters)))
        worded = search_services(viewer, q="food", **filters)
        expected = alone & set(names(search_services(viewer, q="food")))
        assert set(names(worded)) == expected, filters
        assert worded.total == len(expected), filters
    assert search_services(viewer, q="food", area=999_999).total == 0


def test_pages_of_a_word_search_keep_the_total(services, viewer):
    first = search_services(viewer, q="food", per_page=2)
    second = search_services(viewer, q="food", per_page=2, page=2)
    beyond = search_services(viewer, q="food", per_page=2, page=5)
    assert (first.total, second.total, beyond.total) == (3, 3, 3)
    assert len(first.hits) == 2 and len(second.hits) == 1 and beyond.hits == []
    assert not set(names(first)) & set(names(second))


def test_the_network_token_is_not_a_searchable_word(world, services, viewer):
    assert search_services(viewer, q=f"net{world.network.pk}").total == 0
