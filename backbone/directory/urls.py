from django.urls import path

from backbone.directory import views

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
