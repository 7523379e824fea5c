from django.urls import path

from backbone.core import views
from backbone.core.crud import Column, Crud
from backbone.core.forms import AreaForm, LifeStageForm
from backbone.core.models import Area, LifeStage

app_name = "core"

life_stages = Crud(
    model=LifeStage,
    form_class=LifeStageForm,
    entity="life-stage",
    prefix="life-stages",
    title="Life stages",
    intro="The continuum the network works along, in order (for example cradle to career).",
    columns=[
        Column("Order", lambda o: o.position),
        Column("Life stage", lambda o: o.name),
        Column("Description", lambda o: o.description),
    ],
)
areas = Crud(
    model=Area,
    form_class=AreaForm,
    entity="area",
    prefix="areas",
    title="Areas",
    intro="The network's geography: state, counties, cities, ZIP codes and census tracts.",
    columns=[
        Column("Code", lambda o: o.code),
        Column("Name", lambda o: o.name),
        Column("Kind", lambda o: o.get_kind_display()),
        Column("Inside", lambda o: o.parent.name if o.parent else ""),
        Column("Population", lambda o: o.population or ""),
    ],
    search_fields=["code", "name"],
    add_actions=[("Import areas from CSV", "core:area-import")],
)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("accounts/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("n/<slug:network_slug>/edit/", views.network_edit, name="network-edit"),
    path("n/<slug:network_slug>/people/", views.people, name="people"),
    path("n/<slug:network_slug>/people/<int:pk>/edit/", views.role_edit, name="role-edit"),
    path("n/<slug:network_slug>/people/<int:pk>/delete/", views.role_delete, name="role-delete"),
    path("n/<slug:network_slug>/people/invite/", views.invitation_create, name="invitation-create"),
    path(
        "n/<slug:network_slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("n/<slug:network_slug>/audit/", views.audit_log, name="audit-log"),
    path("n/<slug:network_slug>/audit/export.csv", views.audit_export, name="audit-export"),
    *life_stages.urls("core"),
    *areas.urls("core"),
]

from backbone.core import import_views  # noqa: E402

urlpatterns += [
    path("n/<slug:network_slug>/areas/import/", import_views.area_import, name="area-import"),
]
