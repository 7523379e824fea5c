from django.urls import path

from backbone.directory import views, views_web

app_name = "directory"

# The official HSDS 3.0 API paths under each network's base URL, `/hsds/<network>/`.
urlpatterns = [
    path("hsds/<slug:network_slug>/", views.root, name="hsds-root"),
    path("hsds/<slug:network_slug>/services", views.service_list, name="hsds-service-list"),
    path(
        "hsds/<slug:network_slug>/services/<str:hsds_id>",
        views.service_detail,
        name="hsds-service-detail",
    ),
    path(
        "hsds/<slug:network_slug>/service_at_locations",
        views.service_at_location_list,
        name="hsds-service-at-location-list",
    ),
    path(
        "hsds/<slug:network_slug>/service_at_locations/<str:hsds_id>",
        views.service_at_location_detail,
        name="hsds-service-at-location-detail",
    ),
    path(
        "hsds/<slug:network_slug>/organizations",
        views.organization_list,
        name="hsds-organization-list",
    ),
    path(
        "hsds/<slug:network_slug>/organizations/<str:hsds_id>",
        views.organization_detail,
        name="hsds-organization-detail",
    ),
    path("hsds/<slug:network_slug>/taxonomies", views.taxonomy_list, name="hsds-taxonomy-list"),
    path(
        "hsds/<slug:network_slug>/taxonomies/<str:hsds_id>",
        views.taxonomy_detail,
        name="hsds-taxonomy-detail",
    ),
    path(
        "hsds/<slug:network_slug>/taxonomy_terms",
        views.taxonomy_term_list,
        name="hsds-taxonomy-term-list",
    ),
    path(
        "hsds/<slug:network_slug>/taxonomy_terms/<str:hsds_id>",
        views.taxonomy_term_detail,
        name="hsds-taxonomy-term-detail",
    ),
]

# Web pages of the directory.
D = "n/<slug:network_slug>/directory"
urlpatterns += [
    path(f"{D}/", views_web.directory_search, name="directory-search"),
    path(f"{D}/services/<str:hsds_id>/", views_web.service_detail, name="service-detail"),
    path(f"{D}/services/<str:hsds_id>/edit/", views_web.listing_edit, name="listing-edit"),
    path(f"{D}/services/<str:hsds_id>/verify/", views_web.service_verify, name="service-verify"),
    path(f"{D}/services/<str:hsds_id>/list/", views_web.list_toggle, name="list-toggle"),
    path(f"{D}/list/", views_web.resource_list, name="list"),
    path(f"{D}/list/<str:token>/", views_web.resource_list_shared, name="list-shared"),
    path(f"{D}/changes/", views_web.change_list, name="change-list"),
    path(f"{D}/changes/<int:pk>/", views_web.change_detail, name="change-detail"),
    path(f"{D}/upload/", views_web.upload, name="upload"),
    path(f"{D}/upload/<int:pk>/", views_web.upload_detail, name="upload-detail"),
    path(f"{D}/upload/<int:pk>/progress/", views_web.upload_progress, name="upload-progress"),
]
