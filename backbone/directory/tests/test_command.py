import pytest
from django.core.management import CommandError, call_command

from backbone.directory.models import Metadata, Service


def test_cli_dry_run_writes_nothing(world, hsds, capsys):
    call_command(
        "hsds", "import", str(hsds / "examples" / "service_full.json"),
        "--network", world.network.slug, "--dry-run",
    )  # fmt: skip

    assert "Dry run" in capsys.readouterr().out
    assert not Service.objects.exists() and not Metadata.objects.exists()


def test_cli_imports_and_exports(world, hsds, tmp_path, capsys):
    call_command(
        "hsds", "import", str(hsds / "examples" / "service_full.json"),
        "--network", world.network.slug,
    )  # fmt: skip
    call_command("hsds", "export", str(tmp_path), "--network", world.network.slug)

    assert Service.objects.filter(network=world.network).count() == 1
    assert (tmp_path / "csv" / "services.csv").exists()
    assert (tmp_path / "services.json").exists()


def test_cli_strict_error_lists_problems(world, hsds, tmp_path, capsys):
    call_command("hsds", "export", str(tmp_path), "--network", world.network.slug)
    (tmp_path / "csv" / "services.csv").write_text(
        "id,organization_id,name,status\n00000000-0000-4000-8000-000000000001,,x,open\n"
    )

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("hsds", "import", str(tmp_path / "csv"), "--network", world.network.slug)

    err = capsys.readouterr().err
    assert "services.csv row 2" in err and "status" in err and "organization_id" in err
    assert not Service.objects.exists()
