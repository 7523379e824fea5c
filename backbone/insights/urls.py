from backbone.insights import urls_dashboards, urls_public

app_name = "insights"

urlpatterns = [*urls_dashboards.urlpatterns, *urls_public.urlpatterns]
