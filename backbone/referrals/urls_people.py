"""Routes of the referrals app: people and consent (included by urls.py under
/n/<network_slug>/).

People served live under `people-served/`: `/n/<slug>/people/` is the network's users and
roles (core:people)."""

from django.urls import path

from backbone.referrals import views_people as views

urlpatterns = [
    path("people-served/", views.person_list, name="person-list"),
    path("people-served/add/", views.person_add, name="person-add"),
    path("people-served/<int:pk>/", views.person_detail, name="person-detail"),
    path("people-served/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("people-served/<int:pk>/merge/", views.person_merge, name="person-merge"),
    path("people-served/<int:pk>/access-log/", views.person_access_log, name="person-access-log"),
    path("people-served/<int:pk>/consents/add/", views.consent_add, name="consent-add"),
    path("consents/<int:pk>/revoke/", views.consent_revoke, name="consent-revoke"),
    path("consents/<int:pk>/event/", views.consent_event, name="consent-event"),
]
