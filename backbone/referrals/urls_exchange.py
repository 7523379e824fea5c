"""Routes of the referrals app: exchange (included by urls.py under /n/<network_slug>/)."""

from django.urls import path

from backbone.referrals import views_exchange as views

urlpatterns = [
    path("referrals/export.csv", views.referral_export, name="export"),
    path("referrals/import/", views.referral_import, name="import"),
    path("referrals/import/template.csv", views.referral_import_template, name="import-template"),
]
