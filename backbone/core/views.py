import csv

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from backbone.core import services
from backbone.core.access import dangerously_unscoped
from backbone.core.forms import InvitationForm, NetworkForm, NetworkRoleForm
from backbone.core.models import (
    AccessToken,
    AuditEvent,
    Invitation,
    NetworkRole,
)
from backbone.core.web import members_only, network_view


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@network_view
def network_edit(request, access):
    access.require("change", access.network)
    form = NetworkForm(request.POST or None, instance=access.network, access=access)
    if request.method == "POST" and form.is_valid():
        services.object_update(access=access, instance=access.network, fields=form.model_fields())
        messages.success(request, "Saved the network profile.")
        return redirect("framework:network-home", network_slug=access.network.slug)
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": "Edit the network profile",
            "cancel_url": reverse("framework:network-home", args=[access.network.slug]),
        },
        status=400 if form.errors else 200,
    )


# People and invitations ------------------------------------------------------------------


@network_view
@members_only
def people(request, access):
    roles = access.scope(NetworkRole).select_related("user", "organization")
    query = request.GET.get("q", "").strip()
    if query:
        roles = roles.filter(
            Q(user__email__icontains=query)
            | Q(user__full_name__icontains=query)
            | Q(organization__name__icontains=query)
        )
    return render(
        request,
        "core/people.html",
        {
            "access": access,
            "page": Paginator(roles, 50).get_page(request.GET.get("page")),
            "query": query,
            "invitations": access.scope(Invitation)
            .filter(accepted_at__isnull=True, revoked_at__isnull=True)
            .select_related("organization"),
            "can_invite": access.allows(Invitation, "add"),
        },
    )


@network_view
def role_edit(request, access, pk: int):
    role = access.get_object(NetworkRole, "change", pk=pk)
    form = NetworkRoleForm(request.POST or None, instance=role, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            services.role_update(access=access, role=role, fields=form.model_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved the role of {role.user}.")
            return redirect("core:people", network_slug=access.network.slug)
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": f"Role of {role.user}",
            "cancel_url": reverse("core:people", args=[access.network.slug]),
            "delete_url": reverse("core:role-delete", args=[access.network.slug, role.pk]),
        },
        status=400 if form.errors else 200,
    )


@network_view
def role_delete(request, access, pk: int):
    role = access.get_object(NetworkRole, "delete", pk=pk)
    if request.method == "POST":
        services.object_delete(access=access, instance=role)
        messages.success(request, f"Removed {role.user} from the network.")
        return redirect("core:people", network_slug=access.network.slug)
    return render(
        request,
        "core/confirm_delete.html",
        {
            "access": access,
            "object": role,
            "cancel_url": reverse("core:people", args=[access.network.slug]),
        },
    )


@network_view
def invitation_create(request, access):
    if not access.allows(Invitation, "add"):
        raise PermissionDenied("Your role may not invite people.")
    form = InvitationForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                access=access,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                organization=form.cleaned_data["organization"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("core:people", network_slug=access.network.slug)
    return render(
        request,
        "core/form.html",
        {
            "access": access,
            "form": form,
            "heading": "Invite someone",
            "submit_label": "Send invitation",
            "cancel_url": reverse("core:people", args=[access.network.slug]),
        },
        status=400 if form.errors else 200,
    )


@network_view
@require_POST
def invitation_revoke(request, access, pk: int):
    invitation = access.get_object(Invitation, "delete", pk=pk)
    try:
        services.invitation_revoke(access=access, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Revoked the invitation for {invitation.email}.")
    return redirect("core:people", network_slug=access.network.slug)


def invitation_accept(request, token: str):
    # The token is the credential: whoever holds it may see which network invited them.
    invitation = get_object_or_404(
        dangerously_unscoped(Invitation).select_related("network", "organization"), token=token
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and invitation.state == "pending":
        user = request.user if request.user.is_authenticated else None
        password = request.POST.get("password", "")
        if (
            user is None
            and not dangerously_unscoped(get_user_model())
            .filter(email__iexact=invitation.email)
            .exists()
        ):
            try:
                validate_password(password)
            except ValidationError as exc:
                errors["password"] = exc.messages
        if not errors:
            try:
                user = services.invitation_accept(
                    invitation=invitation,
                    user=user,
                    full_name=request.POST.get("full_name", "").strip(),
                    password=password,
                )
            except ValidationError as exc:
                errors["form"] = exc.messages
            else:
                if not request.user.is_authenticated:
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome to {invitation.network.name}.")
                return redirect("framework:network-home", network_slug=invitation.network.slug)
    return render(
        request,
        "core/invitation_accept.html",
        {
            "invitation": invitation,
            "errors": errors,
            "needs_password": not request.user.is_authenticated,
        },
        status=400 if errors else 200,
    )


# Audit log -----------------------------------------------------------------------------

AUDIT_FILTERS = ("actor", "action", "object_type", "since", "until")


def _audit_events(access, params):
    events = access.scope(AuditEvent)
    if params.get("actor"):
        events = events.filter(actor_email__icontains=params["actor"])
    if params.get("action") in AuditEvent.Action.values:
        events = events.filter(action=params["action"])
    if params.get("object_type"):
        events = events.filter(object_type=params["object_type"])
    if since := parse_date(params.get("since") or ""):
        events = events.filter(created_at__date__gte=since)
    if until := parse_date(params.get("until") or ""):
        events = events.filter(created_at__date__lte=until)
    return events


@network_view
def audit_log(request, access):
    if not access.allows(AuditEvent):
        raise PermissionDenied("Only backbone staff may read the audit log.")
    events = _audit_events(access, request.GET)
    types = access.scope(AuditEvent).order_by().values_list("object_type", flat=True).distinct()
    return render(
        request,
        "core/audit_log.html",
        {
            "access": access,
            "page": Paginator(events, 50).get_page(request.GET.get("page")),
            "filters": {name: request.GET.get(name, "") for name in AUDIT_FILTERS},
            "object_types": sorted(types),
            "actions": AuditEvent.Action.choices,
            "query_string": request.GET.urlencode(),
        },
    )


class _Echo:
    def write(self, value):
        return value


@network_view
def audit_export(request, access):
    if not access.allows(AuditEvent, "export"):
        raise PermissionDenied("Only backbone staff may export the audit log.")
    events = _audit_events(access, request.GET).iterator(chunk_size=2000)
    writer = csv.writer(_Echo())
    header = [
        "when",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object",
        "field",
        "before",
        "after",
        "via",
    ]

    def rows():
        yield writer.writerow(header)
        for event in events:
            changes = event.changes or [("", "", "")]
            for name, before, after in changes:
                yield writer.writerow(
                    [
                        event.created_at.isoformat(),
                        event.actor_email,
                        event.action,
                        event.object_type,
                        event.object_id,
                        event.object_repr,
                        name,
                        "" if before is None else before,
                        "" if after is None else after,
                        event.via,
                    ]
                )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{access.network.slug}-audit-log.csv"'
    return response


# Personal access tokens ------------------------------------------------------------------


@login_required
def tokens(request):
    raw = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, "Give the token a name so you can recognise it later.")
        else:
            _, raw = services.token_create(user=request.user, name=name[:100])
    return render(
        request,
        "core/tokens.html",
        {
            "tokens": AccessToken.objects.filter(user=request.user),
            "raw": raw,
        },
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(AccessToken, pk=pk, user=request.user)
    services.token_revoke(user=request.user, token=token)
    messages.success(request, f"Revoked {token.name}.")
    return redirect("core:tokens")
