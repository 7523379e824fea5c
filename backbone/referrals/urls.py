"""Service coordination routes, all under /n/<network_slug>/ (see docs/referrals.md)."""

from django.urls import include, path

app_name = "referrals"

urlpatterns = [
    path("n/<slug:network_slug>/", include("backbone.referrals.urls_people")),
    path("n/<slug:network_slug>/", include("backbone.referrals.urls_workflow")),
    path("n/<slug:network_slug>/", include("backbone.referrals.urls_insights")),
    path("n/<slug:network_slug>/", include("backbone.referrals.urls_exchange")),
]
