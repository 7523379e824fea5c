from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backbone.core"
    label = "core"
    verbose_name = "Backbone core"

    def ready(self) -> None:
        from backbone.core import permissions  # noqa: F401  (registers the core policies)
