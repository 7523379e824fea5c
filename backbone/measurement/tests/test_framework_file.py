import pytest
import yaml
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from backbone.core.access import access_for
from backbone.core.models import AuditEvent
from backbone.measurement.defaults import RACE_ETHNICITY_NETWORK_CHOICES, SPD15_RACE_ETHNICITY
from backbone.measurement.framework_file import (
    framework_data,
    framework_export,
    framework_import,
    template_path,
)
from backbone.measurement.models import (
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Result,
    Strategy,
)
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def admin_of(world, network=None):
    network = network or world.network
    user = world.users["network_admin"] if network == world.network else world.outsider
    return access_for(user, network)


def full_file(world) -> str:
    """The starter template plus targets, a baseline, partner measures and a strategy."""
    data = yaml.safe_load(template_path("cradle-to-career").read_text())
    reading = next(i for i in data["indicators"] if i["code"] == "grade3-reading")
    reading["baseline"] = {"value": 41.5, "period": "SY2022-23"}
    reading["targets"] = [
        {"period": "SY2024-25", "value": 45},
        {"period": "SY2025-26", "value": 50},
    ]
    org = world.organization.slug
    data["measures"] = [
        {
            "code": "tutoring-hours",
            "name": "Hours of reading tutoring",
            "organization": org,
            "description": "",
            "category": "how_much",
            "unit": "count",
            "polarity": "higher_is_better",
            "formula": "direct",
            "aggregation": "sum",
            "frequency": "month",
            "contributes_to": ["grade3-reading"],
            "dimensions": ["gender"],
            "targets": [{"organization": org, "period": "2024-Q3", "value": 1200}],
        }
    ]
    data["strategies"] = [
        {
            "code": "reading-corps",
            "name": "Reading corps",
            "description": "Trained tutors read with K–3 students every school day.",
            "organizations": [org],
            "results": ["early-grade-reading"],
            "measures": ["tutoring-hours"],
        }
    ]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def test_starter_template_imports_with_spd15_categories(world):
    report = framework_import(
        access=admin_of(world), text=template_path("cradle-to-career").read_text()
    )
    assert report.errors == [] and report.committed
    assert Result.objects.filter(network=world.network).count() == 7
    assert Indicator.objects.filter(network=world.network, code="grade8-math").exists()
    race = Dimension.objects.get(network=world.network, code="race-ethnicity")
    assert list(race.categories.values_list("code", "name")) == [
        *SPD15_RACE_ETHNICITY,
        *RACE_ETHNICITY_NETWORK_CHOICES,
    ]
    geography = Dimension.objects.get(network=world.network, code="geography")
    assert geography.kind == "geography" and not geography.categories.exists()


def test_export_import_into_another_network_round_trips(world):
    f.MembershipFactory(network=world.other_network, organization=world.organization)
    assert framework_import(access=admin_of(world), text=full_file(world)).committed
    exported = framework_export(access=admin_of(world))

    other = admin_of(world, world.other_network)
    assert framework_import(access=other, text=exported).committed

    assert framework_export(access=other) == exported
    assert IndicatorTarget.objects.filter(network=world.other_network).count() == 2
    assert MeasureTarget.objects.filter(network=world.other_network).count() == 1
    strategy = Strategy.objects.get(network=world.other_network)
    assert list(strategy.organizations.all()) == [world.organization]


def test_importing_the_same_file_twice_changes_nothing(world):
    text = full_file(world)
    framework_import(access=admin_of(world), text=text)
    audit_rows = AuditEvent.objects.count()

    report = framework_import(access=admin_of(world), text=text)

    assert report.committed and report.created == report.updated == 0
    assert report.unchanged > 60
    assert AuditEvent.objects.count() == audit_rows


def test_import_updates_by_code_and_audits_the_change(world):
    framework_import(access=admin_of(world), text=full_file(world))
    data = framework_data(access=admin_of(world))
    data["indicators"][0]["name"] = "Ready for kindergarten"

    report = framework_import(access=admin_of(world), text=yaml.safe_dump(data))

    assert report.updated == 1 and report.created == 0
    assert Indicator.objects.get(network=world.network, code="k-ready").name == (
        "Ready for kindergarten"
    )
    event = AuditEvent.objects.filter(object_type="measurement.indicator").latest("pk")
    assert event.action == "update" and event.after["name"] == "Ready for kindergarten"


def test_bad_values_are_reported_by_path_and_nothing_is_written(world):
    data = yaml.safe_load(full_file(world))
    data["indicators"][3]["unit"] = "percentage"
    data["indicators"][1]["targets"] = [{"period": "2024-Q5", "value": 3}]
    data["indicators"][2]["colour"] = "red"
    data["results"][0]["code"] = data["results"][1]["code"]

    report = framework_import(access=admin_of(world), text=yaml.safe_dump(data))

    assert (
        "indicators[3].unit: 'percentage' is not one of count, percent, rate, currency, score"
        in (report.errors)
    )
    assert any(e.startswith("indicators[1].targets[0].period: '2024-Q5'") for e in report.errors)
    assert any(e.startswith("indicators[2].colour: unknown key") for e in report.errors)
    assert any(
        e.startswith("results[1].code: 'early-grade-reading' is also used") for e in report.errors
    )
    assert not report.committed
    assert not Dimension.objects.filter(network=world.network).exists()


def test_model_rules_and_references_are_reported_by_path_and_roll_back(world):
    data = yaml.safe_load(full_file(world))
    data["indicators"][0]["numerator"] = ""
    data["indicators"][1]["result"] = "no-such-result"
    data["measures"][0]["contributes_to"] = ["no-such-indicator"]

    report = framework_import(access=admin_of(world), text=yaml.safe_dump(data))

    assert "indicators[0]: A numerator / denominator formula needs both terms." in report.errors
    assert "indicators[1].result: no result has the code 'no-such-result'" in report.errors
    assert "measures[0].contributes_to: no indicator has the code 'no-such-indicator'" in (
        report.errors
    )
    assert not Result.objects.filter(network=world.network).exists()
    assert not AuditEvent.objects.filter(network=world.network).exists()


def test_measure_formula_aggregation_and_frequency_round_trip(world):
    framework_import(access=admin_of(world), text=full_file(world))
    measure = PerformanceMeasure.objects.get(network=world.network, code="tutoring-hours")
    assert (measure.formula, measure.aggregation, measure.frequency) == ("direct", "sum", "month")
    exported = framework_data(access=admin_of(world))["measures"][0]
    assert (exported["formula"], exported["aggregation"], exported["frequency"]) == (
        "direct",
        "sum",
        "month",
    )


def test_measure_fields_left_out_take_their_defaults(world):
    data = yaml.safe_load(full_file(world))
    for key in ("formula", "aggregation", "frequency"):
        del data["measures"][0][key]
    assert framework_import(access=admin_of(world), text=yaml.safe_dump(data)).committed
    measure = PerformanceMeasure.objects.get(network=world.network, code="tutoring-hours")
    assert (measure.formula, measure.aggregation, measure.frequency) == (
        "direct",
        "sum",
        "quarter",
    )


def test_bad_measure_fields_are_reported_by_path_and_nothing_is_written(world):
    data = yaml.safe_load(full_file(world))
    data["measures"][0]["frequency"] = "weekly"
    report = framework_import(access=admin_of(world), text=yaml.safe_dump(data))
    assert any(e.startswith("measures[0].frequency: 'weekly' is not one of") for e in report.errors)

    data = yaml.safe_load(full_file(world))
    data["measures"][0]["aggregation"] = "weighted"
    report = framework_import(access=admin_of(world), text=yaml.safe_dump(data))
    assert "measures[0].aggregation: weighting by denominator needs formula: ratio" in (
        report.errors
    )
    assert not report.committed
    assert not PerformanceMeasure.objects.filter(network=world.network).exists()


def test_an_organization_outside_the_network_is_not_found(world):
    data = yaml.safe_load(full_file(world))
    data["measures"][0]["organization"] = world.other_organization.slug
    data["measures"][0]["targets"] = []

    report = framework_import(access=admin_of(world), text=yaml.safe_dump(data))

    slug = world.other_organization.slug
    assert f"measures[0].organization: no organization has the slug {slug!r}" in report.errors
    assert not PerformanceMeasure.objects.exists()


def test_broken_yaml_names_the_line(world):
    report = framework_import(access=admin_of(world), text="results:\n  - code: [unclosed\n")
    assert report.errors and report.errors[0].startswith("line ")


def test_dry_run_writes_nothing(world):
    report = framework_import(access=admin_of(world), text=full_file(world), commit=False)
    assert report.created > 60 and not report.committed
    assert not Category.objects.filter(network=world.network).exists()


@pytest.mark.parametrize("role", ["org_admin", "viewer"])
def test_only_network_admins_import(world, role):
    with pytest.raises(PermissionDenied):
        framework_import(access=access_for(world.users[role], world.network), text=full_file(world))


def test_public_export_leaves_out_partner_measures(world):
    framework_import(access=admin_of(world), text=full_file(world))
    world.network.is_public = True
    world.network.save()

    data = framework_data(access=access_for(None, world.network))

    assert "measures" not in data
    assert data["strategies"][0]["measures"] == []
    assert len(data["indicators"]) == 11


def test_command_imports_a_template_and_exports_a_file(world, tmp_path):
    call_command(
        "framework", "import", "--template", "cradle-to-career", "--network", world.network.slug
    )
    out = tmp_path / "framework.yaml"
    call_command("framework", "export", str(out), "--network", world.network.slug)

    assert yaml.safe_load(out.read_text())["results"][0]["code"] == "kindergarten-readiness"
    assert PerformanceMeasure.objects.count() == 0


def test_command_reports_problems_and_writes_nothing(world, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators:\n  - code: x\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("framework", "import", str(bad), "--network", world.network.slug)
    assert not Indicator.objects.exists()


def test_command_dry_run_writes_nothing(world):
    call_command(
        "framework",
        "import",
        "--template",
        "cradle-to-career",
        "--dry-run",
        "--network",
        world.network.slug,
    )
    assert not Result.objects.exists()
