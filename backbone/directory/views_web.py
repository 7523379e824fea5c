"""Directory pages under /n/<network>/directory/: search, service pages, the resource
list for a client, listing changes with approval, and HSDS uploads."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from backbone.core.web import members_only, network_view
from backbone.directory import selectors, services
from backbone.directory.forms import DecisionForm, ListingForm, SearchForm, UploadForm
from backbone.directory.models import DirectoryUpload, ListingChangeRequest, ResourceList, Service
from backbone.directory.search import search_services, service_uuid, stale_months

LIST_SESSION_KEY = "directory_list"


def _service(access, hsds_id: str) -> Service:
    found = service_uuid(hsds_id)
    if found is None:
        raise Http404("No service found.")
    return access.get_object(Service, hsds_id=found)


def _session_list(request, access) -> list[int]:
    return list(request.session.get(LIST_SESSION_KEY, {}).get(str(access.network.pk), []))


def _save_session_list(request, access, ids: list[int]) -> None:
    lists = request.session.get(LIST_SESSION_KEY, {})
    lists[str(access.network.pk)] = ids[: services.MAX_LIST]
    request.session[LIST_SESSION_KEY] = lists


@network_view
def directory_search(request, access):
    access.require_allowed(Service)
    form = SearchForm(request.GET or None, choices=selectors.filter_choices(access))
    results, status = None, 200
    if form.is_bound and not form.is_valid():
        status = 200 if request.htmx else 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        near = (data["lat"], data["lon"]) if data.get("lat") is not None else None
        results = search_services(
            access,
            q=data.get("q", ""),
            taxonomy_term=data.get("category") or None,
            life_stage=data.get("life_stage") or None,
            population=data.get("population") or None,
            language=data.get("language") or None,
            area=data.get("area") or None,
            open_now=bool(data.get("open_now")) or None,
            near=near,
            radius_km=data.get("radius") or None,
            stale=True if data.get("stale") else None,
            page=data.get("page") or 1,
        )
    context = {
        "access": access,
        "form": form,
        "results": results,
        "in_list": set(_session_list(request, access)),
        "stale_months": stale_months(),
        "can_see_changes": access.allows(ListingChangeRequest)
        and (access.is_admin or access.organization_id is not None),
    }
    return render(request, "directory/search.html", context, status=status)


@network_view
def service_detail(request, access, hsds_id: str):
    service = _service(access, hsds_id)
    context = {
        "access": access,
        "details": selectors.service_details(access, service),
        "in_list": service.pk in _session_list(request, access),
        "can_propose": services.listing_editable_by(access, service),
        "can_edit": access.can("change", service),
        "can_verify": services.listing_verifiable_by(access, service),
        "stale_months": stale_months(),
    }
    return render(request, "directory/service_detail.html", context)


@network_view
@require_POST
def list_toggle(request, access, hsds_id: str):
    service = _service(access, hsds_id)
    ids = _session_list(request, access)
    if service.pk in ids:
        ids.remove(service.pk)
    else:
        ids.append(service.pk)
    _save_session_list(request, access, ids)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("directory:list", args=[access.network.slug])
    return redirect(back)


@network_view
def resource_list(request, access):
    access.require_allowed(Service)
    ids = _session_list(request, access)
    if request.method == "POST":
        try:
            shared = services.resource_list_create(access=access, service_ids=ids)
        except services.ListingError as exc:
            messages.error(request, str(exc))
            return redirect(request.path)
        return redirect("directory:list-shared", access.network.slug, shared.token)
    found = access.scope(Service).select_related("organization").in_bulk(ids)
    context = {"access": access, "services": [found[pk] for pk in ids if pk in found]}
    return render(request, "directory/resource_list.html", context)


@network_view
def resource_list_shared(request, access, token: str):
    shared = access.scope(ResourceList).filter(token=token).first()
    if shared is None:
        raise Http404("No resource list found.")
    found = access.scope(Service).in_bulk(shared.service_ids)
    details = [
        selectors.service_details(access, found[pk]) for pk in shared.service_ids if pk in found
    ]
    url = request.build_absolute_uri()
    return render(
        request,
        "directory/resource_list_shared.html",
        {"access": access, "shared": shared, "details": details, "share_url": url},
    )


@network_view
@members_only
def listing_edit(request, access, hsds_id: str):
    """A partner proposes changes to its own listing; a network admin edits directly."""
    service = _service(access, hsds_id)
    direct = access.can("change", service)
    if not direct and not services.listing_editable_by(access, service):
        raise PermissionDenied("Only the listing's own organization may propose changes.")
    form = ListingForm(
        request.POST or None, initial_values=services.listing_values(service), with_note=not direct
    )
    if request.method == "POST" and form.is_valid():
        # A field the form did not send is left as it is, not cleared.
        values = {k: v for k, v in form.cleaned_data.items() if k != "note" and k in request.POST}
        try:
            if direct:
                changed = services.listing_edit(access=access, service=service, values=values)
                messages.success(request, f"Saved {len(changed)} change(s).")
            else:
                services.listing_change_propose(
                    access=access, service=service, values=values, note=form.cleaned_data["note"]
                )
                messages.success(request, "Your change was sent to the backbone for approval.")
            return redirect("directory:service-detail", access.network.slug, hsds_id)
        except services.ListingError as exc:
            for name, message in exc.errors.items():
                form.add_error(name or None, message)
    heading = f"Edit {service.name}" if direct else f"Propose a change to {service.name}"
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": heading,
            "intro": "" if direct else "The backbone reviews every change before it is published.",
            "submit_label": "Save" if direct else "Send for approval",
            "cancel_url": reverse("directory:service-detail", args=[access.network.slug, hsds_id]),
        },
        status=400 if form.errors else 200,
    )


@network_view
@require_POST
def service_verify(request, access, hsds_id: str):
    service = _service(access, hsds_id)
    services.service_mark_verified(access=access, service=service)
    messages.success(request, "Marked as verified today.")
    return redirect("directory:service-detail", access.network.slug, hsds_id)


@network_view
@members_only
def change_list(request, access):
    access.require_allowed(ListingChangeRequest)
    changes = access.scope(ListingChangeRequest).select_related(
        "service", "organization", "proposed_by"
    )
    status = request.GET.get("status", "pending")
    if status in ListingChangeRequest.Status.values:
        changes = changes.filter(status=status)
    return render(
        request,
        "directory/change_list.html",
        {
            "access": access,
            "changes": changes[:200],
            "status": status,
            "statuses": ListingChangeRequest.Status.choices,
        },
    )


@network_view
@members_only
def change_detail(request, access, pk: int):
    change = access.get_object(ListingChangeRequest, pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decide = (
            services.listing_change_approve
            if "approve" in request.POST
            else services.listing_change_reject
        )
        try:
            decide(access=access, change=change, comment=form.cleaned_data["comment"])
            messages.success(request, f"Change {change.get_status_display().lower()}.")
            return redirect("directory:change-list", access.network.slug)
        except services.ListingError as exc:
            for name, message in exc.errors.items():
                form.add_error(name or None, message)
    rows = [
        (services.EDITABLE_FIELDS[name][0], change.current.get(name, ""), value)
        for name, value in change.proposed.items()
    ]
    return render(
        request,
        "directory/change_detail.html",
        {
            "access": access,
            "change": change,
            "rows": rows,
            "form": form,
            "can_decide": access.can("change", change)
            and change.status == ListingChangeRequest.Status.PENDING,
        },
        status=400 if form.errors else 200,
    )


@network_view
@members_only
def upload(request, access):
    access.require_allowed(
        DirectoryUpload, "add", message="Only backbone staff may import into the directory."
    )
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        created = services.directory_upload_create(
            access=access,
            filename=file.name,
            content=file.read(),
            repair=form.cleaned_data["repair"],
            skip_invalid=form.cleaned_data["skip_invalid"],
            dry_run=form.cleaned_data["dry_run"],
        )
        return redirect("directory:upload-detail", access.network.slug, created.pk)
    uploads = access.scope(DirectoryUpload).defer("content").select_related("created_by")[:20]
    return render(
        request,
        "directory/upload.html",
        {"access": access, "form": form, "uploads": uploads},
        status=400 if form.errors else 200,
    )


def _upload(access, pk: int) -> DirectoryUpload:
    access.require_allowed(DirectoryUpload, message="Only backbone staff may see imports.")
    return access.get_object(DirectoryUpload, pk=pk)


@network_view
@members_only
def upload_detail(request, access, pk: int):
    found = _upload(access, pk)
    return render(request, "directory/upload_detail.html", {"access": access, "upload": found})


@network_view
@members_only
def upload_progress(request, access, pk: int):
    found = _upload(access, pk)
    response = render(
        request, "directory/_upload_progress.html", {"access": access, "upload": found}
    )
    if found.finished and request.htmx:
        # The whole page reloads once, to show the report.
        response["HX-Refresh"] = "true"
    return response
