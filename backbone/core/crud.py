"""List, add, edit and delete pages for simple network-owned models.

Every page goes through the model's access policy and the audited services, so a
resource declared here gets the permission rules and audit trail for free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.shortcuts import redirect, render
from django.urls import path, reverse

from backbone.core import services
from backbone.core.web import network_view


@dataclass
class Column:
    label: str
    value: Callable[[models.Model], object]
    link: bool = False


@dataclass
class Crud:
    model: type[models.Model]
    form_class: type
    entity: str  # URL name stem, e.g. "life-stage"
    prefix: str  # URL path, e.g. "life-stages"
    columns: list[Column]
    title: str
    intro: str = ""
    search_fields: list[str] = field(default_factory=list)
    detail_url: Callable[[str, models.Model], str] | None = None
    namespace: str = ""
    per_page: int = 50
    # More buttons beside "Add" for those who may add: (label, URL name taking the slug).
    add_actions: list[tuple[str, str]] = field(default_factory=list)

    def url(self, action: str, access, obj=None) -> str:
        kwargs = {"network_slug": access.network.slug}
        if obj is not None:
            kwargs["pk"] = obj.pk
        return reverse(f"{self.namespace}:{self.entity}-{action}", kwargs=kwargs)

    def urls(self, namespace: str) -> list:
        self.namespace = namespace
        return [
            path(
                f"n/<slug:network_slug>/{self.prefix}/",
                network_view(self.list_view),
                name=f"{self.entity}-list",
            ),
            path(
                f"n/<slug:network_slug>/{self.prefix}/new/",
                network_view(self.create_view),
                name=f"{self.entity}-create",
            ),
            path(
                f"n/<slug:network_slug>/{self.prefix}/<int:pk>/edit/",
                network_view(self.edit_view),
                name=f"{self.entity}-edit",
            ),
            path(
                f"n/<slug:network_slug>/{self.prefix}/<int:pk>/delete/",
                network_view(self.delete_view),
                name=f"{self.entity}-delete",
            ),
        ]

    def list_view(self, request, access):
        access.require_allowed(self.model)
        queryset = access.scope(self.model)
        query = request.GET.get("q", "").strip()
        if query and self.search_fields:
            condition = models.Q()
            for name in self.search_fields:
                condition |= models.Q(**{f"{name}__icontains": query})
            queryset = queryset.filter(condition)
        page = Paginator(queryset, self.per_page).get_page(request.GET.get("page"))
        rows = [
            {
                "object": obj,
                "cells": [(c.value(obj), c.link) for c in self.columns],
                "detail_url": self.detail_url(access, obj) if self.detail_url else None,
            }
            for obj in page
        ]
        return render(
            request,
            "core/crud_list.html",
            {
                "access": access,
                "crud": self,
                "page": page,
                "rows": rows,
                "query": query,
                "can_add": access.allows(self.model, "add"),
                "can_change": access.allows(self.model, "change"),
                "can_delete": access.allows(self.model, "delete"),
                "create_url": self.url("create", access),
                "add_actions": [
                    (label, reverse(name, args=[access.network.slug]))
                    for label, name in self.add_actions
                ],
                "edit_name": f"{self.namespace}:{self.entity}-edit",
                "delete_name": f"{self.namespace}:{self.entity}-delete",
            },
        )

    def create_view(self, request, access):
        access.require_add(self.model)
        form = self.form_class(request.POST or None, request.FILES or None, access=access)
        if request.method == "POST" and form.is_valid():
            try:
                obj = services.object_create(
                    access=access, model=self.model, fields=form.model_fields()
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Added {obj}.")
                return redirect(self.url("list", access))
        return self._form_page(request, access, form, f"Add {self.model._meta.verbose_name}")

    def edit_view(self, request, access, pk: int):
        obj = access.get_object(self.model, "change", pk=pk)
        form = self.form_class(
            request.POST or None, request.FILES or None, instance=obj, access=access
        )
        if request.method == "POST" and form.is_valid():
            try:
                obj = services.object_update(
                    access=access, instance=obj, fields=form.model_fields()
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Saved {obj}.")
                return redirect(self.url("list", access))
        return self._form_page(request, access, form, f"Edit {obj}", obj=obj)

    def delete_view(self, request, access, pk: int):
        obj = access.get_object(self.model, "delete", pk=pk)
        error = None
        if request.method == "POST":
            try:
                services.object_delete(access=access, instance=obj)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, f"Deleted {obj}.")
                return redirect(self.url("list", access))
        return render(
            request,
            "core/confirm_delete.html",
            {
                "access": access,
                "object": obj,
                "error": error,
                "cancel_url": self.url("list", access),
            },
        )

    def _form_page(self, request, access, form, heading, obj=None):
        return render(
            request,
            "core/form.html",
            {
                "access": access,
                "form": form,
                "heading": heading,
                "cancel_url": self.url("list", access),
                "delete_url": self.url("delete", access, obj)
                if obj is not None and access.can("delete", obj)
                else None,
            },
            status=400 if form.is_bound and form.errors else 200,
        )
