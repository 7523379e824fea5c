from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "backbone.directory"
    label = "directory"
    verbose_name = "Service directory (Open Referral HSDS 3.0)"

    def ready(self) -> None:
        from backbone.directory import permissions  # noqa: F401
