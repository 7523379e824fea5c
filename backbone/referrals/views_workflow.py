"""Pages of the referral workflow: inbox, referral detail and actions, new referral,
notifications, settings, and the public self-referral form.

Views validate input and call the services of workflow.py; identity is shown only where
a consent allows it at read time, and every name shown is written to the person's
access log (`person_for_read`, `record_reads`).
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from backbone.core.models import NetworkRole, Organization, User
from backbone.core.web import members_only, network_view
from backbone.directory.models import Service
from backbone.ecosystem.models import PathwayStep
from backbone.referrals import selectors, workflow
from backbone.referrals.models import (
    Consent,
    Notification,
    Referral,
    ReferralSettings,
)
from backbone.referrals.selectors import (
    active_consents,
    consent_allows,
    person_for_read,
    record_reads,
    visible_people,
)

PAGE_SIZE = 25
TABS = {"received": "Received", "sent": "Sent", "overdue": "Overdue"}
STATUS_LABELS = dict(Referral.Status.choices)
SELF_REFERRAL_LIMIT = 5  # submissions per visitor address and network per hour
PERSON_CHOICES_LIMIT = 200


# --- the inbox --------------------------------------------------------------------------


def _cursor(value: str):
    """'2026-01-31T09:00:00+00:00_123' -> (datetime, 123); anything else -> None."""
    moment, _, pk = (value or "").rpartition("_")
    try:
        parsed = datetime.datetime.fromisoformat(moment)
        return (parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed), int(pk))
    except ValueError:
        return None


def _moment(value):
    """A datetime column read by plain SQL: SQLite gives UTC text, PostgreSQL datetimes."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


# What the inbox shows of a referral (its person's name comes from the visibility check).
INBOX_FIELDS = (
    "pk",
    "person_id",
    "status",
    "sent_at",
    "respond_by",
    "to_service__name",
    "to_organization__name",
    "from_organization__name",
)


def _inbox_rows(
    *,
    network_id: int,
    side: str,
    organization_id: int,
    statuses,
    newest_first: bool,
    after,
    overdue_at,
    size: int,
) -> list[dict]:
    """The next SIZE + 1 referrals of one side of the organization, newest (or oldest)
    first, as dicts of INBOX_FIELDS, in one statement.

    One small index range scan per status on (organization, status, sent_at), merged by
    UNION ALL: ordering the organization's rows of every status by sent_at would sort
    all of them, and the inbox is read on a table of millions. Plain SQL because Django
    refuses LIMIT inside a compound statement on SQLite, and composing the querysets
    (seven scans, then the page with its service and organizations) cost more CPU per
    request than running them."""
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    table = quote(Referral._meta.db_table)
    column = quote(Referral._meta.get_field(side).column)
    direction, compare = ("DESC", "<") if newest_first else ("ASC", ">")
    conditions = ["network_id = %s", f"{column} = %s", "status = %s"]
    extra = []
    if overdue_at is not None:
        conditions.append("respond_by < %s")
        extra.append(adapt(overdue_at))
    if after:
        conditions.append(f"(sent_at {compare} %s OR (sent_at = %s AND id {compare} %s))")
        extra += [adapt(after[0]), adapt(after[0]), after[1]]
    part = (
        f"SELECT sent_at, id FROM {table} WHERE {' AND '.join(conditions)} "  # noqa: S608 (names from the models, values as parameters)
        f"ORDER BY sent_at {direction}, id {direction} LIMIT %s"
    )
    keys = " UNION ALL ".join(
        f"SELECT sent_at, id FROM ({part}) AS part{n}"  # noqa: S608
        for n in range(len(statuses))
    )
    organization = quote(Organization._meta.db_table)
    sql = (
        "SELECT r.id, r.person_id, r.status, r.sent_at, r.respond_by, s.name, receiver.name, "  # noqa: S608
        f"sender.name FROM ({keys} ORDER BY 1 {direction}, 2 {direction} LIMIT %s) AS k "
        f"JOIN {table} r ON r.id = k.id "
        f"JOIN {quote(Service._meta.db_table)} s ON s.id = r.to_service_id "
        f"JOIN {organization} receiver ON receiver.id = r.to_organization_id "
        f"LEFT JOIN {organization} sender ON sender.id = r.from_organization_id "
        f"ORDER BY k.sent_at {direction}, k.id {direction}"
    )
    params = []
    for status in statuses:
        params += [network_id, organization_id, status, *extra, size + 1]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size + 1])
        found = cursor.fetchall()
    rows = [dict(zip(INBOX_FIELDS, values, strict=True)) for values in found]
    for row in rows:
        row["sent_at"], row["respond_by"] = _moment(row["sent_at"]), _moment(row["respond_by"])
    return rows


def inbox_page(access, *, tab: str, status: str = "", after=None, size: int = PAGE_SIZE):
    """One page of the organization's referrals, as dicts of INBOX_FIELDS (plain
    values, no model instances): (rows, next cursor or '')."""
    access.require_allowed(Referral)
    # The party filter of access.scope(Referral) is "from = org OR to = org"; that OR
    # makes PostgreSQL bitmap-scan every referral of the organization. Each tab asks for
    # one side only, a subset of that scope, which the (organization, status, sent_at)
    # indexes answer directly.
    if access.organization_id is None:
        return [], ""
    if tab == "overdue":
        statuses = [Referral.Status.SENT]
    else:
        statuses = [status] if status in STATUS_LABELS else list(STATUS_LABELS)
    rows = _inbox_rows(
        network_id=access.network.pk,
        side="from_organization" if tab == "sent" else "to_organization",
        organization_id=access.organization_id,
        statuses=statuses,
        newest_first=tab != "overdue",  # the most overdue first
        after=after,
        overdue_at=timezone.now() if tab == "overdue" else None,
        size=size,
    )
    more = len(rows) > size
    rows = rows[:size]
    cursor = f"{rows[-1]['sent_at'].isoformat()}_{rows[-1]['pk']}" if more else ""
    return rows, cursor


def overdue_count(access, limit: int = 100) -> int:
    """Overdue received referrals, counted up to LIMIT (a bounded count stays cheap)."""
    if access.organization_id is None:
        return 0
    table = connection.ops.quote_name(Referral._meta.db_table)
    sql = (
        f"SELECT COUNT(*) FROM (SELECT id FROM {table} "  # noqa: S608
        "WHERE network_id = %s AND to_organization_id = %s AND status = %s "
        "AND respond_by < %s LIMIT %s) AS overdue"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [access.network.pk, access.organization_id, Referral.Status.SENT, now, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _names(access, person_ids, *, what: str, route: str) -> dict[int, str]:
    """person id -> name for the people whose identity the access may see now; the
    others get a placeholder. The names shown are written to the access log."""
    visible = selectors.visible_names_among(access, person_ids)
    record_reads(access, visible, what=what, route=route)
    return {pk: visible.get(pk, f"Person {pk} (no consent to show identity)") for pk in person_ids}


def _minute(moment) -> str:
    """As the template's `date:"Y-m-d H:i"` shows it, without its per-call cost."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@network_view
def inbox(request, access):
    access.require_allowed(Referral)
    tab = request.GET.get("tab", "received")
    tab = tab if tab in TABS else "received"
    status = request.GET.get("status", "")
    status = status if status in STATUS_LABELS and tab != "overdue" else ""
    rows, cursor = inbox_page(
        access, tab=tab, status=status, after=_cursor(request.GET.get("after", ""))
    )
    names = _names(
        access, {row["person_id"] for row in rows}, what="referral inbox", route="referrals:inbox"
    )
    now = timezone.now()
    # One reverse for the page, not one per row.
    detail = reverse("referrals:referral-detail", args=[access.network.slug, 0])
    detail_prefix, detail_suffix = detail.rsplit("/0", 1)
    party = "to_organization__name" if tab == "sent" else "from_organization__name"
    context = {
        "access": access,
        "tab": tab,
        "tab_label": TABS[tab],
        "tabs": TABS.items(),
        "status": status,
        "status_label": STATUS_LABELS.get(status, ""),
        "statuses": STATUS_LABELS.items(),
        "rows": [
            {
                "pk": row["pk"],
                "url": f"{detail_prefix}/{row['pk']}{detail_suffix}",
                "name": names[row["person_id"]],
                "service": row["to_service__name"],
                "party": row[party] or ("" if tab == "sent" else "Self-referral"),
                "status_label": STATUS_LABELS.get(row["status"], row["status"]),
                "overdue": row["status"] == Referral.Status.SENT and row["respond_by"] < now,
                "sent": _minute(row["sent_at"]),
                "respond_by": _minute(row["respond_by"])
                if row["status"] == Referral.Status.SENT
                else "",
            }
            for row in rows
        ],
        "cursor": cursor,
        "paged": bool(request.GET.get("after")),
        "overdue_count": overdue_count(access),
        "can_add": access.organization_id is not None and access.allows(Referral, "add"),
    }
    return render(request, "referrals/inbox.html", context)


# --- one referral -----------------------------------------------------------------------


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason")] + Referral.DeclineReason.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _referral(access, pk: int) -> Referral:
    access.require_allowed(Referral)
    return access.get_object(Referral, pk=pk)


def _forward_services(access, referral: Referral):
    return (
        access.scope(Service)
        .filter(organization__organization__isnull=False)
        .exclude(organization__organization=referral.to_organization_id)
        .select_related("organization")
        .order_by("name", "pk")
    )


def _detail_context(access, referral: Referral) -> dict:
    party = workflow.party_of(access, referral)
    try:
        person = person_for_read(
            access, referral.person_id, what="referral", route="referrals:referral-detail"
        )
        name = person.display_name
    except Http404:
        person, name = None, f"Person {referral.person_id} (no consent to show identity)"
    notes_allowed = (
        access.organization_id is not None
        and consent_allows(referral.person, access.organization_id, "notes") is not None
    )
    if notes_allowed and person is None:
        record_reads(
            access,
            [referral.person_id],
            what="referral messages",
            route="referrals:referral-detail",
        )
    events = [
        (event, STATUS_LABELS.get(event.from_status, ""), STATUS_LABELS.get(event.to_status, ""))
        for event in referral.events.select_related("organization")
    ]
    actions = workflow.allowed_actions(referral, party)
    return {
        "access": access,
        "referral": referral,
        "party": party,
        "name": name,
        "identity_shown": person is not None,
        "notes_allowed": notes_allowed,
        "events": events,
        "messages_list": list(referral.messages.select_related("author", "organization"))
        if notes_allowed
        else [],
        "actions": [
            (
                action,
                "Cancel the referral"
                if action == "close" and party == workflow.SENDER
                else workflow.TRANSITIONS[action].label,
            )
            for action in actions
        ],
        "decline_reasons": Referral.DeclineReason.choices,
        "outcomes": Referral.Outcome.choices,
        "forward_services": list(_forward_services(access, referral)[:500])
        if "forward" in actions
        else [],
        "forward_consents": list(active_consents(referral.person)) if "forward" in actions else [],
        "forwarded_to": Referral.objects.filter(forwarded_from=referral).first(),
        "overdue": referral.status == Referral.Status.SENT and referral.respond_by < timezone.now(),
    }


def _detail_queryset_get(access, pk):
    referral = _referral(access, pk)
    return (
        Referral.objects.select_related(
            "to_service", "to_organization", "from_organization", "consent", "pathway_step"
        )
        .filter(pk=referral.pk)
        .get()
    )


@network_view
def referral_detail(request, access, pk: int):
    referral = _detail_queryset_get(access, pk)
    return render(request, "referrals/referral_detail.html", _detail_context(access, referral))


def _instance(access, model, value):
    if not str(value or "").isdigit():
        return None
    return access.scope(model).filter(pk=int(value)).first()


@network_view
@require_POST
def referral_update(request, access, pk: int):
    referral = _detail_queryset_get(access, pk)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    service = workflow.ACTION_SERVICES.get(action)
    try:
        if service is None:
            raise workflow.ReferralError(
                f"Unknown action {action!r}. Allowed: "
                + (
                    ", ".join(
                        workflow.allowed_actions(referral, workflow.party_of(access, referral))
                    )
                    or "none"
                )
                + "."
            )
        kwargs = {"access": access, "referral": referral, "note": note}
        if action == "decline":
            kwargs["reason"] = request.POST.get("reason", "")
        elif action == "complete":
            kwargs["outcome"] = request.POST.get("outcome", "")
        elif action == "forward":
            target = _instance(access, Service, request.POST.get("service"))
            if target is None:
                raise workflow.ReferralError("Choose the service to forward the referral to.")
            kwargs["service"] = target
            consent_id = request.POST.get("consent", "")
            if consent_id:
                kwargs["consent"] = (
                    Consent.objects.filter(pk=consent_id, person_id=referral.person_id).first()
                    if consent_id.isdigit()
                    else None
                )
                if kwargs["consent"] is None:
                    raise workflow.ReferralError("Choose a consent given by this person.")
        result = service(**kwargs)
    except workflow.ReferralError as exc:
        context = _detail_context(access, referral)
        context["error"] = str(exc)
        return render(request, "referrals/referral_detail.html", context, status=400)
    if action == "forward":
        messages.success(request, f"Forwarded as referral {result.pk}.")
    else:
        messages.success(request, f"The referral is now {result.get_status_display().lower()}.")
    return redirect("referrals:referral-detail", access.network.slug, referral.pk)


@network_view
def referral_message(request, access, pk: int):
    referral = _detail_queryset_get(access, pk)
    target = reverse("referrals:referral-detail", args=[access.network.slug, referral.pk])
    if request.method != "POST":
        return redirect(f"{target}#messages")
    try:
        workflow.message_send(access=access, referral=referral, body=request.POST.get("body", ""))
    except workflow.ReferralError as exc:
        context = _detail_context(access, referral)
        context["message_error"] = str(exc)
        context["message_body"] = request.POST.get("body", "")
        return render(request, "referrals/referral_detail.html", context, status=400)
    messages.success(request, "Message sent.")
    return redirect(f"{target}#messages")


# --- a new referral ---------------------------------------------------------------------


def _consent_label(consent: Consent) -> str:
    if consent.recipients == Consent.Recipients.NAMED:
        to = ", ".join(org.name for org in consent.recipient_organizations.all()) or "nobody"
    else:
        to = "participants treating the person"
    until = (
        f"until {consent.expires_on:%Y-%m-%d}"
        if consent.expires_on
        else f"until {consent.expiry_event}"
    )
    return (
        f"Consent {consent.pk}: {consent.disclosing_organization.name} to {to}; "
        f"{', '.join(consent.information)}; {until}"
    )


class ReferralForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), empty_label="Choose a service"
    )
    consent = forms.ModelChoiceField(
        queryset=Consent.objects.none(), empty_label="Choose a consent"
    )
    pathway_step = forms.ModelChoiceField(
        queryset=PathwayStep.objects.none(), required=False, empty_label="None"
    )
    reason = forms.CharField(
        required=False,
        max_length=workflow.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the person is referred (only the two organizations see it).",
    )

    def __init__(self, *args, access, person, **kwargs):
        super().__init__(*args, **kwargs)
        services = access.scope(Service).filter(organization__organization__isnull=False)
        if access.organization_id:
            services = services.exclude(organization__organization=access.organization_id)
        self.fields["service"].queryset = services.select_related("organization").order_by(
            "name", "pk"
        )
        self.fields["service"].label_from_instance = lambda s: (
            f"{s.name} — {s.organization.name if s.organization else ''}"
        )
        self.fields["consent"].queryset = (
            active_consents(person)
            .select_related("disclosing_organization")
            .prefetch_related("recipient_organizations")
        )
        self.fields["consent"].label_from_instance = _consent_label
        self.fields["pathway_step"].queryset = (
            access.scope(PathwayStep)
            .select_related("pathway")
            .order_by("pathway__name", "position")
        )
        self.fields["pathway_step"].label_from_instance = lambda s: f"{s.pathway.name}: {s.name}"


@network_view
def referral_add(request, access):
    access.require_allowed(Referral, "add")
    if access.organization_id is None:
        raise Http404("No page found.")
    person_id = request.POST.get("person") or request.GET.get("person", "")
    if not str(person_id).isdigit():
        people = list(
            visible_people(access)
            .defer("birth_date", "phone", "email", "street_address")
            .order_by("-pk")[:PERSON_CHOICES_LIMIT]
        )
        record_reads(
            access,
            [p.pk for p in people],
            what="referral person chooser",
            route="referrals:referral-add",
        )
        return render(
            request,
            "referrals/referral_form.html",
            {"access": access, "people": people, "limit": PERSON_CHOICES_LIMIT},
        )
    person = person_for_read(
        access, int(person_id), what="new referral", route="referrals:referral-add"
    )
    form = ReferralForm(request.POST or None, access=access, person=person)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            referral = workflow.referral_send(
                access=access,
                person=person,
                service=form.cleaned_data["service"],
                consent=form.cleaned_data["consent"],
                reason=form.cleaned_data["reason"],
                pathway_step=form.cleaned_data["pathway_step"],
            )
        except workflow.ReferralError as exc:
            error = str(exc)
        else:
            messages.success(
                request, f"Referral {referral.pk} sent to {referral.to_organization.name}."
            )
            return redirect("referrals:referral-detail", access.network.slug, referral.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "referrals/referral_form.html",
        {"access": access, "person": person, "form": form, "error": error},
        status=status,
    )


# --- notifications ----------------------------------------------------------------------


@network_view
@members_only
def notifications(request, access):
    mine = access.scope(Notification)
    if request.method == "POST":
        ids = request.POST.getlist("id")
        workflow.notifications_mark_read(
            access=access, ids=[int(i) for i in ids if i.isdigit()] if ids else None
        )
        return redirect("referrals:notifications", access.network.slug)
    before = request.GET.get("before", "")
    if before.isdigit():
        mine = mine.filter(pk__lt=int(before))
    rows = list(mine.order_by("-pk")[:50])
    return render(
        request,
        "referrals/notification_list.html",
        {
            "access": access,
            "notifications": rows,
            "unread": any(n.read_at is None for n in rows),
            "older": rows[-1].pk if len(rows) == 50 else "",
        },
    )


# --- settings ---------------------------------------------------------------------------


class SettingsForm(forms.Form):
    response_business_days = forms.IntegerField(
        min_value=1, max_value=30, label="Respond within (business days)"
    )
    escalate_to = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="The network admins",
        label="Tell about overdue referrals",
    )
    allow_self_referrals = forms.BooleanField(
        required=False, label="People may refer themselves from the public directory"
    )

    def __init__(self, *args, network, **kwargs):
        super().__init__(*args, **kwargs)
        users = NetworkRole.objects.filter(network=network).values("user_id")
        self.fields["escalate_to"].queryset = User.objects.filter(pk__in=users).order_by("email")


@network_view
def referral_settings(request, access):
    access.require_allowed(ReferralSettings, "change")
    current = workflow.settings_for(access.network)
    initial = {
        "response_business_days": current.response_business_days,
        "escalate_to": current.escalate_to_id,
        "allow_self_referrals": current.allow_self_referrals,
    }
    form = SettingsForm(request.POST or None, initial=initial, network=access.network)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            workflow.referral_settings_update(access=access, **form.cleaned_data)
        except workflow.ReferralError as exc:
            error = str(exc)
        else:
            messages.success(request, "Referral settings saved.")
            return redirect("referrals:settings", access.network.slug)
    return render(
        request,
        "referrals/referral_settings.html",
        {"access": access, "form": form, "error": error},
        status=400 if request.method == "POST" else 200,
    )


# --- self-referral from the public directory --------------------------------------------


class SelfReferralForm(forms.Form):
    given_name = forms.CharField(max_length=100, label="Given name")
    family_name = forms.CharField(max_length=100, label="Family name")
    birth_date = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(required=False)
    preferred_language = forms.CharField(
        max_length=20, required=False, label="Preferred language (e.g. en, es)"
    )
    consent_signed = forms.BooleanField(
        required=False, label="I have read this consent and I agree to it."
    )
    signed_by = forms.CharField(
        max_length=200, required=False, label="Type your full name to sign electronically"
    )


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _throttled(request, network) -> bool:
    """At most SELF_REFERRAL_LIMIT submissions per visitor address, network and hour."""
    key = f"self-referral:{network.pk}:{_client_address(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > SELF_REFERRAL_LIMIT
    except ValueError:
        return False


@network_view
def self_referral(request, access, pk: int):
    service = (
        access.scope(Service).select_related("organization__organization").filter(pk=pk).first()
    )
    receiver = getattr(service.organization, "organization", None) if service else None
    if (
        service is None
        or receiver is None
        or not workflow.settings_for(access.network).allow_self_referrals
    ):
        raise Http404("This service does not take requests through the directory.")
    terms = workflow.self_referral_consent_terms(access.network, receiver)
    form = SelfReferralForm(request.POST or None)
    error = ""
    context = {"access": access, "service": service, "receiver": receiver, "terms": terms}
    if request.GET.get("sent") == "1":
        return render(request, "referrals/self_referral_done.html", context)
    if request.method == "POST":
        if _throttled(request, access.network):
            context.update(form=form, error="Too many requests from here; try again in an hour.")
            return render(request, "referrals/self_referral.html", context, status=429)
        if form.is_valid():
            try:
                workflow.self_referral_submit(
                    network=access.network, service=service, **form.cleaned_data
                )
            except workflow.ReferralError as exc:
                error = str(exc)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                url = reverse("referrals:self-referral", args=[access.network.slug, service.pk])
                return redirect(f"{url}?sent=1")
    context.update(form=form, error=error)
    return render(
        request,
        "referrals/self_referral.html",
        context,
        status=400 if request.method == "POST" else 200,
    )
