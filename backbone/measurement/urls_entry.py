"""Reporting pages under /n/<network>/data/ (included by measurement/urls.py)."""

from django.urls import path

from backbone.measurement import views_entry as views

P = "n/<slug:network_slug>/data"

urlpatterns = [
    path(f"{P}/assignments/", views.assignment_list, name="assignment-list"),
    path(f"{P}/assignments/new/", views.assignment_create, name="assignment-create"),
    path(f"{P}/assignments/<int:pk>/edit/", views.assignment_edit, name="assignment-edit"),
    path(f"{P}/reporting/", views.submission_list, name="submission-list"),
    path(f"{P}/review/", views.review_list, name="review-list"),
    path(f"{P}/submissions/<int:pk>/", views.submission_detail, name="submission-detail"),
    path(f"{P}/submissions/<int:pk>/edit/", views.submission_edit, name="submission-edit"),
    path(f"{P}/submissions/<int:pk>/review/", views.submission_review, name="submission-review"),
    path(f"{P}/completeness/", views.completeness_report, name="completeness-report"),
]
