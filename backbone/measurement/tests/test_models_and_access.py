import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from backbone.core import services
from backbone.core.access import access_for
from backbone.measurement.framework_file import framework_import, template_path
from backbone.measurement.models import (
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Result,
)
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def framework(world):
    admin = access_for(world.users["network_admin"], world.network)
    framework_import(access=admin, text=template_path("cradle-to-career").read_text())
    outsider = access_for(world.outsider, world.other_network)
    framework_import(access=outsider, text=template_path("cradle-to-career").read_text())
    indicator = Indicator.objects.get(network=world.network, code="grade3-reading")
    measure = services.object_create(
        access=admin,
        model=PerformanceMeasure,
        fields={
            "code": "tutoring",
            "name": "Students tutored",
            "organization": world.organization,
            "category": "how_much",
            "unit": "count",
            "polarity": "higher_is_better",
            "contributes_to": [indicator],
        },
    )
    return {"admin": admin, "indicator": indicator, "measure": measure}


def access(world, role):
    if role == "public":
        return access_for(None, world.network)
    return access_for(world.users[role], world.network)


def indicator_fields(world, **changes):
    result = Result.objects.filter(network=world.network).first()
    return {
        "result": result,
        "code": "new",
        "name": "New",
        "definition": "Something.",
        "unit": "percent",
        "polarity": "higher_is_better",
        "formula": "direct",
        "aggregation": "sum",
        "frequency": "school_year",
        **changes,
    }


@pytest.mark.parametrize("role", ["network_admin", "org_admin", "funder", "viewer", "public"])
def test_the_framework_is_readable_by_members_and_the_public_of_a_public_network(
    world, framework, role
):
    world.network.is_public = True
    world.network.save()
    indicators = access(world, role).scope(Indicator)
    assert indicators.count() == 11
    assert not indicators.exclude(network=world.network).exists()


def test_a_private_network_has_no_public(world, framework):
    assert access_for(None, world.network) is None


def test_partner_measures_are_for_members_only(world, framework):
    world.network.is_public = True
    world.network.save()
    assert list(access(world, "viewer").scope(PerformanceMeasure)) == [framework["measure"]]
    assert not access(world, "public").scope(PerformanceMeasure).exists()


def test_outsider_sees_nothing_of_the_network(world, framework):
    outsider = access_for(world.outsider, world.other_network)
    for model in (Indicator, Result, Dimension, Category, PerformanceMeasure):
        assert not outsider.scope(model).filter(network=world.network).exists()
    assert access_for(world.outsider, world.network) is None


@pytest.mark.parametrize("role", ["viewer", "funder", "org_member", "org_admin"])
def test_only_network_admins_write_the_framework(world, framework, role):
    with pytest.raises(PermissionDenied):
        services.object_create(
            access=access(world, role), model=Indicator, fields=indicator_fields(world)
        )
    indicator = framework["indicator"]
    with pytest.raises(PermissionDenied):
        services.object_update(access=access(world, role), instance=indicator, fields={"name": "x"})


def test_an_org_admin_writes_its_own_measures_and_targets_only(world, framework):
    org_admin = access(world, "org_admin")
    measure = services.object_update(
        access=org_admin, instance=framework["measure"], fields={"name": "Students tutored weekly"}
    )
    target = services.object_create(
        access=org_admin,
        model=MeasureTarget,
        fields={
            "measure": measure,
            "organization": world.organization,
            "period": "2025",
            "value": 300,
        },
    )
    assert target.network == world.network
    with pytest.raises(PermissionDenied):
        services.object_create(
            access=org_admin,
            model=PerformanceMeasure,
            fields={
                "code": "theirs",
                "name": "Theirs",
                "organization": world.second_organization,
                "category": "how_well",
                "unit": "percent",
                "polarity": "higher_is_better",
            },
        )


@pytest.mark.parametrize("role", ["viewer", "org_member", "funder"])
def test_members_without_the_right_cannot_write_measures(world, framework, role):
    with pytest.raises(PermissionDenied):
        services.object_update(
            access=access(world, role), instance=framework["measure"], fields={"name": "x"}
        )


def test_a_partner_target_on_another_partners_measure_is_refused(world, framework):
    with pytest.raises(ValidationError, match="Only the measure's own organization"):
        services.object_create(
            access=framework["admin"],
            model=MeasureTarget,
            fields={
                "measure": framework["measure"],
                "organization": world.second_organization,
                "period": "2025",
                "value": 1,
            },
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"formula": "ratio", "numerator": "Readers"}, "needs both terms"),
        ({"unit": "rate"}, "rate needs its base"),
        ({"aggregation": "weighted"}, "needs a ratio formula"),
        ({"baseline_value": 3}, "needs both its value and its period"),
        ({"baseline_value": 3, "baseline_period": "2024-Q9"}, "not a period code"),
    ],
)
def test_indicator_rules(world, framework, changes, message):
    with pytest.raises(ValidationError, match=message):
        services.object_create(
            access=framework["admin"], model=Indicator, fields=indicator_fields(world, **changes)
        )
    assert not Indicator.objects.filter(code="new").exists()


def test_ratio_formula_needs_both_terms_in_the_database(world, framework):
    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.filter(pk=framework["indicator"].pk).update(denominator="")


def test_target_period_must_be_a_valid_code(world, framework):
    with pytest.raises(ValidationError, match="SY2024-25"):
        services.object_create(
            access=framework["admin"],
            model=IndicatorTarget,
            fields={"indicator": framework["indicator"], "period": "SY2024-26", "value": 50},
        )


def test_category_codes_are_unique_per_dimension(world, framework):
    race = Dimension.objects.get(network=world.network, code="race-ethnicity")
    with pytest.raises(ValidationError):
        services.object_create(
            access=framework["admin"],
            model=Category,
            fields={"dimension": race, "code": "asian", "name": "Asian again"},
        )


def test_geography_takes_its_categories_from_areas(world, framework):
    geography = Dimension.objects.get(network=world.network, code="geography")
    with pytest.raises(ValidationError, match="from the areas"):
        services.object_create(
            access=framework["admin"],
            model=Category,
            fields={"dimension": geography, "code": "north", "name": "North side"},
        )


def test_a_result_needs_a_life_stage_of_its_own_network(world, framework):
    stage = f.LifeStageFactory(network=world.other_network)
    with pytest.raises(ValidationError, match="same network"):
        services.object_create(
            access=framework["admin"],
            model=Result,
            fields={"code": "x", "name": "X", "life_stage": stage},
        )
