from django.apps import AppConfig


class MeasurementConfig(AppConfig):
    name = "backbone.measurement"
    label = "measurement"
    verbose_name = "Collective performance measurement"

    def ready(self) -> None:
        from backbone.measurement import permissions  # noqa: F401
