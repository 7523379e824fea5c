from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "backbone.insights"
    label = "insights"
    verbose_name = "Insights: analytics, dashboards and the public report card"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backbone.insights import permissions  # noqa: F401
