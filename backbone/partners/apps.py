from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "backbone.partners"
    label = "partners"
    verbose_name = "Cross-sector partnerships"

    def ready(self) -> None:
        from backbone.partners import permissions  # noqa: F401
