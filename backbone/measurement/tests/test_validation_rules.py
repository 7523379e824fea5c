# ruff: noqa: F811 - `framework` is a fixture imported from test_data_file
"""The network's own validation rules: parsing, evaluation in imports, and their pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backbone.core.models import AuditEvent
from backbone.measurement.data_file import data_import
from backbone.measurement.models import DataValue, Indicator, ValidationRule
from backbone.measurement.tests.test_data_file import HEADER, admin, framework  # noqa: F401
from backbone.measurement.validation_rules import RuleSyntaxError, Term, parse_side

pytestmark = pytest.mark.django_db


def test_sides_are_sums_of_codes_with_categories_and_numbers():
    assert parse_side("enrolled[race-ethnicity=asian] + enrolled - 2.5") == [
        Term(1, "enrolled", (("race-ethnicity", "asian"),)),
        Term(1, "enrolled"),
        Term(-1, number=Decimal("2.5")),
    ]
    assert parse_side("grade3-tested") == [Term(1, "grade3-tested")]
    for bad in ("", "a +", "a * b", "a[race]", "A + b"):
        with pytest.raises(RuleSyntaxError):
            parse_side(bad)


@pytest.fixture
def tested(framework):
    result = framework.network.results.first()
    return Indicator.objects.create(
        network=framework.network,
        result=result,
        code="tested",
        name="Children tested",
        definition="Children tested.",
        unit="count",
        polarity="higher_is_better",
        aggregation="sum",
        frequency="school_year",
    )


def rule(world, **fields):
    defaults = {
        "code": "enrolled-le-tested",
        "name": "No more enrolled than tested",
        "left": "enrolled",
        "operator": "<=",
        "right": "tested",
    }
    return ValidationRule.objects.create(network=world.network, **{**defaults, **fields})


def run(world, text: str, commit=True):
    return data_import(
        access=admin(world), data=(HEADER + text).encode(), filename="r.csv", commit=commit
    )


def test_an_error_rule_blocks_with_row_column_and_rule_code(framework, tested):
    rule(framework)
    audits = AuditEvent.objects.count()

    result = run(framework, "tested,2024,,,,,10,,,\nenrolled,2024,,,,,12,,,\n")

    assert [(e.row, e.column, e.value, e.rule) for e in result.errors] == [
        (3, "value", "12", "enrolled-le-tested")
    ]
    assert "enrolled is 12, which must be at most tested (10)" in result.errors[0].message
    assert not DataValue.objects.exists() and AuditEvent.objects.count() == audits


def test_a_rule_uses_stored_values_of_the_same_place(framework, tested):
    run(framework, "tested,2024,,,,,10,,,\n")
    rule(framework)

    refused = run(framework, "enrolled,2024,,,,,12,,,\n")
    elsewhere = run(framework, "enrolled,2023,,,,,12,,,\n")  # no tested value in 2023

    assert [(e.row, e.rule) for e in refused.errors] == [(2, "enrolled-le-tested")]
    assert elsewhere.committed


def test_a_warning_rule_needs_a_comment_then_passes_with_a_warning(framework, tested):
    rule(framework, severity="warning", message="Check the enrolment count.")

    bare = run(framework, "tested,2024,,,,,10,,,\nenrolled,2024,,,,,12,,,\n")
    explained = run(
        framework, "tested,2024,,,,,10,,,\nenrolled,2024,,,,,12,,,Late testing window\n"
    )

    assert [(e.row, e.column) for e in bare.errors] == [(3, "comment")]
    assert "Check the enrolment count. Explain it" in bare.errors[0].message
    assert explained.committed
    (warned,) = [p for p in explained.plans if p.notes]
    assert warned.row == 3 and warned.notes[0].rule == "enrolled-le-tested"


def test_categories_in_a_term_compare_parts_with_the_total(framework):
    rule(
        framework,
        code="asian-within-total",
        left="enrolled[race-ethnicity=asian]",
        right="enrolled",
    )

    result = run(framework, "enrolled,2024,,,,,10,,,\nenrolled,2024,,,asian,,11,,,\n")

    assert [(e.row, e.rule) for e in result.errors] == [(3, "asian-within-total")]


def test_inactive_rules_are_not_applied(framework, tested):
    rule(framework, is_active=False)

    assert run(framework, "tested,2024,,,,,10,,,\nenrolled,2024,,,,,12,,,\n").committed


def test_network_admins_add_rules_and_bad_codes_are_refused(framework, tested, client_for):
    slug = framework.network.slug
    url = reverse("measurement:validation-rule-create", args=[slug])
    client = client_for("network_admin")
    fields = {
        "code": "le",
        "name": "Enrolled at most tested",
        "left": "enrolled",
        "operator": "<=",
        "right": "tested",
        "severity": "error",
        "message": "",
        "is_active": "on",
    }

    bad = client.post(url, {**fields, "right": "tested + nope"})
    good = client.post(url, fields)

    assert bad.status_code == 400 and "No indicator or measure has the code" in bad.content.decode()
    assert good.status_code == 302
    saved = ValidationRule.objects.get(network=framework.network)
    assert (saved.left, saved.operator, saved.right) == ("enrolled", "<=", "tested")
    listing = client_for("viewer").get(reverse("measurement:validation-rule-list", args=[slug]))
    assert listing.status_code == 200 and "enrolled &lt;= tested" in listing.content.decode()


def test_other_roles_and_outsiders_cannot_write_rules(framework, tested, client_for):
    saved = rule(framework)
    slug = framework.network.slug
    create = reverse("measurement:validation-rule-create", args=[slug])
    edit = reverse("measurement:validation-rule-edit", args=[slug, saved.pk])

    assert client_for("org_admin").post(create, {"code": "x"}).status_code == 403
    assert client_for("viewer").post(edit, {"code": "x"}).status_code == 403
    assert client_for("outsider").get(edit).status_code == 404
    other = reverse("measurement:validation-rule-edit", args=[framework.other_network.slug, 1])
    assert client_for("network_admin").get(other).status_code == 404
    saved.refresh_from_db()
    assert saved.code == "enrolled-le-tested"
