from django.apps import AppConfig


class EcosystemConfig(AppConfig):
    name = "backbone.ecosystem"
    label = "ecosystem"
    verbose_name = "Ecosystem of programs: gap map and designed referral pathways"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backbone.ecosystem import permissions  # noqa: F401
