from django.urls import path, register_converter

from backbone.insights import views_dashboards as views


class TableFormat:
    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ChartName(TableFormat):
    regex = "|".join(views.CHART_BUILDERS)


register_converter(TableFormat, "tableformat")
register_converter(ChartName, "chartname")

N = "n/<slug:network_slug>"
INDICATOR = f"{N}/indicators/<slug:code>"

urlpatterns = [
    path(f"{N}/scorecard/", views.scorecard, name="scorecard"),
    path(f"{N}/scorecard.<tableformat:fmt>", views.scorecard_download, name="scorecard-download"),
    path(f"{INDICATOR}/", views.indicator_detail, name="indicator-detail"),
    path(
        f"{INDICATOR}/data.<tableformat:fmt>",
        views.indicator_download,
        name="indicator-download",
    ),
    path(
        f"{INDICATOR}/chart-<chartname:chart>.png",
        views.indicator_chart_png,
        name="indicator-chart-download",
    ),
    path(
        f"{N}/partners/<slug:organization_slug>/dashboard/",
        views.partner_dashboard,
        name="partner-dashboard",
    ),
]
