from django.urls import path

from backbone.insights.public import publishing, report, views

urlpatterns = [
    path("n/<slug:network_slug>/report-card/", views.report_card, name="public-report-card"),
    path("n/<slug:network_slug>/report-card/method/", views.method, name="public-method"),
    path(
        "n/<slug:network_slug>/report-card/<slug:code>/",
        views.indicator_detail,
        name="public-indicator",
    ),
    path("n/<slug:network_slug>/open-data/values.csv", views.open_data_csv, name="public-csv"),
    path(
        "n/<slug:network_slug>/open-data/datapackage.json",
        views.open_data_descriptor,
        name="public-datapackage",
    ),
    path(
        "n/<slug:network_slug>/open-data/datapackage.zip",
        views.open_data_zip,
        name="public-datapackage-zip",
    ),
    path("n/<slug:network_slug>/report/<int:year>/", report.report_html, name="report-html"),
    path("n/<slug:network_slug>/report/<int:year>.pdf", report.report_pdf, name="report-pdf"),
    path("n/<slug:network_slug>/publishing/", publishing.publishing, name="publishing"),
    path(
        "n/<slug:network_slug>/publishing/story/",
        publishing.publishing_story,
        name="publishing-story",
    ),
]
