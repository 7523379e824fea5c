"""Web pages for people served and their consent (routes in urls_people.py).

Every page that shows a person's identity goes through `selectors.person_for_read` or
`selectors.record_reads`, so each read lands in the person's access log.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from backbone.core.access import NETWORK_ADMIN
from backbone.core.models import Area, Membership, Organization
from backbone.core.web import members_only, network_view
from backbone.referrals import consents, people, selectors
from backbone.referrals.models import Consent, Person

PAGE_SIZE = 50


# -- forms --------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"


class PersonForm(forms.Form):
    given_name = forms.CharField(max_length=100)
    family_name = forms.CharField(max_length=100)
    birth_date = forms.DateField(label="Date of birth", widget=DateInput)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(required=False)
    street_address = forms.CharField(max_length=200, required=False)
    preferred_language = forms.CharField(
        max_length=20, required=False, help_text="BCP 47 code, e.g. en, es, vi."
    )
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False)

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.access = access
        self.fields["area"].queryset = access.scope(Area).order_by("kind", "name")
        self.dimensions = people.demographic_dimensions(access.network)
        for dimension in self.dimensions:
            self.fields[f"demographic_{dimension.code}"] = forms.ChoiceField(
                label=dimension.name,
                required=False,
                choices=[("", "Not recorded")]
                + [(c.code, c.name) for c in dimension.categories.all()],
            )

    @classmethod
    def initial_for(cls, person: Person) -> dict:
        initial = {
            name: getattr(person, name)
            for name in ("given_name", "family_name", "phone", "email", "street_address")
        }
        initial["preferred_language"] = person.preferred_language
        initial["birth_date"] = person.birth_date
        initial["area"] = person.area_id
        for code, category in (person.demographics or {}).items():
            initial[f"demographic_{code}"] = category
        return initial

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        demographics = {
            dimension.code: data.pop(f"demographic_{dimension.code}", "")
            for dimension in self.dimensions
        }
        data["demographics"] = {code: value for code, value in demographics.items() if value}
        return data


class ConsentForm(forms.Form):
    recipients = forms.ChoiceField(
        label="To whom may the information be disclosed?",
        choices=Consent.Recipients.choices,
        widget=forms.RadioSelect,
    )
    recipient_organizations = forms.ModelMultipleChoiceField(
        label="Organizations named",
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    information = forms.MultipleChoiceField(
        label="What information",
        choices=list(Consent.INFORMATION.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    information_description = forms.CharField(
        label="How much and what kind, in the person's words",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    purpose = forms.ChoiceField(choices=Consent.Purpose.choices)
    purpose_description = forms.CharField(label="Purpose described", required=False)
    expires_on = forms.DateField(label="Expires on", required=False, widget=DateInput)
    expiry_event = forms.CharField(
        label="Or expires when this happens",
        max_length=200,
        required=False,
        help_text="E.g. “when the referral is closed”. One of the two is required.",
    )
    signature = forms.ChoiceField(choices=Consent.Signature.choices, widget=forms.RadioSelect)
    signed_by = forms.CharField(
        label="Signed or given by", help_text="The person, or their authorized representative."
    )
    told_of_right_to_revoke = forms.BooleanField(
        label="The person was told they may revoke this consent at any time, and how.",
    )

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient_organizations"].queryset = (
            Organization.objects.filter(
                memberships__network=access.network,
                memberships__status=Membership.Status.ACTIVE,
            )
            .exclude(pk=access.organization_id)
            .order_by("name")
        )

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("told_of_right_to_revoke")
        return data


class MergeForm(forms.Form):
    merged = forms.TypedChoiceField(
        label="The duplicate record to merge into this one", coerce=int, choices=()
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merged"].choices = [
            (person.pk, f"Record {person.pk}: {person.display_name}, born {person.birth_date}")
            for person, _score in candidates
        ]


class RevokeForm(forms.Form):
    note = forms.CharField(
        label="Note (how the person revoked it)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# -- helpers ------------------------------------------------------------------------------


def _detail_url(access, person) -> str:
    return reverse("referrals:person-detail", args=[access.network.slug, person.pk])


def _require_partner(access, action: str = "view") -> None:
    access.require_allowed(Person, action, "Client records are for partners' staff.")


def _visible_duplicates(access, person_or_fields, exclude_pk=None):
    """Duplicate candidates split into those the access may see and a count of others."""
    found = people.find_duplicates(
        network=access.network, exclude_pk=exclude_pk, **person_or_fields
    )
    visible_ids = selectors.visible_among(access, [p.pk for p, _ in found])
    visible = [(p, score) for p, score in found if p.pk in visible_ids]
    return visible, len(found) - len(visible)


def _served_person(access, pk: int, what: str, route: str, refusal: str = "") -> Person:
    """The person for a page that only organizations serving them use: 404 when not
    visible, 403 when visible but not served, the read recorded otherwise."""
    person = Person.objects.filter(network=access.network, pk=pk).first()
    if person is None or not selectors.may_see(access, person):
        raise Http404("No person found.")
    if not selectors.serves(access, person):
        raise PermissionDenied(refusal or "Only an organization serving the person may do this.")
    return selectors.person_for_read(access, pk, what=what, route=route)


def _demographics_display(person) -> list[tuple[str, str]]:
    rows = []
    for dimension in people.demographic_dimensions(person.network):
        code = (person.demographics or {}).get(dimension.code)
        if code:
            names = {c.code: c.name for c in dimension.categories.all()}
            rows.append((dimension.name, names.get(code, code)))
    return rows


# -- people -------------------------------------------------------------------------------


@network_view
@members_only
def person_list(request, access):
    access.require_allowed(Person, "view", "Client records are for partners' staff.")
    query = request.GET.get("q", "").strip()
    if query:
        page = Paginator(selectors.search_people(access, query), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    else:
        # The visible ids in one query (counting and paging the queryset would build the
        # visible set twice), then the page's people only.
        ids = list(
            selectors.visible_people(access)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)
        )
        page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("page"))
        loaded = Person.objects.in_bulk(list(page.object_list))
        page.object_list = [loaded[pk] for pk in page.object_list]
    selectors.record_reads(
        access, [person.pk for person in page], what="person list", route="referrals:person-list"
    )
    return render(
        request,
        "referrals/people_list.html",
        {
            "access": access,
            "page": page,
            "query": query,
            "summary": selectors.network_people_summary(access)
            if access.role == NETWORK_ADMIN
            else None,
            "can_add": access.allows(Person, "add") and bool(access.organization_id),
        },
    )


@network_view
@members_only
def person_add(request, access):
    _require_partner(access, "add")
    form = PersonForm(request.POST or None, access=access)
    duplicates, hidden_duplicates = [], 0
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        identity = {key: fields.pop(key) for key in ("given_name", "family_name", "birth_date")}
        duplicates, hidden_duplicates = _visible_duplicates(access, identity)
        if (duplicates or hidden_duplicates) and not request.POST.get("confirmed"):
            selectors.record_reads(
                access,
                [p.pk for p, _ in duplicates],
                what="duplicate check",
                route="referrals:person-add",
            )
        else:
            try:
                person = people.person_create(access=access, **identity, **fields)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Added the person.")
                return redirect(_detail_url(access, person))
    return _person_form(
        request,
        access,
        form,
        heading="Add a person",
        cancel_url=reverse("referrals:person-list", args=[access.network.slug]),
        refused=bool(duplicates or hidden_duplicates),
        duplicates=duplicates,
        hidden_duplicates=hidden_duplicates,
    )


@network_view
@members_only
def person_edit(request, access, pk: int):
    _require_partner(access, "change")
    person = _served_person(access, pk, "person", "referrals:person-edit")
    form = PersonForm(request.POST or None, access=access, initial=PersonForm.initial_for(person))
    if request.method == "POST" and form.is_valid():
        try:
            people.person_update(access=access, person=person, **form.service_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Saved.")
            return redirect(_detail_url(access, person))
    return _person_form(
        request,
        access,
        form,
        heading=f"Edit {person.display_name}",
        cancel_url=_detail_url(access, person),
        person=person,
    )


def _person_form(request, access, form, *, heading, cancel_url, refused=False, **extra):
    """The add/edit page; 400 when a posted form is sent back (errors, or duplicates to
    confirm)."""
    context = {"access": access, "form": form, "heading": heading, "cancel_url": cancel_url}
    bad = form.is_bound and (bool(form.errors) or refused)
    return render(
        request, "referrals/people_form.html", {**context, **extra}, status=400 if bad else 200
    )


@network_view
@members_only
def person_detail(request, access, pk: int):
    access.require_allowed(Person, "view", "Client records are for partners' staff.")
    merged = Person.objects.filter(network=access.network, pk=pk, merged_into__isnull=False).first()
    if merged and selectors.may_see(access, merged.merged_into):
        return redirect(_detail_url(access, merged.merged_into))
    person = selectors.person_for_read(access, pk, what="person", route="referrals:person-detail")
    partner = access.allows(Person, "change") and bool(access.organization_id)
    serving = selectors.serves(access, person)
    return render(
        request,
        "referrals/people_detail.html",
        {
            "access": access,
            "person": person,
            "demographics": _demographics_display(person)
            if selectors.may_see(access, person, "demographics")
            else None,
            "consents": selectors.consents_for(access, person),
            "relationships": selectors.relationships_for(access, person),
            "referrals": selectors.referrals_for(access, person),
            "milestones": selectors.milestones_for(access, person),
            "can_change": partner and serving,
            "can_revoke": partner,
            "can_review_log": partner and serving,
            "today": timezone.localdate(),
        },
    )


@network_view
@members_only
def person_merge(request, access, pk: int):
    _require_partner(access, "add")
    kept = _served_person(access, pk, "merge", "referrals:person-merge")
    birth = datetime.date.fromisoformat(kept.birth_date)
    candidates, hidden = _visible_duplicates(
        access,
        {"given_name": kept.given_name, "family_name": kept.family_name, "birth_date": birth},
        exclude_pk=kept.pk,
    )
    selectors.record_reads(
        access, [p.pk for p, _ in candidates], what="merge", route="referrals:person-merge"
    )
    form = MergeForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        merged = next(p for p, _ in candidates if p.pk == form.cleaned_data["merged"])
        try:
            people.person_merge(
                access=access, kept=kept, merged=merged, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Merged record {merged.pk} into this one.")
            return redirect(_detail_url(access, kept))
    return render(
        request,
        "referrals/people_merge.html",
        {
            "access": access,
            "person": kept,
            "form": form,
            "candidates": candidates,
            "hidden": hidden,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@network_view
@members_only
def person_access_log(request, access, pk: int):
    access.require_allowed(
        Person, "change", "The access log is for the organizations serving the person."
    )
    person = _served_person(
        access,
        pk,
        "access log",
        "referrals:person-access-log",
        "The access log is for the organizations serving the person.",
    )
    page = Paginator(selectors.person_access_log(access, person), 100).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "referrals/people_access_log.html",
        {"access": access, "person": person, "page": page},
    )


# -- consent ------------------------------------------------------------------------------


@network_view
@members_only
def consent_add(request, access, pk: int):
    access.require_allowed(Consent, "add", "Consent is recorded by partners' staff.")
    person = _served_person(access, pk, "consent", "referrals:consent-add")
    form = ConsentForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            consents.consent_record(access=access, person=person, **form.service_fields())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Recorded the consent.")
            return redirect(_detail_url(access, person))
    return render(
        request,
        "referrals/consent_form.html",
        {
            "access": access,
            "person": person,
            "form": form,
            "organization": Organization.objects.filter(pk=access.organization_id).first(),
            "cancel_url": _detail_url(access, person),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _consent_for_change(access, pk: int, route: str) -> tuple[Consent, Person]:
    access.require_allowed(Consent, "change", "Consent is managed by partners' staff.")
    consent = access.get_object(Consent, pk=pk)
    person = selectors.person_for_read(access, consent.person_id, what="consent", route=route)
    return consent, person


@network_view
@members_only
def consent_revoke(request, access, pk: int):
    consent, person = _consent_for_change(access, pk, "referrals:consent-revoke")
    form = RevokeForm(request.POST or None)
    if consent.revoked_at:
        form = None
    elif request.method == "POST" and form.is_valid():
        try:
            consents.consent_revoke(access=access, consent=consent, note=form.cleaned_data["note"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The consent is revoked. It stops every disclosure now.")
            return redirect(_detail_url(access, person))
    return render(
        request,
        "referrals/consent_revoke.html",
        {"access": access, "person": person, "consent": consent, "form": form},
        status=400 if form is not None and form.is_bound and form.errors else 200,
    )


@network_view
@members_only
def consent_event(request, access, pk: int):
    consent, person = _consent_for_change(access, pk, "referrals:consent-event")
    error = ""
    if request.method == "POST":
        try:
            consents.consent_end_by_event(access=access, consent=consent)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Recorded that the event happened; the consent has ended.")
            return redirect(_detail_url(access, person))
    return render(
        request,
        "referrals/consent_event.html",
        {"access": access, "person": person, "consent": consent, "error": error},
        status=400 if error else 200,
    )
