"""Data upload, templates and validation rules under /n/<network>/data/ (included by
measurement/urls.py)."""

from django.urls import path

from backbone.measurement import views_import as views

P = "n/<slug:network_slug>/data"

urlpatterns = [
    path(f"{P}/import/", views.import_job_create, name="import-job-create"),
    path(f"{P}/import/<int:pk>/", views.import_job_detail, name="import-job-detail"),
    path(f"{P}/import/<int:pk>/commit/", views.import_job_commit, name="import-job-commit"),
    path(
        f"{P}/assignments/<int:pk>/template.csv",
        views.assignment_template,
        {"extension": "csv"},
        name="assignment-template-csv",
    ),
    path(
        f"{P}/assignments/<int:pk>/template.xlsx",
        views.assignment_template,
        {"extension": "xlsx"},
        name="assignment-template-xlsx",
    ),
    *views.rules.urls("measurement"),
]
