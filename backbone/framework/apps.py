from django.apps import AppConfig


class FrameworkConfig(AppConfig):
    name = "backbone.framework"
    label = "framework"
    verbose_name = "Collective action framework"
