from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from backbone.core.models import NetworkRole, Role

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/", "/healthz")


class RequireAdminMFAMiddleware:
    """Network admins must set up TOTP before they use the site.

    The API is exempt because tokens are created from a session that already passed
    this check.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.BACKBONE_REQUIRE_ADMIN_MFA
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and needs_mfa(user)
        ):
            return redirect(f"{reverse('mfa_activate_totp')}?required=1")
        return self.get_response(request)


def needs_mfa(user) -> bool:
    from allauth.mfa.models import Authenticator

    cache_key = "_backbone_needs_mfa"
    if not hasattr(user, cache_key):
        is_admin = (
            user.is_superuser
            or NetworkRole.objects.filter(user=user, role=Role.NETWORK_ADMIN).exists()
        )
        has_totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        setattr(user, cache_key, is_admin and not has_totp)
    return getattr(user, cache_key)
