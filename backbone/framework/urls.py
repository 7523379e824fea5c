from django.urls import path

from backbone.framework import views

app_name = "framework"

urlpatterns = [
    path("", views.home, name="home"),
    path("n/<slug:network_slug>/", views.network_home, name="network-home"),
    path("n/<slug:network_slug>/framework/", views.framework_overview, name="overview"),
    path(
        "n/<slug:network_slug>/framework/<slug:element_slug>/", views.element_detail, name="element"
    ),
]
