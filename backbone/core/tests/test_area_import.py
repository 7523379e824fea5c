import io
import random
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from backbone.core.access import access_for
from backbone.core.area_import import areas_import
from backbone.core.models import Area, AuditEvent
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[3] / "docs" / "samples" / "areas.csv"
HEADER = "code,name,kind,parent_code,population"


@pytest.fixture
def admin(world):
    return access_for(world.users["network_admin"], world.network)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def run(access, text, *, commit=True, filename="areas.csv"):
    data = text.encode() if isinstance(text, str) else text
    return areas_import(access=access, data=data, filename=filename, commit=commit)


def counts():
    return Area.objects.count(), AuditEvent.objects.count()


def tree(network):
    return {
        a.code: (a.kind, a.parent.code if a.parent else None)
        for a in Area.objects.filter(network=network).select_related("parent")
    }


def test_sample_builds_the_hierarchy(world, admin):
    result = run(admin, SAMPLE.read_bytes())

    assert result.committed and (result.created, result.updated, result.unchanged) == (14, 0, 0)
    areas = tree(world.network)
    assert areas["99"] == ("state", None)
    assert areas["99001"] == ("county", "99")
    assert areas["9958300"] == ("city", "99001")
    assert areas["99963"] == ("zip", "9958300")
    assert areas["99003950100"] == ("tract", "99003")
    assert Area.objects.get(network=world.network, code="99").population == 4210000
    assert (
        AuditEvent.objects.filter(
            object_type="core.area",
            action="create",
            via="import",
            actor=world.users["network_admin"],
        ).count()
        == 14
    )


def test_rows_in_any_order_give_the_same_hierarchy(world, admin):
    header, *rows = SAMPLE.read_text().splitlines()
    random.Random(7).shuffle(rows)
    rows.reverse()

    result = run(admin, "\n".join([header, *rows]))

    assert result.created == 14
    assert tree(world.network)["99962"] == ("zip", "9961000")


def test_xlsx_with_numeric_codes(world, admin):
    workbook = openpyxl.Workbook()
    for row in (
        ["code", "name", "kind", "parent_code", "population"],
        [41, "Oregon", "State", None, 4240137],
        [41039, "Lane County", "County", 41, 382971.0],
    ):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)

    result = run(admin, out.getvalue(), filename="areas.xlsx")

    assert result.errors == [] and result.created == 2
    assert tree(world.network)["41039"] == ("county", "41")


def test_reimporting_the_same_file_changes_nothing(world, admin):
    run(admin, SAMPLE.read_bytes())
    before = counts()

    again = run(admin, SAMPLE.read_bytes())

    assert again.committed and (again.created, again.updated, again.unchanged) == (0, 0, 14)
    assert counts() == before


def test_changed_rows_update_and_empty_cells_keep(world, admin):
    run(admin, SAMPLE.read_bytes())
    events = AuditEvent.objects.count()

    result = run(
        admin, f"{HEADER}\n99962,River City (North),zip,,\n99963,Millbrook,zip,9961000,41300\n"
    )

    assert (result.updated, result.created) == (2, 0)
    north = Area.objects.get(network=world.network, code="99962")
    assert north.name == "River City (North)" and north.population == 34100
    assert north.parent.code == "9961000"
    millbrook = Area.objects.get(network=world.network, code="99963")
    assert millbrook.parent.code == "9961000" and millbrook.population == 41300
    assert ("parent_code", "9958300", "9961000") in result.plans[1].changes
    assert AuditEvent.objects.count() - events == 2


def test_parent_may_already_be_in_the_network(world, admin):
    run(admin, SAMPLE.read_bytes())

    result = run(admin, f"{HEADER}\n99001020100,Census Tract 201,tract,99001,3500\n")

    assert result.created == 1
    assert tree(world.network)["99001020100"] == ("tract", "99001")


def test_areas_move_without_passing_through_a_cycle(world, admin):
    run(admin, f"{HEADER}\nB,Beta,other,,\nA,Alpha,other,B,\nC,Gamma,other,,\n")

    # Moving B into A first would put them inside each other; parents move first.
    result = run(admin, f"{HEADER}\nB,Beta,other,A,\nA,Alpha,other,C,\n")

    assert result.committed and result.updated == 2
    assert tree(world.network) == {"A": ("other", "C"), "B": ("other", "A"), "C": ("other", None)}


def test_an_empty_parent_code_keeps_the_stored_parent(world, admin):
    run(admin, f"{HEADER}\nA,Alpha,other,,\nB,Beta,other,A,\n")

    result = run(admin, f"{HEADER}\nB,Beta,other,,\n")

    assert result.unchanged == 1
    assert tree(world.network)["B"] == ("other", "A")


def test_bad_rows_are_each_reported_and_nothing_is_written(world, admin):
    before = counts()
    text = (
        f"{HEADER}\n"
        "99,State of Cascadia,state,,\n"
        "99001,Riverbend County,parish,99,\n"
        "99002,Lake County,county,98,\n"
        "99003,Marrow County,county,99,many\n"
        "99,Duplicate,state,,\n"
        ",No code,city,99,\n"
    )

    result = run(admin, text)

    assert not result.committed
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "kind", "parish"),
        (4, "parent_code", "98"),
        (5, "population", "many"),
        (6, "code", "99"),
        (7, "code", ""),
    ]
    assert result.errors[1].message == "No area has the code 98, in this file or in the network."
    assert result.errors[3].message == "The code 99 is also on row 2."
    assert counts() == before


def test_cycles_are_reported_on_each_row_in_them(world, admin):
    result = run(
        admin, f"{HEADER}\nA,Alpha,other,C,\nB,Beta,other,A,\nC,Gamma,other,B,\nD,Delta,other,D,\n"
    )

    assert [(e.row, e.column) for e in result.errors] == [
        (2, "parent_code"),
        (3, "parent_code"),
        (4, "parent_code"),
        (5, "parent_code"),
    ]
    assert result.errors[0].message == "These areas would be inside each other: A → C → B → A."
    assert result.errors[3].message == "An area cannot be inside itself."


def test_cycle_through_an_existing_area_is_reported(world, admin):
    run(admin, f"{HEADER}\nA,Alpha,other,,\nB,Beta,other,A,\n")

    result = run(admin, f"{HEADER}\nA,Alpha,other,B,\n")

    assert [(e.row, e.message) for e in result.errors] == [
        (2, "These areas would be inside each other: A → B → A."),
    ]


def test_kinds_nest_in_order(world, admin):
    result = run(
        admin,
        f"{HEADER}\n1,Cascadia,state,,\n2,Riverbend,county,1,\n"
        "3,River City,city,2,\n4,Upside Down County,county,3,\n"
        "5,County in county,county,2,\n6,ZIP in city,zip,3,\n",
    )

    assert [(e.row, e.message) for e in result.errors] == [
        (5, "A county cannot be inside a city (3)."),
        (6, "A county cannot be inside a county (2)."),
    ]


def test_area_codes_of_another_network_are_not_parents(world, admin):
    f.AreaFactory(network=world.other_network, code="LAKE", kind="county")

    result = run(admin, f"{HEADER}\nL1,Lake City,city,LAKE,\n")

    assert [(e.row, e.column) for e in result.errors] == [(2, "parent_code")]


def test_same_codes_in_two_networks_stay_apart(world, admin):
    outsider = access_for(world.outsider, world.other_network)
    run(outsider, SAMPLE.read_bytes())

    result = run(admin, SAMPLE.read_bytes())

    assert result.created == 14
    assert Area.objects.filter(code="99").count() == 2


def test_only_network_admins_may_import(world):
    with pytest.raises(PermissionDenied):
        run(access_for(world.users["org_admin"], world.network), SAMPLE.read_bytes())


# Web ----------------------------------------------------------------------------------------


def url(world):
    return reverse("core:area-import", args=[world.network.slug])


def test_admin_previews_then_confirms(world, client_for):
    client = client_for("network_admin")

    preview = client.post(
        url(world), {"file": SimpleUploadedFile("areas.csv", SAMPLE.read_bytes())}
    )

    assert preview.status_code == 200
    assert "Would create 14, update 0; 0 unchanged." in preview.content.decode()
    assert Area.objects.count() == 0
    confirm = client.post(url(world), {"token": preview.context["token"]})
    assert confirm.status_code == 302
    assert confirm.url == reverse("core:area-list", args=[world.network.slug])
    assert Area.objects.filter(network=world.network).count() == 14
    follow = client.get(url(world))
    assert follow.status_code == 200


def test_preview_of_an_unchanged_file_offers_no_confirmation(world, admin, client_for):
    run(admin, SAMPLE.read_bytes())

    preview = client_for("network_admin").post(
        url(world), {"file": SimpleUploadedFile("areas.csv", SAMPLE.read_bytes())}
    )

    assert preview.status_code == 200
    assert "would change nothing" in preview.content.decode()
    assert "Confirm import" not in preview.content.decode()


def test_preview_lists_errors(world, client_for):
    response = client_for("network_admin").post(
        url(world),
        {"file": SimpleUploadedFile("areas.csv", f"{HEADER}\nX,Somewhere,planet,,\n".encode())},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "Unknown kind." in page and "Confirm import" not in page


def test_org_member_gets_403(world, client_for):
    assert client_for("org_member").get(url(world)).status_code == 403


def test_outsider_gets_404(world, client_for):
    assert client_for("outsider").get(url(world)).status_code == 404


def test_anonymous_is_sent_to_log_in(world, client_for):
    response = client_for(None).get(url(world))

    assert response.status_code == 302 and "/accounts/login/" in response.url


# Command line -------------------------------------------------------------------------------


def test_cli_imports_and_dry_run_writes_nothing(world, capsys):
    before = counts()

    call_command("areas", "import", str(SAMPLE), "--network", world.network.slug, "--dry-run")

    assert "Would create 14" in capsys.readouterr().out
    assert counts() == before
    call_command("areas", "import", str(SAMPLE), "--network", world.network.slug)
    assert "Created 14, updated 0, unchanged 0." in capsys.readouterr().out
    assert Area.objects.filter(network=world.network).count() == 14


def test_cli_errors_exit_non_zero(world, tmp_path, capsys):
    bad = tmp_path / "areas.csv"
    bad.write_text(f"{HEADER}\n1,Cascadia,state,,\n2,Riverbend,county,9,\n")

    with pytest.raises(CommandError) as raised:
        call_command("areas", "import", str(bad), "--network", world.network.slug, "--dry-run")

    assert raised.value.returncode == 1
    assert capsys.readouterr().err.strip() == (
        "row 3, column parent_code: No area has the code 9, in this file or in the network."
    )
    assert Area.objects.count() == 0


def test_cli_unknown_network(world):
    with pytest.raises(CommandError, match="No network has the slug"):
        call_command("areas", "import", str(SAMPLE), "--network", "nowhere")
