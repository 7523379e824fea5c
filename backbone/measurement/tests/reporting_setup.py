"""A small reporting setup shared by the reporting tests: a framework with a count
indicator broken down by race and a percent ratio, and one quarterly assignment for
each of the network's two partners."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from backbone.core.access import access_for
from backbone.measurement import reporting, submissions
from backbone.measurement.models import (
    Category,
    Dimension,
    Framework,
    Indicator,
    ReportingAssignment,
    Result,
    Submission,
)
from backbone.testing import factories as f

TODAY = datetime.date(2026, 8, 15)


@dataclass
class Setup:
    world: object
    served: Indicator
    reading: Indicator
    assignment: ReportingAssignment  # world.organization's
    second_assignment: ReportingAssignment  # world.second_organization's

    def access(self, role: str):
        return access_for(self.world.users[role], self.world.network)

    def submission(self, period: str = "2026-Q1", assignment=None) -> Submission:
        return Submission.objects.get(assignment=assignment or self.assignment, period=period)

    def save(self, role: str, submission: Submission, entries: dict, reason: str = ""):
        return submissions.submission_save(
            access=self.access(role), submission=submission, entries=entries, reason=reason
        )


def good_entries(setup: Setup) -> dict:
    served, reading = setup.served.pk, setup.reading.pk
    return {
        f"i{served}-0-": {"value": "30"},
        f"i{served}-0-race=asian": {"value": "10"},
        f"i{served}-0-race=black": {"value": "20"},
        f"i{reading}-0-": {"numerator": "45", "denominator": "90"},
    }


def make_setup(world) -> Setup:
    network = world.network
    Framework.objects.create(network=network, fiscal_year_start_month=7)
    stage = f.LifeStageFactory(network=network)
    result = Result.objects.create(network=network, code="ready", name="Ready", life_stage=stage)
    race = Dimension.objects.create(network=network, code="race", name="Race")
    for position, code in enumerate(("asian", "black")):
        Category.objects.create(
            network=network, dimension=race, code=code, name=code.title(), position=position
        )
    served = Indicator.objects.create(
        network=network,
        result=result,
        code="served",
        name="Children served",
        definition="Children served.",
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="quarter",
    )
    served.dimensions.set([race])
    reading = Indicator.objects.create(
        network=network,
        result=result,
        code="reading",
        name="Reading at grade level",
        definition="Percent reading at grade level.",
        unit="percent",
        polarity="higher_is_better",
        formula="ratio",
        numerator="Proficient",
        denominator="Tested",
        aggregation="weighted",
        frequency="quarter",
    )
    admin = access_for(world.users["network_admin"], network)
    assignments = []
    for organization in (world.organization, world.second_organization):
        assignments.append(
            submissions.assignment_create(
                access=admin,
                fields={
                    "organization": organization,
                    "name": f"{organization.name} quarterly",
                    "indicators": [served, reading],
                    "frequency": "quarter",
                    "first_period": "2026-Q1",
                    "last_period": "2026-Q2",
                    "due_days": 30,
                    "reminder_days": 7,
                },
            )
        )
    reporting.submissions_sync(network, TODAY)
    return Setup(world, served, reading, *assignments)


@pytest.fixture
def setup(world):
    return make_setup(world)
