"""Web upload of HSDS files: stored, imported by a background task, progress, report."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backbone.core.access import access_for
from backbone.directory.models import DirectoryUpload, Service, ServiceSearch
from backbone.directory.services import directory_import
from backbone.directory.tasks import directory_upload_run

pytestmark = pytest.mark.django_db


def upload_url(world):
    return reverse("directory:upload", args=[world.network.slug])


def send(client, world, name, content, **options):
    data = {"file": SimpleUploadedFile(name, content), **{k: "on" for k in options}}
    return client.post(upload_url(world), data)


def test_upload_of_the_official_json_imports_like_the_command(world, hsds, client_for, tmp_path):
    path = hsds / "examples" / "service_full.json"
    other = access_for(world.outsider, world.other_network)
    expected = directory_import(access=other, path=path).summary()
    response = send(client_for("network_admin"), world, "service_full.json", path.read_bytes())
    upload = DirectoryUpload.objects.get(network=world.network)
    assert response["Location"].endswith(f"/directory/upload/{upload.pk}/")
    assert upload.status == "done" and upload.percent == 100
    assert upload.report["summary"] == expected
    assert upload.report["committed"] and upload.content == b""
    assert Service.objects.filter(network=world.network).count() == 1
    assert ServiceSearch.objects.filter(network=world.network).count() == 1
    page = client_for("network_admin").get(response["Location"]).content.decode()
    assert 'value="100"' in page and "Imported." in page


def test_upload_of_the_official_csv_datapackage_as_zip(world, hsds, client_for):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted((hsds / "examples" / "csv").iterdir()):
            archive.write(file, f"hsds-example/{file.name}")
    send(client_for("network_admin"), world, "example.zip", buffer.getvalue(), repair=True)
    upload = DirectoryUpload.objects.get()
    assert upload.status == "done", upload.report
    assert upload.report["form"] == "csv" and upload.report["repairs"]
    assert Service.objects.filter(network=world.network).count() == 1


def test_bad_file_reports_every_problem_and_writes_nothing(world, hsds, client_for):
    record = json.loads((hsds / "examples" / "service_full.json").read_text())
    record["status"] = "open"
    record["assured_date"] = "1/31/2024"
    send(client_for("network_admin"), world, "bad.json", json.dumps(record).encode())
    upload = DirectoryUpload.objects.get()
    assert upload.status == "invalid"
    problems = {(p["field"], p["row"]) for p in upload.report["errors"]}
    assert ("status", "$") in problems
    assert ("assured_date", "$") in problems
    assert all(p["file"] == "bad.json" for p in upload.report["errors"])
    assert not Service.objects.filter(network=world.network).exists()
    page = client_for("network_admin").get(
        reverse("directory:upload-detail", args=[world.network.slug, upload.pk])
    )
    text = page.content.decode()
    assert "Nothing was written" in text and "is not a date like 2024-01-31" in text


def test_repair_and_dry_run_options(world, hsds, client_for):
    record = json.loads((hsds / "examples" / "service_full.json").read_text())
    record["assured_date"] = "1/31/2024"
    send(
        client_for("network_admin"),
        world,
        "fix.json",
        json.dumps(record).encode(),
        repair=True,
        dry_run=True,
    )
    upload = DirectoryUpload.objects.get()
    assert upload.status == "done" and not upload.report["committed"]
    assert any("'1/31/2024' -> '2024-01-31'" in r for r in upload.report["repairs"])
    assert upload.report["summary"]["created"]["service"] == 1
    assert not Service.objects.filter(network=world.network).exists()


def test_unreadable_files_are_refused(world, hsds, client_for):
    admin = client_for("network_admin")
    response = send(admin, world, "directory.xlsx", b"PK")
    assert response.status_code == 400
    assert "directory.xlsx: upload a .json file or a .zip file." in response.content.decode()
    assert not DirectoryUpload.objects.exists()
    send(admin, world, "broken.zip", b"not a zip")
    upload = DirectoryUpload.objects.get()
    assert upload.status == "failed"
    assert upload.report["fatal"] == "broken.zip: not a readable .zip file."
    assert not Service.objects.filter(network=world.network).exists()


def test_progress_fragment_polls_until_finished(world, hsds, client_for):
    upload = DirectoryUpload.objects.create(
        network=world.network,
        created_by=world.users["network_admin"],
        filename="x.json",
        content=b"{}",
        step="Checking and writing 10 records",
        percent=30,
        status="running",
    )
    url = reverse("directory:upload-progress", args=[world.network.slug, upload.pk])
    admin = client_for("network_admin")
    text = admin.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in text and 'value="30"' in text
    upload.status, upload.percent = "done", 100
    upload.save()
    response = admin.get(url, headers={"HX-Request": "true"})
    assert "every 1s" not in response.content.decode() and response["HX-Refresh"] == "true"


def test_only_network_admins_upload_and_outsiders_get_404(world, hsds, client_for):
    for role in ("org_admin", "org_member", "funder", "viewer"):
        assert client_for(role).get(upload_url(world)).status_code == 403, role
        assert send(client_for(role), world, "a.json", b"{}").status_code == 403, role
    assert client_for("outsider").get(upload_url(world)).status_code == 404
    theirs = DirectoryUpload.objects.create(
        network=world.other_network, created_by=world.outsider, filename="t.json", content=b""
    )
    url = reverse("directory:upload-detail", args=[world.network.slug, theirs.pk])
    assert client_for("network_admin").get(url).status_code == 404
    assert not DirectoryUpload.objects.filter(network=world.network).exists()


def test_task_refuses_an_uploader_who_lost_access(world, hsds):
    upload = DirectoryUpload.objects.create(
        network=world.network, created_by=world.outsider, filename="a.json", content=b"{}"
    )
    directory_upload_run.call(upload.pk)
    upload.refresh_from_db()
    assert upload.status == "failed" and "no longer has access" in upload.report["fatal"]
