from django.contrib import admin
from django.urls import include, path

from backbone.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("", include("backbone.core.urls")),
    path("", include("backbone.partners.urls")),
    path("", include("backbone.governance.urls")),
    path("", include("backbone.framework.urls")),
    path("", include("backbone.directory.urls")),
    path("", include("backbone.measurement.urls")),
    path("", include("backbone.insights.urls")),
    path("", include("backbone.ecosystem.urls")),
    path("", include("backbone.referrals.urls")),
]
