from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "backbone.referrals"
    verbose_name = "Service coordination"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backbone.referrals import permissions  # noqa: F401  (registers the policies)
