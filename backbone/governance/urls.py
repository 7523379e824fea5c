from django.urls import path, reverse

from backbone.core.crud import Column, Crud
from backbone.governance import views
from backbone.governance.forms import WorkingGroupForm
from backbone.governance.models import WorkingGroup

app_name = "governance"

working_groups = Crud(
    model=WorkingGroup,
    form_class=WorkingGroupForm,
    entity="working-group",
    prefix="working-groups",
    title="Working groups",
    intro="Groups of partners that plan and carry out part of the shared work.",
    columns=[
        Column("Working group", lambda o: o.name, link=True),
        Column("Life stage", lambda o: o.life_stage or ""),
        Column("Chair", lambda o: o.chair or ""),
        Column("Organizations", lambda o: o.organizations.count()),
    ],
    search_fields=["name", "charter"],
    detail_url=lambda access, o: reverse(
        "governance:working-group-detail", args=[access.network.slug, o.pk]
    ),
)

urlpatterns = [
    *working_groups.urls("governance"),
    path(
        "n/<slug:network_slug>/working-groups/<int:pk>/",
        views.working_group_detail,
        name="working-group-detail",
    ),
]
