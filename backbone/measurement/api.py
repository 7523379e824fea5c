"""The bulk data endpoint: send a tidy file (multipart) or JSON rows, get a job back.

    POST /api/v1/networks/{network}/data/imports      Idempotency-Key: <your key>
    GET  /api/v1/networks/{network}/data/imports/{id}

The same key with the same body returns the same job (200) and does nothing new; the same
key with another body is 409. Jobs run in the background: poll the GET for the status,
the progress and the report (row, column, value, rule, message).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from ninja import Field, Header, Path, Router, Schema, Status

from backbone.api.auth import path_id, secured
from backbone.api.errors import ERRORS, Error, invalid
from backbone.api.schemas import MAX_ID
from backbone.measurement import data_file, import_jobs
from backbone.measurement.models import ImportJob

router = Router(tags=["data imports"])
TRUE = {"1", "true", "yes", "on"}


class ImportJobOut(Schema):
    id: int
    filename: str
    status: str = Field(description="queued, checking, checked, invalid, committing, done, failed")
    via: str
    commit: bool = Field(description="Whether the job writes once its check passes.")
    total_rows: int
    processed_rows: int
    progress: int = Field(description="Percent of the rows processed in the current step.")
    report: dict = Field(
        description="created, updated, unchanged, error_count, errors and warnings "
        "(each {row, column, value, rule, message})."
    )
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_progress(obj) -> int:
        return int(100 * obj.processed_rows / obj.total_rows) if obj.total_rows else 0


def job_check(access, path: dict) -> None:
    pk = path_id(str(path.get("id", "")))
    if pk is not None:
        access.get_object(ImportJob, pk=pk)


REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "commit": {"type": "boolean", "default": False},
                        "reason": {"type": "string"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rows"],
                    "properties": {
                        "rows": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": {"type": ["string", "number", "null"]},
                            },
                            "description": "One object per value, keyed by the tidy "
                            "format's columns (indicator, period, organization, area, "
                            "dimension codes, value, numerator, denominator, comment).",
                        },
                        "commit": {"type": "boolean", "default": False},
                        "reason": {"type": "string"},
                    },
                }
            },
        },
    }
}


def _rows_csv(rows) -> bytes:
    """JSON rows as the same tidy CSV a file would carry (so one checker serves both)."""
    if not isinstance(rows, list) or not rows:
        raise invalid("rows", "Give a non-empty list of rows.")
    if len(rows) > data_file.MAX_ROWS:
        raise invalid("rows", f"At most {data_file.MAX_ROWS:,} rows in one request.")
    columns: dict[str, None] = {}
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise invalid("rows", f"Row {number} is not an object.")
        for key, value in row.items():
            if value is not None and not isinstance(value, str | int | float):
                raise invalid("rows", f"Row {number}, {key}: give text, a number or null.")
            columns.setdefault(key, None)
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return text.getvalue().encode("utf-8")


def _body(request) -> tuple[bytes, str, bool, str]:
    """(file bytes, file name, commit, reason) from a multipart or JSON request."""
    content_type = request.content_type or ""
    if content_type.startswith("multipart/form-data"):
        upload = request.FILES.get("file")
        if upload is None:
            raise invalid("file", "Send the data file in the form field “file”.")
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise invalid("file", "Send a .csv or .xlsx file.")
        if upload.size > data_file.MAX_BYTES:
            raise invalid("file", f"The file is larger than {data_file.MAX_BYTES // 2**20} MB.")
        commit = request.POST.get("commit", "").lower() in TRUE
        return upload.read(), upload.name, commit, request.POST.get("reason", "")
    if content_type == "application/json":
        if len(request.body) > data_file.MAX_BYTES * 2:
            raise invalid("rows", "The request is too large; send a file instead.")
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise invalid("rows", "The body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise invalid("rows", "Send an object with “rows”.")
        commit, reason = payload.get("commit", False), payload.get("reason", "")
        if not isinstance(commit, bool):
            raise invalid("commit", "Give true or false.")
        if not isinstance(reason, str):
            raise invalid("reason", "Give text.")
        return _rows_csv(payload.get("rows")), "rows.csv", commit, reason
    raise invalid("file", "Send multipart/form-data with a file, or application/json with rows.")


@router.post(
    "/{network}/data/imports",
    **secured(ImportJob, "add"),
    response={200: ImportJobOut, 202: ImportJobOut, 409: Error, **ERRORS},
    operation_id="create_data_import",
    url_name="create_data_import",
    summary="Send data values (a file or JSON rows) to check and, with commit, write",
    openapi_extra=REQUEST_BODY,
)
def create_data_import(
    request,
    network: str,
    idempotency_key: str = Header(
        "",
        alias="Idempotency-Key",
        max_length=200,
        description="A key of your own; sending it again with the same body returns the "
        "same job and does nothing new.",
    ),
):
    """202 with a new job; 200 with the earlier job for a repeated Idempotency-Key; 409
    when that key was used with another body."""
    access = request.auth
    data, filename, commit, reason = _body(request)
    try:
        job, created = import_jobs.import_job_create(
            access=access,
            data=data,
            filename=filename,
            via="api",
            commit=commit,
            reason=reason,
            idempotency_key=idempotency_key or "",
        )
    except import_jobs.IdempotencyConflict as exc:
        return Status(409, {"detail": str(exc)})
    job.refresh_from_db()
    return Status(202 if created else 200, job)


@router.get(
    "/{network}/data/imports/{id}",
    **secured(ImportJob, "view", job_check),
    response={200: ImportJobOut, **ERRORS},
    operation_id="get_data_import",
    url_name="get_data_import",
    summary="The status, progress and report of a data import",
)
def get_data_import(request, network: str, id: int = Path(..., ge=1, le=MAX_ID)):
    return request.auth.get_object(ImportJob, pk=id)
