"""Upload → preview → confirm pages for imports; the area import lives here too.

Between the preview and the confirmation the uploaded file waits in the default storage
under imports/<random token>; only the session that uploaded it knows the token, and
the file is read and checked again on confirmation.
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from backbone.core import area_import as area_importing
from backbone.core import tabular
from backbone.core.models import Area
from backbone.core.web import members_only, network_view

UPLOAD_DIR = "imports"
SESSION_KEY = "backbone_imports"
KEEP_UPLOADS = datetime.timedelta(hours=24)
MAX_PENDING = 5
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A .csv file (UTF-8) or an .xlsx workbook (the first sheet is read), "
        f"at most {tabular.MAX_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(tabular.EXTENSIONS)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(tabular.EXTENSIONS):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        if upload.size > tabular.MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {tabular.MAX_BYTES // (1024 * 1024)} MB."
            )
        return upload


def _pending(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _store(request, access, kind: str, data: bytes, filename: str) -> str:
    _remove_stale_uploads()
    token = secrets.token_urlsafe(24)
    extension = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    name = default_storage.save(f"{UPLOAD_DIR}/{token}{extension}", ContentFile(data))
    pending = _pending(request)
    pending[token] = {
        "network": access.network.pk,
        "kind": kind,
        "filename": filename,
        "name": name,
        "at": timezone.now().isoformat(),
    }
    for old in sorted(pending, key=lambda t: pending[t]["at"])[:-MAX_PENDING]:
        default_storage.delete(pending.pop(old)["name"])
    request.session[SESSION_KEY] = pending
    return token


def _load(request, access, kind: str, token: str) -> tuple[bytes, str] | None:
    entry = _pending(request).get(token) if TOKEN_RE.fullmatch(token) else None
    if not entry or entry["network"] != access.network.pk or entry["kind"] != kind:
        return None
    try:
        with default_storage.open(entry["name"], "rb") as file:
            return file.read(), entry["filename"]
    except FileNotFoundError:
        return None


def _discard(request, token: str) -> None:
    pending = _pending(request)
    entry = pending.pop(token, None)
    if entry:
        default_storage.delete(entry["name"])
        request.session[SESSION_KEY] = pending


def _remove_stale_uploads() -> None:
    """Uploads that were previewed and never confirmed are removed after a day."""
    try:
        _, files = default_storage.listdir(UPLOAD_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    cutoff = timezone.now() - KEEP_UPLOADS
    for name in files:
        path = f"{UPLOAD_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue


def import_page(
    request, access, *, kind: str, importer: Callable, template: str, done_url: str, context: dict
):
    """Upload a file, preview what it does, then confirm; nothing is written before."""
    page = {"access": access, "form": UploadForm(), **context}
    if request.method == "POST" and "token" in request.POST:
        token = request.POST["token"]
        upload = _load(request, access, kind, token)
        if upload is None:
            messages.error(
                request, "That upload has expired or was already imported. Upload the file again."
            )
            return redirect(request.path)
        data, filename = upload
        result = importer(access=access, data=data, filename=filename, commit=True)
        _discard(request, token)
        if result.committed:
            messages.success(request, f"Imported {filename}. {result.summary()}")
            return redirect(done_url)
        return render(
            request, template, {**page, "result": result, "filename": filename}, status=400
        )
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, template, {**page, "form": form}, status=400)
        upload = form.cleaned_data["file"]
        data = upload.read()
        result = importer(access=access, data=data, filename=upload.name, commit=False)
        changes = result.created + result.updated
        token = (
            _store(request, access, kind, data, upload.name) if (result.ok and changes) else None
        )
        return render(
            request,
            template,
            {
                **page,
                "result": result,
                "filename": upload.name,
                "token": token,
            },
            status=200 if result.ok else 400,
        )
    return render(request, template, page)


@network_view
@members_only
def area_import(request, access):
    access.require_allowed(Area, "add", message="Only backbone staff may import areas.")
    return import_page(
        request,
        access,
        kind="areas",
        importer=area_importing.areas_import,
        template="core/area_import.html",
        done_url=reverse("core:area-list", args=[access.network.slug]),
        context={
            "heading": "Import areas",
            "columns": area_importing.COLUMNS,
            "kinds": Area.Kind.choices,
        },
    )
