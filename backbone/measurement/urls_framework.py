from django.urls import path

from backbone.measurement import views_framework as views

urlpatterns = [
    path("n/<slug:network_slug>/results-framework/", views.framework_overview, name="framework"),
    path(
        "n/<slug:network_slug>/results-framework.yaml",
        views.framework_download,
        name="framework-download",
    ),
    path(
        "n/<slug:network_slug>/results-framework/import/",
        views.framework_upload,
        name="framework-upload",
    ),
]
for crud in views.CRUDS:
    urlpatterns += crud.urls("measurement")
