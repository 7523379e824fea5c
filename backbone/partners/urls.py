from django.urls import path

from backbone.core.crud import Column, Crud
from backbone.partners import import_views, views
from backbone.partners.forms import ProspectAssessmentForm
from backbone.partners.models import ProspectAssessment

app_name = "partners"

prospects = Crud(
    model=ProspectAssessment,
    form_class=ProspectAssessmentForm,
    entity="prospect",
    prefix="prospects/assessments",
    title="Prospective partner assessments",
    intro="Scores from 1 to 5 for each prospective partner. The stakeholder matrix plots the "
    "latest assessment of each organization.",
    columns=[
        Column("Organization", lambda o: o.organization.name),
        Column("Assessed", lambda o: o.assessed_on),
        Column("Influence", lambda o: o.influence),
        Column("Alignment", lambda o: o.alignment),
        Column("Capacity", lambda o: o.capacity),
        Column("Reach", lambda o: o.reach),
        Column("Total", lambda o: o.total),
        Column("Quadrant", lambda o: o.quadrant),
    ],
    search_fields=["organization__name", "notes"],
)

N = "n/<slug:network_slug>"
ORG = f"{N}/organizations/<slug:organization_slug>"

urlpatterns = [
    path(f"{N}/partners/", views.partner_list, name="partner-list"),
    path(f"{N}/partners/new/", views.organization_create, name="organization-create"),
    path(f"{N}/partners/import/", import_views.partner_import, name="partner-import"),
    path(
        f"{N}/partners/import/template.csv",
        import_views.partner_import_template,
        name="partner-import-template",
    ),
    path(f"{ORG}/", views.organization_detail, name="organization-detail"),
    path(f"{ORG}/edit/", views.organization_edit, name="organization-edit"),
    path(f"{ORG}/membership/", views.membership_edit, name="membership-edit"),
    path(f"{ORG}/membership/remove/", views.membership_remove, name="membership-remove"),
    path(f"{ORG}/membership/agreement/", views.membership_agreement, name="membership-agreement"),
    path(f"{ORG}/identifiers/new/", views.identifier_create, name="identifier-create"),
    path(f"{ORG}/identifiers/<int:pk>/delete/", views.identifier_delete, name="identifier-delete"),
    path(f"{ORG}/readiness/new/", views.readiness_create, name="readiness-create"),
    path(f"{N}/readiness/", views.readiness_list, name="readiness-list"),
    path(f"{N}/readiness/<int:pk>/", views.readiness_detail, name="readiness-detail"),
    path(f"{N}/prospects/", views.stakeholder_matrix, name="stakeholder-matrix"),
    *prospects.urls("partners"),
]
