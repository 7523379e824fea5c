from backbone.measurement import urls_entry, urls_framework, urls_import

app_name = "measurement"

urlpatterns = [*urls_framework.urlpatterns, *urls_entry.urlpatterns, *urls_import.urlpatterns]
