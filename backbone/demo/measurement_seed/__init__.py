"""Measurement demo data: what a cradle-to-career network has after seven years of work.

Population data for every indicator of the starter framework (school years SY2019-20 to
SY2025-26, calendar years 2019 to 2025) for the network, each county, the cities of some
counties and the ZIP codes of some cities, disaggregated by race and ethnicity, gender and
household income; ratios as numerator / denominator with cohorts scaled to each area's
population, every breakdown adding up exactly to its total. Baselines, targets to 2030,
the public indicators. Partner programs with their own performance measures and targets,
quarterly reporting assignments and two and a half years of submissions (on time, late,
returned and resubmitted, missing, awaiting review, the current quarter in draft), their
values in the matching status with the version history the services would have written.
Custom validation rules and the "story behind the curve" of every result.

Everything comes from fixed seeds and is created only when missing, so running the seed
twice changes nothing. Rows are written in bulk; the area figures are built from leaves
upward, so a county is exactly the sum of its cities and an unincorporated remainder.
"""

from __future__ import annotations

from django.db import transaction

from backbone.demo.measurement_seed.partners import seed_programs, seed_submissions
from backbone.demo.measurement_seed.population import (
    PROFILES,
    AreaTree,
    population_cells,
    set_baseline_and_targets,
    write_population,
)
from backbone.demo.measurement_seed.stories import seed_narratives, seed_validation_rules
from backbone.measurement.models import Framework, Indicator


def seed_measurement(network, *, admin, organizations, areas, log=print) -> dict[str, int]:
    """Add the measurement demo data to NETWORK (after its framework); returns what it created."""
    indicators = {
        i.code: i for i in Indicator.objects.filter(network=network).prefetch_related("dimensions")
    }
    framework = Framework.objects.filter(network=network).first()
    fiscal_start = framework.fiscal_year_start_month if framework else 7
    tree = AreaTree(network, areas)
    created = {"values": 0, "versions": 0, "submissions": 0}
    network_cells: dict[str, dict[int, dict[str, list[int]]]] = {}
    for code, profile in PROFILES.items():
        indicator = indicators.get(code)
        if indicator is None:
            continue
        cells = population_cells(network, indicator, profile, tree)
        network_cells[code] = {year: by_area[None] for year, by_area in cells.items()}
        values, versions = write_population(network, indicator, cells, tree, admin, fiscal_start)
        created["values"] += values
        created["versions"] += versions
        set_baseline_and_targets(network, indicator, profile, network_cells[code])
    programs = seed_programs(network, indicators, organizations)
    submissions, values, versions = seed_submissions(network, programs, admin, fiscal_start)
    created["submissions"] += submissions
    created["values"] += values
    created["versions"] += versions
    seed_validation_rules(network, programs)
    seed_narratives(network, indicators, network_cells, programs, tree, admin)
    if any(created.values()):
        _rebuild_analytics(network, log)
        log(
            f"Measurement data for {network.name}: {created['values']} data values "
            f"({created['versions']} versions), {created['submissions']} submissions."
        )
    return created


def _rebuild_analytics(network, log) -> None:
    """Rebuild the network's analytics tables once the seed has committed (the rebuild
    runs its own transaction and, on SQLite, pragmas that a transaction would refuse)."""
    try:
        from backbone.insights.analytics import rebuild
    except ImportError:
        return

    def run() -> None:
        try:
            built = rebuild(network)
        except Exception as exc:  # noqa: BLE001 - the data is committed; say how to finish
            log(f"The analytics rebuild failed ({exc}); run `backbone analytics rebuild`.")
        else:
            log(f"Analytics for {network.name}: {built['cells']} cells.")

    transaction.on_commit(run)
