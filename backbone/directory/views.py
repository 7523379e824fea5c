"""The HSDS 3.0 API of a network's directory: `/hsds/<network>/` + the official paths.

Read-only and in the official shapes (schema/openapi.json of the HSDS 3.0 specification),
so an HSDS client given the base URL works. The public reads a public network's
directory; members read their network's with the session or a personal access token
(`Authorization: Bearer …`); everyone else gets 404, whether the network exists or not.
"""

from __future__ import annotations

import functools

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, JsonResponse
from ninja.errors import AuthenticationError

from backbone.api.auth import SLUG, token_user
from backbone.core.access import access_or_404
from backbone.directory import hsds_api
from backbone.directory.hsds_api import BadQuery, PageRequest, flag, hsds_uuid
from backbone.directory.models import (
    DirectoryOrganization,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
PROFILE_URL = "https://docs.openreferral.org/en/v3.0/"


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def hsds_view(view):
    """Resolve the caller's access to the network of the path, then answer GETs only.

    The network is checked before the method, so nobody learns that a network exists
    by sending a POST."""

    @functools.wraps(view)
    def wrapper(request, network_slug: str, **kwargs):
        user = request.user
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            try:
                user = token_user(header[7:].strip())
            except AuthenticationError:
                return _error(401, "The token is invalid, revoked or expired.")
        elif not getattr(user, "is_authenticated", False):
            user = AnonymousUser()
        try:
            if not SLUG.fullmatch(network_slug):
                raise Http404
            access = access_or_404(user, network_slug)
        except Http404:
            return _error(404, "Not found.")
        if request.method not in ("GET", "HEAD"):
            response = _error(405, "The HSDS API is read-only.")
            response["Allow"] = "GET, HEAD"
            return response
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in a query.
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return _error(400, f"The query parameter {name!r} contains a NUL character.")
        try:
            return view(request, access, **kwargs)
        except BadQuery as exc:
            return _error(400, str(exc))
        except Http404:
            return _error(404, "Not found.")

    return wrapper


def _page(request, queryset, shape) -> JsonResponse:
    page = PageRequest.parse(request.GET)
    total, pks = hsds_api.paginate(queryset, page)
    contents = shape(queryset.filter(pk__in=pks))
    return JsonResponse(hsds_api.envelope(total, page, contents))


def _one(access, model, hsds_id: str):
    found = hsds_uuid(hsds_id)
    if found is None:
        raise Http404
    rows = access.scope(model).filter(hsds_id=found)
    if not rows.exists():
        raise Http404
    return rows


@hsds_view
def root(request, access):
    return JsonResponse({"version": "3.0", "profile": PROFILE_URL, "openapi_url": OPENAPI_URL})


@hsds_view
def service_list(request, access):
    services = hsds_api.services_matching(access, request.GET)
    if flag(request.GET, "minimal"):
        return _page(request, services, lambda rows: hsds_api.services_minimal(access, rows))
    full = flag(request.GET, "full")
    return _page(request, services, lambda rows: hsds_api.services_shaped(access, rows, full=full))


@hsds_view
def service_detail(request, access, hsds_id: str):
    rows = _one(access, Service, hsds_id)
    return JsonResponse(hsds_api.services_shaped(access, rows, full=True)[0])


@hsds_view
def service_at_location_list(request, access):
    links = hsds_api.service_at_locations_matching(access, request.GET)
    full = flag(request.GET, "full")
    return _page(
        request, links, lambda rows: hsds_api.service_at_locations_shaped(access, rows, full=full)
    )


@hsds_view
def service_at_location_detail(request, access, hsds_id: str):
    rows = _one(access, ServiceAtLocation, hsds_id)
    return JsonResponse(hsds_api.service_at_locations_shaped(access, rows, full=True)[0])


@hsds_view
def organization_list(request, access):
    organizations = hsds_api.organizations_matching(access, request.GET)
    full, full_service = flag(request.GET, "full"), flag(request.GET, "full_service")
    return _page(
        request,
        organizations,
        lambda rows: hsds_api.organizations_shaped(
            access, rows, full=full or full_service, full_service=full_service
        ),
    )


@hsds_view
def organization_detail(request, access, hsds_id: str):
    rows = _one(access, DirectoryOrganization, hsds_id)
    full_service = flag(request.GET, "full_service")
    shaped = hsds_api.organizations_shaped(access, rows, full=True, full_service=full_service)
    return JsonResponse(shaped[0])


@hsds_view
def taxonomy_list(request, access):
    taxonomies = hsds_api.taxonomies_matching(access, request.GET)
    return _page(request, taxonomies, lambda rows: hsds_api.taxonomies_shaped(access, rows))


@hsds_view
def taxonomy_detail(request, access, hsds_id: str):
    return JsonResponse(hsds_api.taxonomies_shaped(access, _one(access, Taxonomy, hsds_id))[0])


@hsds_view
def taxonomy_term_list(request, access):
    terms = hsds_api.taxonomy_terms_matching(access, request.GET)
    return _page(request, terms, lambda rows: hsds_api.taxonomy_terms_shaped(access, rows))


@hsds_view
def taxonomy_term_detail(request, access, hsds_id: str):
    rows = _one(access, TaxonomyTerm, hsds_id)
    return JsonResponse(hsds_api.taxonomy_terms_shaped(access, rows)[0])
