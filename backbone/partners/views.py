from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from backbone.core import services as core_services
from backbone.core.forms import IdentifierForm, MembershipForm, OrganizationForm
from backbone.core.models import Area, Membership, Organization, OrganizationIdentifier, Sector
from backbone.core.web import members_only, network_view
from backbone.partners import readiness, selectors, services
from backbone.partners.forms import NewMembershipForm, ReadinessForm
from backbone.partners.models import ProspectAssessment, ReadinessAssessment


def _profile_url(access, organization):
    return reverse("partners:organization-detail", args=[access.network.slug, organization.slug])


@network_view
def partner_list(request, access):
    memberships = selectors.partner_list(access, request.GET)
    page = Paginator(memberships, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "partners/partner_list.html",
        {
            "access": access,
            "page": page,
            "total": page.paginator.count,
            "filters": {name: request.GET.get(name, "") for name in selectors.PARTNER_FILTERS},
            "query_string": params.urlencode(),
            "sectors": Sector.objects.all(),
            "statuses": Membership.Status.choices
            if access.is_admin
            else [c for c in Membership.Status.choices if c[0] != "prospect"],
            "roles": Membership.Role.choices,
            "areas": access.scope(Area)
            .exclude(kind__in=["tract", "zip"])
            .order_by("kind", "name")
            .values_list("code", "name"),
            "can_add": access.allows(Organization, "add"),
        },
    )


@network_view
def organization_detail(request, access, organization_slug: str):
    organization = access.get_object(Organization, slug=organization_slug)
    membership = selectors.organization_membership(access, organization)
    return render(
        request,
        "partners/organization_detail.html",
        {
            "access": access,
            "organization": organization,
            "membership": membership,
            "identifiers": access.scope(OrganizationIdentifier).filter(organization=organization),
            "areas": organization.areas_served.filter(network=access.network),
            "working_groups": organization.working_groups.filter(network=access.network),
            "readiness": access.scope(ReadinessAssessment).filter(organization=organization)[:5],
            "prospect": access.scope(ProspectAssessment).filter(organization=organization).first(),
            "people": access.scope(Organization.people.field.model)
            .filter(organization=organization)
            .select_related("user")
            if access.is_member
            else [],
            "can_change": access.can("change", organization),
            "can_change_membership": access.can("change", membership),
            "can_view_agreement": access.allows(Membership, "view_agreement"),
            "can_assess_readiness": access.can_add(
                ReadinessAssessment, organization_id=organization.pk
            ),
        },
    )


@network_view
def organization_create(request, access):
    access.require_add(Organization)
    form = OrganizationForm(request.POST or None, access=access, prefix="org")
    membership_form = NewMembershipForm(request.POST or None, access=access, prefix="membership")
    if request.method == "POST" and form.is_valid() and membership_form.is_valid():
        try:
            organization = services.organization_create(
                access=access,
                fields=form.model_fields(),
                membership=membership_form.model_fields(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Added {organization}.")
            return redirect(_profile_url(access, organization))
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "extra_forms": [("Membership", membership_form)],
            "heading": "Add a partner organization",
            "cancel_url": reverse("partners:partner-list", args=[access.network.slug]),
        },
        status=400 if form.errors or membership_form.errors else 200,
    )


@network_view
def organization_edit(request, access, organization_slug: str):
    organization = access.get_object(Organization, "change", slug=organization_slug)
    form = OrganizationForm(request.POST or None, instance=organization, access=access)
    if request.method == "POST" and form.is_valid():
        fields = form.model_fields()
        # Areas of other networks the organization serves are kept as they are.
        other_areas = organization.areas_served.exclude(network=access.network)
        fields["areas_served"] = [*fields["areas_served"], *other_areas]
        core_services.object_update(access=access, instance=organization, fields=fields)
        messages.success(request, f"Saved {organization}.")
        return redirect(_profile_url(access, organization))
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": f"Edit {organization}",
            "cancel_url": _profile_url(access, organization),
        },
        status=400 if form.errors else 200,
    )


@network_view
def membership_edit(request, access, organization_slug: str):
    organization = access.get_object(Organization, slug=organization_slug)
    membership = access.get_object(Membership, "change", organization=organization)
    form = MembershipForm(
        request.POST or None, request.FILES or None, instance=membership, access=access
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                access=access, membership=membership, fields=form.model_fields()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved the membership of {organization}.")
            return redirect(_profile_url(access, organization))
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": f"Membership of {organization}",
            "cancel_url": _profile_url(access, organization),
            "multipart": True,
            "delete_url": reverse(
                "partners:membership-remove", args=[access.network.slug, organization.slug]
            ),
        },
        status=400 if form.errors else 200,
    )


@network_view
def membership_remove(request, access, organization_slug: str):
    organization = access.get_object(Organization, slug=organization_slug)
    membership = access.get_object(Membership, "delete", organization=organization)
    if request.method == "POST":
        services.membership_remove(access=access, membership=membership)
        messages.success(request, f"Removed {organization} from {access.network}.")
        return redirect("partners:partner-list", network_slug=access.network.slug)
    return render(
        request,
        "core/confirm_delete.html",
        {
            "access": access,
            "object": membership,
            "heading": f"Remove {organization} from {access.network}?",
            "explanation": "Its membership ends here. An organization that belongs to no other "
            "network is deleted with its profile; the audit log keeps a copy.",
            "submit_label": "Remove",
            "cancel_url": _profile_url(access, organization),
        },
    )


@network_view
@members_only
def membership_agreement(request, access, organization_slug: str):
    organization = access.get_object(Organization, slug=organization_slug)
    membership = access.get_object(Membership, "view_agreement", organization=organization)
    if not membership.data_sharing_document:
        raise Http404("No agreement on file.")
    return FileResponse(membership.data_sharing_document.open("rb"), as_attachment=True)


@network_view
def identifier_create(request, access, organization_slug: str):
    organization = access.get_object(Organization, slug=organization_slug)
    access.require_add(OrganizationIdentifier)
    form = IdentifierForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            core_services.object_create(
                access=access,
                model=OrganizationIdentifier,
                fields={**form.model_fields(), "organization": organization},
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect(_profile_url(access, organization))
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": f"Add an identifier for {organization}",
            "cancel_url": _profile_url(access, organization),
        },
        status=400 if form.errors else 200,
    )


@network_view
def identifier_delete(request, access, organization_slug: str, pk: int):
    identifier = access.get_object(
        OrganizationIdentifier, "delete", pk=pk, organization__slug=organization_slug
    )
    url = _profile_url(access, identifier.organization)
    if request.method == "POST":
        core_services.object_delete(access=access, instance=identifier)
        return redirect(url)
    return render(
        request,
        "core/confirm_delete.html",
        {
            "access": access,
            "object": identifier,
            "cancel_url": url,
        },
    )


# Prospective partners --------------------------------------------------------------------


@network_view
def stakeholder_matrix(request, access):
    access.require_allowed(
        ProspectAssessment, message="Only backbone staff may see the partner pipeline."
    )
    return render(
        request,
        "partners/stakeholder_matrix.html",
        {
            "access": access,
            "grid": selectors.stakeholder_matrix(access),
            "assessments": access.scope(ProspectAssessment).select_related("organization")[:200],
        },
    )


# Readiness -------------------------------------------------------------------------------


@network_view
@members_only
def readiness_list(request, access):
    access.require_allowed(
        ReadinessAssessment,
        message="Readiness assessments are shared with the organization and the backbone only.",
    )
    assessments = access.scope(ReadinessAssessment).select_related("organization")
    return render(
        request,
        "partners/readiness_list.html",
        {
            "access": access,
            "page": Paginator(assessments, 50).get_page(request.GET.get("page")),
            "level_label": readiness.level_label,
            "own_organization": access.organization_id,
        },
    )


@network_view
@members_only
def readiness_create(request, access, organization_slug: str):
    organization = access.get_object(Organization, slug=organization_slug)
    access.require_add(ReadinessAssessment, organization_id=organization.pk)
    form = ReadinessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assessment = services.readiness_submit(
            access=access, organization=organization, answers=form.cleaned_data
        )
        return redirect(
            "partners:readiness-detail", network_slug=access.network.slug, pk=assessment.pk
        )
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": f"Readiness of {organization}",
            "intro": "Five questions about your organization's readiness to take part in the "
            "network's shared work. Your answers are seen by your organization and the "
            "backbone only.",
            "submit_label": "See the result",
            "cancel_url": _profile_url(access, organization),
        },
        status=400 if form.errors else 200,
    )


@network_view
@members_only
def readiness_detail(request, access, pk: int):
    assessment = access.get_object(ReadinessAssessment, pk=pk)
    return render(
        request,
        "partners/readiness_detail.html",
        {
            "access": access,
            "assessment": assessment,
            "level_label": readiness.level_label(assessment.level),
            "result": readiness.result(assessment.answers, assessment.level),
        },
    )
