"""Background tasks of the directory: importing an HSDS file uploaded on the web.

The task does what `backbone hsds import` does (same reader, same service function,
same options), as the person who uploaded the file, and keeps the upload's step,
percent and full report up to date for the progress page. Each step is saved in its
own transaction so the page sees it while the import runs.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_tasks import task

MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_REPORTED = 10_000


class UploadError(Exception):
    """The uploaded file cannot be read as a whole."""


def _unpack(filename: str, content: bytes, folder: Path) -> Path:
    """Write the upload into FOLDER; returns the path to give the HSDS reader."""
    if filename.lower().endswith(".json"):
        path = folder / (Path(filename).name or "upload.json")
        path.write_bytes(content)
        return path
    archive_path = folder / "upload.zip"
    archive_path.write_bytes(content)
    try:
        archive = zipfile.ZipFile(archive_path)
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{filename}: not a readable .zip file.") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            raise UploadError(f"{filename}: unpacks to more than 500 MB.")
        target = folder / "package"
        for member in members:
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts:
                raise UploadError(f"{filename}: {member.filename} points outside the archive.")
            if name.name.startswith(".") or "__MACOSX" in name.parts:
                continue
            destination = target.joinpath(*name.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(member))
    packages = sorted(target.rglob("datapackage.json"), key=lambda p: len(p.parts))
    if packages:
        return packages[0].parent
    folders = sorted({p.parent for p in target.rglob("*.csv")}, key=lambda p: len(p.parts))
    if folders:
        return folders[0]
    raise UploadError(f"{filename}: the .zip holds no datapackage.json and no CSV file.")


def _problem(problem) -> dict:
    return {
        "file": problem.file,
        "row": problem.row,
        "table": problem.table,
        "record_id": problem.record_id,
        "field": problem.field,
        "message": problem.message,
        "text": str(problem),
    }


def _save(upload, **values) -> None:
    for name, value in values.items():
        setattr(upload, name, value)
    upload.save(update_fields=list(values))


def _finish(upload, status, report: dict) -> None:
    _save(
        upload,
        status=status,
        percent=100,
        step=upload.Status(status).label,
        report=report,
        content=b"",
        finished_at=timezone.now(),
    )


@task()
def directory_upload_run(upload_id: int) -> str:
    from backbone.core.access import access_for
    from backbone.directory.hsds.reading import ReadError, read
    from backbone.directory.hsds.schema import SchemasMissing
    from backbone.directory.models import DirectoryUpload
    from backbone.directory.services import directory_import_records

    upload = DirectoryUpload.objects.select_related("network", "created_by").get(pk=upload_id)
    if upload.finished:
        return upload.status
    Status = DirectoryUpload.Status
    _save(upload, status=Status.RUNNING, step="Reading the file", percent=10)
    access = access_for(upload.created_by, upload.network) if upload.created_by else None
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = _unpack(upload.filename, bytes(upload.content), Path(folder))
            records, form = read(path)
        _save(upload, step=f"Checking and writing {len(records):,} records", percent=30)
        if access is None:
            raise PermissionDenied("The person who uploaded the file no longer has access.")
        result = directory_import_records(
            access=access,
            records=records,
            form=form,
            source=upload.filename,
            repair=upload.repair,
            skip_invalid=upload.skip_invalid,
            dry_run=upload.dry_run,
            via="web",
        )
    except (UploadError, ReadError, SchemasMissing, PermissionDenied, OSError) as exc:
        _finish(upload, Status.FAILED, {"fatal": str(exc)})
        return upload.status
    report = {
        "form": form,
        "records": len(records),
        "dry_run": upload.dry_run,
        "committed": result.committed,
        "summary": result.summary(),
        "error_count": len(result.errors),
        "errors": [_problem(p) for p in result.errors[:MAX_REPORTED]],
        "skipped": [_problem(p) for p in result.skipped[:MAX_REPORTED]],
        "repairs": [str(r) for r in result.repairs[:MAX_REPORTED]],
    }
    _finish(upload, Status.INVALID if result.errors else Status.DONE, report)
    return upload.status
