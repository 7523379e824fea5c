"""Importing a partner list from the web: upload, preview, confirm; and its template file."""

from django.http import HttpResponse
from django.urls import reverse

from backbone.core.import_views import import_page
from backbone.core.models import Membership, Organization, Sector
from backbone.core.web import members_only, network_view
from backbone.partners import importing

ADMINS_ONLY = "Only backbone staff may import partner lists."


@network_view
@members_only
def partner_import(request, access):
    access.require_allowed(Organization, "add", message=ADMINS_ONLY)
    partners_url = reverse("partners:partner-list", args=[access.network.slug])
    return import_page(
        request,
        access,
        kind="partners",
        importer=importing.partners_import,
        template="partners/partner_import.html",
        done_url=partners_url,
        context={
            "heading": "Import a partner list",
            "label_heading": "Organization",
            "cancel_url": partners_url,
            "sectors": Sector.objects.all(),
            "statuses": Membership.Status.values,
            "roles": Membership.Role.values,
            "sizes": Organization.Size.values,
        },
    )


@network_view
@members_only
def partner_import_template(request, access):
    access.require_allowed(Organization, "add", message=ADMINS_ONLY)
    response = HttpResponse(importing.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="partners-template.csv"'
    return response
