from backbone.measurement import urls_entry, urls_import

app_name = "measurement"

urlpatterns = [*urls_entry.urlpatterns, *urls_import.urlpatterns]
