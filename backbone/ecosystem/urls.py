app_name = "ecosystem"

urlpatterns = []
