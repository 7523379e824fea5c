"""Exchange pages: the de-identified referral export and the people-and-referrals import."""

from django.http import HttpResponse, StreamingHttpResponse

from backbone.core.import_views import import_page
from backbone.core.web import members_only, network_view
from backbone.measurement.models import Dimension
from backbone.referrals import exchange
from backbone.referrals.exchange.columns import may_import
from backbone.referrals.exchange.export import csv_lines
from backbone.referrals.models import Consent, Referral


@network_view
@members_only
def referral_export(request, access):
    rows = exchange.export_rows(access)
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    name = f"{access.network.slug}-referrals-deidentified.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@network_view
@members_only
def referral_import(request, access):
    may_import(access)
    dimensions = Dimension.objects.filter(
        network=access.network, kind=Dimension.Kind.CATEGORICAL
    ).prefetch_related("categories")
    return import_page(
        request,
        access,
        kind="referrals",
        importer=exchange.referrals_import,
        template="referrals/exchange_import.html",
        done_url=request.path,
        context={
            "heading": "Import people and referrals",
            "label_heading": "Organization / person",
            "dimensions": dimensions,
            "statuses": [s for s in Referral.Status.values if s != Referral.Status.FORWARDED],
            "decline_reasons": Referral.DeclineReason.values,
            "outcomes": Referral.Outcome.values,
            "information": list(Consent.INFORMATION),
            "purposes": Consent.Purpose.values,
            "signatures": Consent.Signature.values,
            "may_export": access.role in ("network_admin", "org_admin"),
        },
    )


@network_view
@members_only
def referral_import_template(request, access):
    may_import(access)
    response = HttpResponse(
        exchange.template_csv(access.network), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="referrals-import-template.csv"'
    return response
