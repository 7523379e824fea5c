from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "backbone.governance"
    label = "governance"
    verbose_name = "Backbone support and governance"

    def ready(self) -> None:
        from backbone.governance import permissions  # noqa: F401
